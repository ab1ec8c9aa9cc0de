"""The public catalogue: search and the item page (一次告知)."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_search_finds_an_item_by_keyword_and_pinyin(client, item):
    for query in ("营业执照", "gtgsh", "个体工商户"):
        response = client.get(reverse("web:home"), {"q": query})
        assert response.status_code == 200
        assert item.name in response.content.decode(), query


def test_search_filters_by_city_and_mode(client, item):
    page = client.get(reverse("web:home"), {"city": "340100", "mode": "proxy_intake"}).content.decode()
    assert item.name in page
    assert "合肥市" in page
    assert "异地代收代办" in page
    page = client.get(reverse("web:home"), {"mode": "multi_site"}).content.decode()
    assert item.name not in page


def test_item_page_tells_everything_once(client, item):
    page = client.get(reverse("web:item", args=[item.implementation_code])).content.decode()
    for text in (
        "经营者身份证明",
        "经营场所使用证明",
        "委托书",
        "必需",
        "非必需",
        "原件",
        "复印件",
        "居民身份证正反面",
        "15 个工作日",
        "3 个工作日",
        "不收费",
        "《促进个体工商户发展条例》第八条",
        "网上提交",
        "合肥市政务服务中心二楼",
        "0551-12345",
        "全程网办",
    ):
        assert text in page, text
    assert reverse("web:apply", args=[item.implementation_code]) in page
    assert '<th scope="col">' in page


def test_unknown_item_is_a_404_page(client, item):
    response = client.get(reverse("web:item", args=["nope"]))
    assert response.status_code == 404
    assert "未找到" in response.content.decode()


def test_pages_have_a_skip_link_and_chinese_language(client, item):
    page = client.get(reverse("web:home")).content.decode()
    assert '<html lang="zh-Hans"' in page
    assert 'href="#main"' in page and 'id="main"' in page


def test_unknown_address_gets_the_portal_404_page(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "您要找的页面不存在" in response.content.decode()


def test_withdrawn_item_is_shown_without_the_apply_button(client, citizen_client, item):
    from tongban.catalogue.constants import ItemStatus

    type(item).objects.filter(pk=item.pk).update(status=ItemStatus.WITHDRAWN)
    page = client.get(reverse("web:item", args=[item.implementation_code])).content.decode()
    assert "该事项已撤销，不再受理申请。" in page
    assert reverse("web:apply", args=[item.implementation_code]) not in page
    response = citizen_client.get(reverse("web:apply", args=[item.implementation_code]))
    assert response.status_code == 409
    assert "该事项已撤销" in response.content.decode()
