"""一件事 as people use it: the list, the one form with its one declaration, the timeline with the
working days used and a warning near the promised time, withdrawal, the supervisors' share done on
time; and the same through the API."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.urls import path, reverse
from django.utils import timezone

from tests import factories as f
from tests.bundles import kit
from tongban.accounts.services import api_token_issue
from tongban.bundles.definitions import definition_save
from tongban.bundles.models import Bundle, BundleStep
from tongban.bundles.services import bundle_advance, bundle_submit, external_steps_run
from tongban.cases import services as case_services
from tongban.cases.models import Case
from tongban.catalogue.models import Material
from tongban.core import workdays
from tongban.web.forms import schema_field_name

pytestmark = pytest.mark.django_db

DECLARATION = "本人承诺所填信息真实有效，同意将申请信息分送各环节的办理部门"


@pytest.fixture
def world(settings, tmp_path):
    w = kit.world(settings, tmp_path)
    w["definition"] = definition_save(kit.definition())
    w["supervisor"] = f.staff(w["authority"], roles=("supervisor",))
    return w


def client_of(client, user):
    client.force_login(user)
    return client


def apply_url():
    return reverse("web:bundle_apply", args=["qykb-test"])


def post_data(form=None, *, consent=True, token=None) -> dict:
    data = {schema_field_name(k): str(v) for k, v in (form if form is not None else kit.FORM_DATA).items()}
    data["client_token"] = token or uuid.uuid4().hex
    if consent:
        data["consent"] = "on"
    return data


def submit(world, user=None):
    return bundle_submit(
        applicant=user or world["citizen"], definition_key="qykb-test", form_data=kit.FORM_DATA, consent=True
    )


def steps(bundle):
    return {s.key: s for s in BundleStep.objects.filter(bundle=bundle).select_related("case")}


def approve(world, case):
    case_services.case_accept(actor=world["reviewer"], number=case.number)
    case_services.case_decide(actor=world["reviewer"], number=case.number, approve=True, reason="符合条件")


def run_to_the_end(world, bundle):
    approve(world, steps(bundle)["registration"].case)
    bundle_advance(bundle.pk)
    external_steps_run()
    approve(world, steps(bundle)["seal"].case)
    bundle_advance(bundle.pk)
    approve(world, steps(bundle)["tax"].case)
    return bundle_advance(bundle.pk)


def working_days_ago(n: int) -> dt.datetime:
    """A moment whose date lies ``n`` working days (as the selectors count them) before today."""
    today = timezone.localdate()
    day = today
    while workdays.workdays_between(day, today) < n:
        day -= dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


def page(response) -> str:
    return response.content.decode()


# --- The list and the one form ---------------------------------------------------------------------------


def test_the_list_shows_each_bundle_with_its_steps_in_order_and_who_handles_them(client, world):
    text = page(client.get(reverse("web:bundles")))
    assert "企业开办" in text and "3 个工作日内全部办结" in text
    names = ["设立登记", "公章刻制", "银行开户预约", "涉税事项"]
    assert [text.index(n) for n in names] == sorted(text.index(n) for n in names)
    assert world["authority"].name in text and "合肥市" in text
    assert "在“公章刻制、银行开户预约”完成后自动开始" in text
    assert reverse("web:bundle_apply", args=["qykb-test"]) in text


def test_the_apply_page_renders_every_form_field_with_its_label_and_one_declaration(client, world):
    text = page(client_of(client, world["citizen"]).get(apply_url()))
    for prop, spec in kit.FORM["properties"].items():
        assert f'<label for="id_{schema_field_name(prop)}">{spec["title"]}' in text, prop
    # A later step needs the seal style and the bank: marked required though the schema is not.
    assert '<label for="id_f_seal_style">印章式样 <span class="req">（必填）' in text
    assert '<label for="id_f_bank_name">开户银行 <span class="req">（必填）' in text
    assert '<label for="id_f_taxpayer_kind">纳税人类型 <span' not in text
    assert text.count('type="checkbox"') == 1 and DECLARATION in text
    assert 'name="client_token"' in text and 'type="hidden"' in text
    assert 'type="file"' not in text  # the first step needs no files


def test_a_first_steps_required_material_is_uploaded_on_the_page_and_reaches_its_case(client, world):
    Material.objects.create(item=world["items"]["registration"], code="zc", name="公司章程", required=True)
    c = client_of(client, world["citizen"])
    assert 'type="file" name="m_registration__zc"' in page(c.get(apply_url()))

    refused = c.post(apply_url(), post_data())
    assert refused.status_code == 422
    assert 'id="id_m_registration__zc_error"' in page(refused) and Bundle.objects.count() == 0

    response = c.post(apply_url(), {**post_data(), "m_registration__zc": f.pdf("章程.pdf")})
    assert response.status_code == 302, page(response)[:3000]
    case = steps(Bundle.objects.get())["registration"].case
    assert [m.material.code for m in case.materials.all()] == ["zc"]


def test_without_the_declaration_nothing_is_written_and_the_box_says_why(client, world):
    response = client_of(client, world["citizen"]).post(apply_url(), post_data(consent=False))
    assert response.status_code == 422
    text = page(response)
    assert 'id="id_consent_error"' in text and "请勾选承诺" in text
    assert 'href="#id_consent"' in text  # the error summary points at the box
    assert Bundle.objects.count() == 0 and Case.objects.count() == 0


def test_a_field_a_later_step_needs_is_marked_next_to_that_field(client, world):
    form = {k: v for k, v in kit.FORM_DATA.items() if k != "seal_style"}
    response = client_of(client, world["citizen"]).post(apply_url(), post_data(form))
    assert response.status_code == 422
    text = page(response)
    assert 'id="id_f_seal_style_error"' in text and "公章刻制" in text
    assert 'value="合肥一件事科技有限公司"' in text  # what was typed comes back
    assert Bundle.objects.count() == 0


def test_submitting_makes_one_bundle_even_when_sent_twice_and_shows_its_timeline(client, world):
    c = client_of(client, world["citizen"])
    data = post_data(token="same-token-twice")
    first = c.post(apply_url(), data)
    again = c.post(apply_url(), data)
    bundle = Bundle.objects.get()
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"] == reverse("web:bundle", args=[bundle.number])
    assert bundle.form_data["registered_capital"] == 100
    mine = page(c.get(reverse("web:my_bundles")))
    assert bundle.number in mine and "办理中" in mine


def test_a_staff_account_cannot_apply_and_an_unknown_bundle_is_not_found(client, world):
    response = client_of(client, world["reviewer"]).get(apply_url())
    assert response.status_code == 403
    response = client_of(client, world["citizen"]).get(reverse("web:bundle_apply", args=["nothing"]))
    assert response.status_code == 404


# --- The timeline ------------------------------------------------------------------------------------------


def test_the_timeline_shows_every_step_its_case_and_what_it_waits_for(client, world):
    bundle = submit(world)
    text = page(client_of(client, world["citizen"]).get(reverse("web:bundle", args=[bundle.number])))
    case_number = steps(bundle)["registration"].case.number
    assert f'href="{reverse("web:case", args=[case_number])}"' in text
    for name in ("设立登记", "公章刻制", "银行开户预约", "涉税事项"):
        assert name in text
    assert "等待“设立登记”完成后自动开始" in text
    assert "已用 0 个工作日，承诺 3 个工作日内办结" in text
    assert "临近承诺时限" not in text and "已超过承诺时限" not in text
    assert "提交“企业开办”申请，签署承诺。" in text  # the history


def test_an_old_bundle_is_marked_at_risk_and_then_late(client, world):
    bundle = submit(world)
    c = client_of(client, world["citizen"])
    Bundle.objects.filter(pk=bundle.pk).update(submitted_at=working_days_ago(2))
    text = page(c.get(reverse("web:bundle", args=[bundle.number])))
    assert 'class="notice notice--warning" id="risk"' in text and "临近承诺时限" in text
    assert "已用 2 个工作日" in text

    Bundle.objects.filter(pk=bundle.pk).update(submitted_at=working_days_ago(5))
    text = page(c.get(reverse("web:bundle", args=[bundle.number])))
    assert 'class="notice notice--error" id="risk"' in text and "已超过承诺时限" in text


def test_a_finished_bundle_shows_the_new_uscc_and_only_the_end_of_the_bank_account(client, world):
    bundle = run_to_the_end(world, submit(world))
    assert bundle.status == "completed"
    text = page(client_of(client, world["citizen"]).get(reverse("web:bundle", args=[bundle.number])))
    uscc = bundle.outputs["registration"]["certificate_number"]
    account = bundle.outputs["bank"]["bank_account"]
    assert "统一社会信用代码" in text and uscc in text
    assert account not in text and account[:-4] not in text
    assert "**** **** **** " + account[-4:] in text
    assert reverse("web:certificate", args=[bundle.outputs["registration"]["certificate"]]) in text
    assert "撤回申请" not in text  # finished: nothing to withdraw


def test_a_refused_step_and_a_retried_bank_say_why_on_the_timeline(client, world, settings):
    bundle = submit(world)
    approve(world, steps(bundle)["registration"].case)
    bundle_advance(bundle.pk)
    settings.SIMBANK_FAIL_RATE = 1.0
    external_steps_run()
    seal = steps(bundle)["seal"].case
    case_services.case_reject_intake(actor=world["reviewer"], number=seal.number, reason="印模不清晰")
    bundle_advance(bundle.pk)
    text = page(client_of(client, world["citizen"]).get(reverse("web:bundle", args=[bundle.number])))
    assert "未获准予" in text and "原因：印模不清晰" in text
    assert "重试中" in text and "银行系统繁忙" in text and "系统将自动重试" in text
    assert "原因：前序环节“公章刻制”未能办结。" in text  # tax is blocked


def test_another_applicant_gets_not_found(client, world):
    bundle = submit(world)
    other = f.citizen(name="李四")
    c = client_of(client, other)
    assert c.get(reverse("web:bundle", args=[bundle.number])).status_code == 404
    assert c.post(reverse("web:bundle_withdraw", args=[bundle.number])).status_code == 404
    assert bundle.number not in page(c.get(reverse("web:my_bundles")))
    assert Bundle.objects.get(pk=bundle.pk).status == "running"


def test_withdrawing_asks_first_then_ends_what_has_not_finished(client, world):
    bundle = submit(world)
    c = client_of(client, world["citizen"])
    withdraw = reverse("web:bundle_withdraw", args=[bundle.number])
    assert withdraw in page(c.get(reverse("web:bundle", args=[bundle.number])))
    confirm = c.get(withdraw)
    assert "确认撤回" in page(confirm) and Bundle.objects.get(pk=bundle.pk).status == "running"
    response = c.post(withdraw, {"reason": "暂不开办"})
    assert response["Location"] == reverse("web:bundle", args=[bundle.number])
    assert Bundle.objects.get(pk=bundle.pk).status == "withdrawn"
    assert steps(bundle)["registration"].case.status == "withdrawn"
    text = page(c.get(response["Location"]))
    assert "已撤回" in text and "申请人撤回：暂不开办" in text and withdraw not in text


# --- Supervisors -------------------------------------------------------------------------------------------


def test_supervisors_see_the_share_done_on_time_and_the_bundles(client, world):
    on_time = run_to_the_end(world, submit(world))
    late = run_to_the_end(world, submit(world))
    Bundle.objects.filter(pk=late.pk).update(submitted_at=working_days_ago(6))
    running = submit(world)
    Bundle.objects.filter(pk=running.pk).update(submitted_at=working_days_ago(3))

    c = client_of(client, world["supervisor"])
    text = page(c.get(reverse("web:wb_bundles")))
    metrics = text[text.index('id="metrics"') : text.index("</table>")]
    # 2 completed, 1 within the promised time: 50 %; 1 open, and it is at risk.
    assert "<td>2</td>" in metrics and "<td>1</td>" in metrics and "50.0%" in metrics
    for b in (on_time, late, running):
        assert reverse("web:wb_bundle", args=[b.number]) in text
    assert "张三" in text and "已超过承诺时限" in text and "一件事督办" in text

    filtered = page(c.get(reverse("web:wb_bundles"), {"status": "running"}))
    listed = filtered[filtered.index('id="list-title"') :]
    assert running.number in listed and on_time.number not in listed

    detail = page(c.get(reverse("web:wb_bundle", args=[running.number])))
    case_number = steps(running)["registration"].case.number
    assert reverse("web:wb_case", args=[case_number]) in detail
    assert "撤回申请" not in detail


def test_the_supervision_list_reads_the_same_number_of_times_for_more_bundles(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client_of(client, world["supervisor"])
    submit(world)
    c.get(reverse("web:wb_bundles"))  # warm the per-process caches (working days, sessions)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(reverse("web:wb_bundles")).status_code == 200
        return len(ctx.captured_queries)

    one = queries()
    for _ in range(3):
        submit(world, f.citizen(name="王五"))
    assert queries() == one


def test_only_supervisors_open_the_supervision_pages(client, world):
    bundle = submit(world)
    for user in (world["reviewer"], world["citizen"]):
        c = client_of(client, user)
        assert c.get(reverse("web:wb_bundles")).status_code == 403
        assert c.get(reverse("web:wb_bundle", args=[bundle.number])).status_code == 403
    assert "一件事督办" not in page(client_of(client, world["reviewer"]).get(reverse("web:workbench")))


def test_nav_links(client, world):
    text = page(client.get(reverse("web:home")))
    assert reverse("web:bundles") in text and reverse("web:my_bundles") not in text
    text = page(client_of(client, world["citizen"]).get(reverse("web:home")))
    assert reverse("web:my_bundles") in text


# --- API (mounted here on a test API until api.py adds the router) -------------------------------------------


def _test_api_urls():
    from ninja import NinjaAPI

    from tongban.api.v1.api import api as real_api
    from tongban.api.v1.bundles import router

    test_api = NinjaAPI(urls_namespace="bundles-api-test", docs_url=None, openapi_url=None)
    # The real API's problem+json handlers, so errors look as they will once mounted.
    test_api._exception_handlers.update(real_api._exception_handlers)
    test_api.add_router("/bundles", router)
    return test_api.urls


urlpatterns = [path("api/v1/", _test_api_urls())]
api_urls = pytest.mark.urls(__name__)


def auth(user) -> dict:
    return {"HTTP_AUTHORIZATION": "Bearer " + api_token_issue(user=user, name="t")}


def post_json(client, url, body, user):
    return client.post(url, data=json.dumps(body), content_type="application/json", **auth(user))


@api_urls
def test_api_lists_definitions_without_signing_in(client, world):
    body = client.get("/api/v1/bundles/definitions").json()
    assert [d["key"] for d in body] == ["qykb-test"]
    d = body[0]
    assert [s["key"] for s in d["steps"]] == ["registration", "seal", "bank", "tax"]
    assert d["steps"][1]["after"] == ["设立登记"] and d["steps"][0]["authority"] == world["authority"].name
    assert d["materials_up_front"] == [] and d["target_workdays"] == 3


@api_urls
def test_api_submit_read_and_withdraw(client, world):
    body = {"key": "qykb-test", "form": kit.FORM_DATA, "consent": True, "client_token": "api-1"}
    r = post_json(client, "/api/v1/bundles", body, world["citizen"])
    assert r.status_code == 201, r.content
    number = r.json()["number"]
    assert {s["key"]: s["status"] for s in r.json()["steps"]}["registration"] == "in_progress"
    again = post_json(client, "/api/v1/bundles", body, world["citizen"])
    assert again.json()["number"] == number and Bundle.objects.count() == 1

    r = client.get(f"/api/v1/bundles/{number}", **auth(world["citizen"]))
    assert r.json()["elapsed_workdays"] == 0 and r.json()["risk"] == ""
    assert r.json()["events"][0]["action"] == "submit"
    assert [b["number"] for b in client.get("/api/v1/bundles", **auth(world["citizen"])).json()] == [number]
    other = f.citizen(name="李四")
    r = client.get(f"/api/v1/bundles/{number}", **auth(other))
    assert r.status_code == 404 and r["Content-Type"] == "application/problem+json"

    r = post_json(client, f"/api/v1/bundles/{number}/withdraw", {"reason": "不办了"}, world["citizen"])
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    r = post_json(client, f"/api/v1/bundles/{number}/withdraw", {}, world["citizen"])
    assert r.status_code == 409 and r.json()["code"] == "BUNDLE_NOT_WITHDRAWABLE"


@api_urls
def test_api_refuses_without_the_declaration_as_problem_json(client, world):
    body = {"key": "qykb-test", "form": kit.FORM_DATA}
    r = post_json(client, "/api/v1/bundles", body, world["citizen"])
    assert r.status_code == 422 and r["Content-Type"] == "application/problem+json"
    assert r.json()["code"] == "BUNDLE_CONSENT_REQUIRED"
    assert r.json()["errors"][0]["field"] == "consent"
    assert Bundle.objects.count() == 0


@api_urls
def test_api_metrics_are_for_supervisors(client, world):
    bundle = submit(world)
    Bundle.objects.filter(pk=bundle.pk).update(submitted_at=working_days_ago(2))
    r = client.get("/api/v1/bundles/metrics", **auth(world["citizen"]))
    assert r.status_code == 403
    r = client.get("/api/v1/bundles/metrics", **auth(world["supervisor"]))
    assert r.json() == [
        {
            "definition": "qykb-test",
            "name": "企业开办",
            "completed": 0,
            "on_time": 0,
            "percent": None,
            "open": 1,
            "at_risk": 1,
        }
    ]
