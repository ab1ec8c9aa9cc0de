"""Catalogue search and the selectors the portal, the workbench and the API read through."""

import uuid

import pytest
from django.db import connection

from tongban.accounts.constants import Role
from tongban.accounts.models import User
from tongban.catalogue import error_codes, search, selectors, services
from tongban.catalogue.constants import ItemStatus
from tongban.catalogue.models import ServiceItem
from tongban.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tongban.core.models import AuditEntry

pytestmark = pytest.mark.django_db

COMPANY = "内资有限公司设立登记"
HEFEI_COMPANY = "00020100100034010001"


def names(queryset):
    return [i.name for i in queryset]


@pytest.fixture
def catalogue_admin(db):
    return User.objects.create(username="catalogue-admin", kind="staff", roles=[Role.ADMIN])


def new_version(item: ServiceItem, *, status: str, **changes) -> ServiceItem:
    materials = list(item.materials.all())
    item.pk = None
    item.public_id = uuid.uuid4()
    item.version += 1
    item.status = status
    for key, value in changes.items():
        setattr(item, key, value)
    services.item_search_text_refresh(item)
    item.save()
    for m in materials:
        m.pk, m.item = None, item
        m.save()
    return item


# --- search text ---------------------------------------------------------------------------------


def test_search_text_holds_chinese_full_pinyin_and_initials_between_separators():
    text = search.search_text_for(name="营业执照遗失补领、换发", keywords=["营业执照"])
    assert text.startswith(
        "|营业执照遗失补领、换发|营业执照遗失补领换发|yingyezhizhaoyishibulinghuanfa|yyzzysblhf||"
    )
    assert "|营业执照|yingyezhizhao|yyzz|" in text


def test_heteronyms_take_the_reading_of_the_phrase():
    assert "|yinhangkaihu|" in search.search_text_for(name="银行开户")
    assert "|xingzhengxuke|" in search.search_text_for(name="行政许可")
    assert "|changsanjiaoyiwangtongban|" in search.search_text_for(name="长三角一网通办")


def test_queries_are_normalised_and_never_contain_the_separator():
    assert search.normalise_query("  Ying  Ye ") == ["yingye"]
    assert search.normalise_query("营业  执照") == ["营业", "执照"]
    assert search.normalise_query("ＹＹＺＺ") == ["yyzz"]
    assert search.normalise_query("a|b") == ["ab"]
    assert search.normalise_query(" | ") == []


# --- search --------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["yyzz", "yingye", "营业", "yingyezhizhao", "Ying Ye Zhi Zhao", "营业执照"])
def test_licence_queries_find_every_limited_company_registration(reference_data, query):
    found = names(selectors.item_search(query=query))
    assert found.count(COMPANY) == ServiceItem.objects.filter(name=COMPANY).count() == 7


def test_pinyin_and_initials_of_the_name_find_it(reference_data):
    assert set(names(selectors.item_search(query="hukouqianyi"))) == {"户口迁移（准予迁入）"}
    assert set(names(selectors.item_search(query="wfzjlzm"))) == {"无犯罪记录证明"}
    assert names(selectors.item_search(query="no such thing")) == []


def test_exact_name_ranks_first_then_names_starting_with_the_query(reference_data):
    exact = list(selectors.item_search(query="取水许可"))
    assert [i.search_rank for i in exact] == [search.RANK_EXACT_NAME] * 5
    by_prefix = names(selectors.item_search(query="营业"))
    licence = "营业执照遗失补领、换发"
    first_other = next(i for i, n in enumerate(by_prefix) if n != licence)
    assert set(by_prefix[:first_other]) == {licence}
    assert licence not in by_prefix[first_other:]
    assert names(selectors.item_search(query="yyzz"))[0] == licence  # the name's initials start with it


def test_ranking_ties_are_ordered_by_name_then_city(reference_data):
    rows = [(i.search_rank, i.name, i.city_code) for i in selectors.item_search(query="gjj")]
    assert rows == sorted(rows)


def test_city_filter_keeps_only_that_city(reference_data):
    items = list(selectors.item_search(city_code="341000"))
    assert len(items) == 14 and {i.city_code for i in items} == {"341000"}
    shanghai = names(selectors.item_search(query="yyzz", city_code="310000"))
    assert shanghai.count(COMPANY) == 2  # 上海市 and 松江区


def test_mode_and_subject_filters(reference_data):
    joint = list(selectors.item_search(mode="multi_site"))
    assert {i.name for i in joint} == {"户口迁移（准予迁入）"} and len(joint) == 6
    online = names(selectors.item_search(mode="full_online", city_code="340100"))
    assert COMPANY in online and "户口迁移（准予迁入）" not in online and "普通护照签发" not in online
    enterprise = list(selectors.item_search(subject_type="enterprise"))
    assert enterprise and all("enterprise" in i.subject_types for i in enterprise)
    assert "无犯罪记录证明" not in {i.name for i in enterprise}


@pytest.mark.parametrize(
    ("filters", "code"),
    [
        ({"mode": "by_pigeon"}, error_codes.UNKNOWN_MODE),
        ({"city_code": "340000"}, error_codes.UNKNOWN_CITY),  # a province, not a city
        ({"city_code": "340111"}, error_codes.UNKNOWN_CITY),  # a district
        ({"city_code": "hefei"}, error_codes.UNKNOWN_CITY),
        ({"subject_type": "alien"}, error_codes.UNKNOWN_SUBJECT_TYPE),
    ],
)
def test_unknown_filter_values_are_invalid_input(db, filters, code):
    with pytest.raises(InvalidInput) as exc:
        selectors.item_search(**filters)
    assert exc.value.code == code


def test_empty_filters_mean_any(reference_data):
    assert selectors.item_search(city_code="", mode="", subject_type="").count() == reference_data.items


def test_item_search_query_count_does_not_grow_with_rows(reference_data, django_assert_max_num_queries):
    # one query without a search term; with one, one per ranking tier (names starting with it, others)
    for kwargs, queries in (
        ({}, 1),
        ({"query": "营业"}, 2),
        ({"query": "yyzz", "mode": "proxy_intake", "subject_type": "enterprise"}, 2),
    ):
        with django_assert_max_num_queries(queries):
            rows = list(selectors.item_search(**kwargs))
            labels = [(i.authority.name, i.region.name) for i in rows]
        assert labels


# --- versions and withdrawal ---------------------------------------------------------------------


def test_withdrawn_item_leaves_search_and_is_refused_for_application(reference_data, catalogue_admin):
    item = selectors.item_get(implementation_code=HEFEI_COMPANY)
    services.item_withdraw(item=item, actor=catalogue_admin, reason="职能调整")

    assert item.status == ItemStatus.WITHDRAWN
    assert HEFEI_COMPANY not in {i.implementation_code for i in selectors.item_search(query="yyzz")}
    assert HEFEI_COMPANY in {
        i.implementation_code for i in selectors.item_search(query="yyzz", include_withdrawn=True)
    }
    assert selectors.item_get(implementation_code=HEFEI_COMPANY).status == ItemStatus.WITHDRAWN
    with pytest.raises(Conflict) as exc:
        selectors.item_get_for_application(implementation_code=HEFEI_COMPANY)
    assert (exc.value.code, exc.value.message) == (error_codes.ITEM_WITHDRAWN, "该事项已撤销，不再受理申请。")
    entry = AuditEntry.objects.get(action="catalogue.withdraw")
    assert entry.actor_id == catalogue_admin.pk
    assert entry.data["implementation_code"] == HEFEI_COMPANY and entry.data["reason"] == "职能调整"


def test_withdrawing_twice_is_a_conflict(reference_data, catalogue_admin):
    item = selectors.item_get(implementation_code=HEFEI_COMPANY)
    services.item_withdraw(item=item, actor=catalogue_admin)
    with pytest.raises(Conflict) as exc:
        services.item_withdraw(item=item, actor=catalogue_admin)
    assert exc.value.code == error_codes.ITEM_WITHDRAWN


def test_only_catalogue_admins_withdraw_or_publish(reference_data):
    clerk = User.objects.create(username="clerk", kind="staff", roles=[Role.WINDOW_CLERK])
    item = selectors.item_get(implementation_code=HEFEI_COMPANY)
    for action in (services.item_withdraw, services.item_publish):
        with pytest.raises(Forbidden) as exc:
            action(item=item, actor=clerk)
        assert exc.value.code == error_codes.CATALOGUE_ADMIN_REQUIRED
    assert selectors.item_get(implementation_code=HEFEI_COMPANY).status == ItemStatus.PUBLISHED
    assert not AuditEntry.objects.filter(action__startswith="catalogue.").exists()


def test_a_published_new_version_replaces_the_old_one_and_a_draft_hides_nothing(
    reference_data, catalogue_admin
):
    old = selectors.item_get(implementation_code=HEFEI_COMPANY)
    draft = new_version(old, status=ItemStatus.DRAFT, promised_limit_days=2)
    assert selectors.item_get(implementation_code=HEFEI_COMPANY).version == 1

    services.item_publish(item=draft, actor=catalogue_admin)

    current = selectors.item_get_for_application(implementation_code=HEFEI_COMPANY)
    assert (current.version, current.promised_limit_days) == (2, 2)
    hefei = [i for i in selectors.item_search(query="yyzz", city_code="340100") if i.name == COMPANY]
    assert [(i.implementation_code, i.version) for i in hefei] == [(HEFEI_COMPANY, 2)]
    assert selectors.item_materials(current)  # the new version has its own materials
    assert AuditEntry.objects.filter(action="catalogue.publish", data__version=2).exists()


def test_publishing_an_already_published_item_is_a_conflict(reference_data, catalogue_admin):
    item = selectors.item_get(implementation_code=HEFEI_COMPANY)
    with pytest.raises(Conflict) as exc:
        services.item_publish(item=item, actor=catalogue_admin)
    assert exc.value.code == error_codes.ITEM_ALREADY_PUBLISHED


def test_publishing_refuses_an_invalid_form_schema(reference_data, catalogue_admin):
    draft = new_version(
        selectors.item_get(implementation_code=HEFEI_COMPANY),
        status=ItemStatus.DRAFT,
        form_schema={"type": "object", "properties": {"x": {"type": "strnig", "title": "某项"}}},
    )
    with pytest.raises(InvalidInput) as exc:
        services.item_publish(item=draft, actor=catalogue_admin)
    assert exc.value.code == error_codes.INVALID_FORM_SCHEMA
    assert ServiceItem.objects.get(pk=draft.pk).status == ItemStatus.DRAFT


def test_unknown_item_is_not_found(db):
    with pytest.raises(NotFound) as exc:
        selectors.item_get(implementation_code="00000000000000000000")
    assert exc.value.code == error_codes.ITEM_NOT_FOUND


# --- other selectors -----------------------------------------------------------------------------


def test_cities_with_items_are_the_six_cities_in_code_order(reference_data, catalogue_admin):
    assert [r.code for r in selectors.cities_with_items()] == [
        "310000",
        "320100",
        "330100",
        "340100",
        "340600",
        "341000",
    ]
    for item in ServiceItem.objects.filter(city_code="340600"):
        services.item_withdraw(item=item, actor=catalogue_admin)
    assert "340600" not in [r.code for r in selectors.cities_with_items()]


def test_item_materials_come_in_the_order_they_are_told(reference_data):
    item = selectors.item_get(implementation_code=HEFEI_COMPANY)
    materials = selectors.item_materials(item)
    assert [m.sort for m in materials] == list(range(1, len(materials) + 1))
    assert materials[0].name == "公司登记（备案）申请书"
    assert {m.code for m in materials if not m.required} >= {"prior_approval", "agent_authorisation"}


def test_admin_save_recomputes_city_and_search_text(reference_data, rf, admin_user):
    from django.contrib.admin.sites import site

    item = selectors.item_get(implementation_code=HEFEI_COMPANY)
    item.keywords = [*item.keywords, "一照通"]
    request = rf.post("/")
    request.user = admin_user
    site._registry[ServiceItem].save_model(request, item, form=None, change=True)
    item.refresh_from_db()
    assert "|yizhaotong|yzt|" in item.search_text
    assert item.city_code == "340100"


def test_admin_changelist_searches_pinyin_and_filters(reference_data, admin_client):
    response = admin_client.get("/admin/catalogue/serviceitem/", {"q": "yyzz", "city_code": "340100"})
    assert response.status_code == 200
    assert COMPANY in response.content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index exists on PostgreSQL only")
def test_postgresql_has_a_trigram_index_on_search_text(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'catalogue_serviceitem' "
            "AND indexname = 'catalogue_item_search_text_trgm'"
        )
        (definition,) = cursor.fetchone()
    assert "gin" in definition and "gin_trgm_ops" in definition


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index exists on PostgreSQL only")
def test_postgresql_serves_a_contains_query_from_the_trigram_index(reference_data):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalogue_serviceitem")
        cursor.execute("SET LOCAL enable_seqscan = off")  # 100 rows: the planner would rather scan
    plan = ServiceItem.objects.filter(search_text__contains="yingye").order_by().explain()
    assert "catalogue_item_search_text_trgm" in plan


def test_admin_withdraw_action_goes_through_the_audited_service(reference_data, admin_client, admin_user):
    item = selectors.item_get(implementation_code=HEFEI_COMPANY)
    response = admin_client.post(
        "/admin/catalogue/serviceitem/", {"action": "withdraw_selected", "_selected_action": [item.pk]}
    )
    assert response.status_code == 302
    assert ServiceItem.objects.get(pk=item.pk).status == ItemStatus.WITHDRAWN
    assert AuditEntry.objects.get(action="catalogue.withdraw").actor_id == admin_user.pk
