"""Language switch and 适老化 large-text mode."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_large_text_toggle_stays_on_across_pages(client, item):
    home = reverse("web:home")
    assert 'class="large-text"' not in client.get(home).content.decode()
    response = client.post(reverse("web:set_large_text"), {"large_text": "1", "next": home})
    assert response.status_code == 302 and response["Location"] == home
    assert client.cookies["tongban_large_text"].value == "1"
    for url in (home, reverse("web:item", args=[item.implementation_code])):
        page = client.get(url).content.decode()
        assert 'class="large-text"' in page
        assert 'aria-pressed="true"' in page
    client.post(reverse("web:set_large_text"), {"large_text": "0", "next": home})
    assert 'class="large-text"' not in client.get(home).content.decode()


def test_large_text_is_kept_on_the_account_of_a_signed_in_user(citizen, citizen_client):
    citizen_client.post(reverse("web:set_large_text"), {"large_text": "1"})
    citizen.refresh_from_db()
    assert citizen.large_text is True
    # Another browser, no cookie: the account's choice applies.
    other = Client()
    other.force_login(citizen)
    assert 'class="large-text"' in other.get(reverse("web:my_cases")).content.decode()


def test_english_switch_changes_labels(client, item, english_catalogue):
    home = reverse("web:home")
    page = client.get(home).content.decode()
    assert "搜索" in page and "办事指南" in page
    client.post(reverse("web:set_language"), {"language": "en", "next": home})
    page = client.get(home).content.decode()
    assert '<html lang="en"' in page
    assert "Search" in page and "Service guide" in page
    assert "办事指南" not in page
    page = client.get(reverse("web:item", args=[item.implementation_code])).content.decode()
    assert "Required materials" in page
    client.post(reverse("web:set_language"), {"language": "zh-hans", "next": home})
    assert "办事指南" in client.get(home).content.decode()


def test_preferences_refuse_a_redirect_to_another_site(client):
    response = client.post(
        reverse("web:set_large_text"), {"large_text": "1", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("web:home")
