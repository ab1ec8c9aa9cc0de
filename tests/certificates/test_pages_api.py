"""Certificates in the pages and the API: the holder's certificates, the picker with preview and
consent, verification for anyone, the issuer's status actions; access decided in one place."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests import factories as f
from tests.certificates import kit
from tongban.accounts.services import api_token_issue
from tongban.catalogue.models import Material
from tongban.certificates.models import CertificateStatusEvent, CertificateUse
from tongban.certificates.selectors import invalidate_status_cache

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    invalidate_status_cache()
    _, authority = kit.node(settings, tmp_path)
    citizen = f.citizen(name="赵六")
    card = kit.issue(authority, type_key="sbk", holder_id=citizen.id_number, holder_name="赵六")
    yield {"authority": authority, "citizen": citizen, "card": card, "reviewer": f.staff(authority)}
    invalidate_status_cache()


def bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": "Bearer " + api_token_issue(user=user, name="t")}


def test_holder_sees_their_certificates_with_the_id_number_masked(client, world):
    client.force_login(world["citizen"])
    page = client.get(reverse("web:certificates")).content.decode()
    assert "社会保障卡" in page and "有效" in page
    detail = client.get(reverse("web:certificate", args=[world["card"].identifier])).content.decode()
    assert world["card"].identifier in detail
    assert world["citizen"].id_number not in detail
    assert world["citizen"].id_number[:4] + "**********" + world["citizen"].id_number[-4:] in detail


def test_someone_else_gets_not_found_for_a_certificate(client, world):
    client.force_login(f.citizen())
    assert client.get(reverse("web:certificate", args=[world["card"].identifier])).status_code == 404
    response = client.get(f"/api/v1/certificates/{world['card'].identifier}/credential")
    assert response.status_code == 404
    assert response.json()["code"] == "CERT_NOT_FOUND"


def test_selective_disclosure_download_shows_only_the_chosen_fields(client, world):
    client.force_login(world["citizen"])
    response = client.get(
        reverse("web:certificate", args=[world["card"].identifier]), {"fields": ["holder_name"]}
    )
    assert response["Content-Disposition"].startswith("attachment")
    text = response.content.decode()
    assert len(text.split("~")) == 3  # the issuer-signed part, one disclosure, the end
    verdict = client.post(
        "/api/v1/certificates/verify", {"text": text}, content_type="application/json"
    ).json()
    assert verdict["valid"] is True and verdict["identifier"] == world["card"].identifier


def test_the_verify_page_says_why_a_certificate_is_refused(client, world):
    ok = client.post(reverse("web:certificate_verify"), {"text": world["card"].credential}).content.decode()
    assert "核验通过" in ok
    changed = world["card"].credential.replace("~", "~x", 1)
    refused = client.post(reverse("web:certificate_verify"), {"text": changed}).content.decode()
    assert "核验未通过" in refused and "CERT_" in refused
    empty = client.post(reverse("web:certificate_verify"), {})
    assert empty.status_code == 422


def test_verify_api_never_fails_on_bad_input(client, world):
    for text in ("garbage", "a.b.c~", world["card"].credential[:-30], "~" * 500):
        body = client.post("/api/v1/certificates/verify", {"text": text}, content_type="application/json")
        assert body.status_code == 200
        assert body.json()["valid"] is False and body.json()["code"].startswith("CERT_")
    bad_pdf = client.post(
        "/api/v1/certificates/verify", {"pdf_base64": "!!"}, content_type="application/json"
    )
    assert bad_pdf.status_code == 422


def test_issuer_revokes_in_the_workbench_and_the_holder_sees_it(client, world):
    client.force_login(world["reviewer"])
    page = client.get(reverse("web:wb_certificate", args=[world["card"].identifier])).content.decode()
    assert "撤销" in page
    url = reverse("web:wb_certificate_status", args=[world["card"].identifier, "revoke"])
    assert client.post(url, {"revoke-reason": ""}).status_code == 422
    assert client.post(url, {"revoke-reason": "持证人申请注销"}).status_code == 302
    assert CertificateStatusEvent.objects.filter(certificate=world["card"], action="revoke").exists()
    client.force_login(world["citizen"])
    invalidate_status_cache()
    assert "已撤销" in client.get(reverse("web:certificates")).content.decode()


def test_a_holder_cannot_change_status(client, world):
    response = client.post(
        f"/api/v1/certificates/{world['card'].identifier}/revoke",
        {"reason": "x"},
        content_type="application/json",
        **bearer(world["citizen"]),
    )
    assert response.status_code == 403 and response.json()["code"] == "CERT_NOT_ISSUER"
    stranger = client.post(
        f"/api/v1/certificates/{world['card'].identifier}/revoke",
        {"reason": "x"},
        content_type="application/json",
        **bearer(f.citizen()),
    )
    assert stranger.status_code == 404  # someone who cannot see it does not learn that it exists


def test_api_issues_lists_and_suspends(client, world):
    auth = bearer(world["reviewer"])
    holder = f.id_number()
    created = client.post(
        "/api/v1/certificates",
        {
            "type": "jszz",
            "holder_name": "钱七",
            "holder_id_type": "ric",
            "holder_id": holder,
            "data": {"vehicle_class": "C1"},
        },
        content_type="application/json",
        **auth,
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["number"] != holder and body["number"].endswith(holder[-4:])  # masked
    bad = client.post(
        "/api/v1/certificates",
        {"type": "jszz", "holder_name": "钱七", "holder_id_type": "ric", "holder_id": "123", "data": {}},
        content_type="application/json",
        **auth,
    )
    assert bad.status_code == 422 and bad.json()["code"] == "CERT_FIELDS_INVALID"
    suspended = client.post(
        f"/api/v1/certificates/{body['identifier']}/suspend",
        {"reason": "核查"},
        content_type="application/json",
        **auth,
    )
    assert suspended.json()["status"] == "suspended"
    mine = client.get("/api/v1/certificates", **bearer(world["citizen"])).json()
    assert [c["identifier"] for c in mine] == [world["card"].identifier]


def test_status_list_is_published_for_other_nodes(client, world):
    token = client.get("/api/v1/certificates/status-list").content.decode()
    assert token.count(".") == 2


def test_apply_page_offers_the_certificate_with_a_preview_and_asks_for_consent(client, world):
    item = f.item(world["authority"], materials=(("sqs", "申请书", True),))
    Material.objects.create(
        item=item, code="ssc", name="社会保障卡", required=True, certificate_type="sbk", sort=9
    )
    client.force_login(world["citizen"])
    url = reverse("web:apply", args=[item.implementation_code])
    page = client.get(url).content.decode()
    assert "使用电子证照" in page and "预览将提供给审批部门的信息" in page and "第三代社会保障卡" not in page
    form = {
        "client_token": "t1",
        "f_company_name": "合肥通办科技有限公司",
        "f_capital": "100",
        "m_sqs": f.pdf(),
    }
    refused = client.post(url, {**form, "c_ssc": world["card"].identifier})
    assert refused.status_code == 422 and "确认授权" in refused.content.decode()
    done = client.post(
        url, {**form, "m_sqs": f.pdf(), "c_ssc": world["card"].identifier, "c_ssc_consent": "on"}
    )
    assert done.status_code == 302, done.content.decode()[:2000]
    use = CertificateUse.objects.get()
    case_page = client.get(reverse("web:case", args=[use.case.number])).content.decode()
    assert "免提交" in case_page and use.identifier in case_page and "核验通过" in case_page


def test_api_types_list_the_reference_types(client, world):
    keys = {t["key"] for t in client.get("/api/v1/certificates/types").json()}
    assert {"yyzz", "sbk", "xwzs", "qsxk", "jszz", "wfzjl", "hkb"} <= keys
    assert json.dumps(keys, default=list)
