"""Plan pages: list, structure, import (upload → preview → save) and assignment, as each role sees them."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from tests.plans.import_fixtures import PASSWORD, SEED, paren_plan, pdf_bytes, seed_bytes, xlsx_bytes
from tongban.plans.models import AssignmentEvent, Plan, PlanTask, TaskAssignment

pytestmark = pytest.mark.django_db
pytest_plugins = ("tests.plans.import_fixtures",)


def login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_url_names():
    assert reverse("web:plans") == "/plans/"
    assert reverse("web:plan", args=["hefei-yrd-2020"]) == "/plans/hefei-yrd-2020/"
    assert reverse("web:plan_import") == "/plans/import/"
    assert reverse("web:plan_assign", args=["x"]) == "/plans/x/assign/"


def test_import_upload_preview_then_save(office, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    client = login(office)
    r = client.get(reverse("web:plan_import"))
    assert r.status_code == 200 and "方案文件" in r.content.decode()
    r = client.post(reverse("web:plan_import"), {"file": SimpleUploadedFile(SEED.name, seed_bytes())})
    html = r.content.decode()
    assert r.status_code == 200
    assert "<dt>任务</dt><dd>210</dd>" in html and "<dt>专栏</dt><dd>19</dd>" in html
    assert "研发投入强度" in html and "达到省考核要求" in html
    assert "专栏6疑似文字错乱" in html and "不属于方案" in html
    assert not Plan.objects.exists()
    token = r.context["form"].initial["token"]
    r = client.post(
        reverse("web:plan_import"), {"token": token, "code": "hefei", "title": "", "frequency": "monthly"}
    )
    assert r.status_code == 302 and r["Location"] == "/plans/hefei/"
    plan = Plan.objects.get(code="hefei")
    assert plan.created_by == office and plan.frequency == "monthly" and plan.tasks.count() == 210
    assert not list((tmp_path / "plan-previews").iterdir())  # the waiting upload is removed
    r = client.get("/plans/hefei/")
    html = r.content.decode()
    assert "科创一体化" in html and "专栏19" in html and "5G网络覆盖率" in html and "确保2019年底前" in html


def test_reimport_from_the_page(office, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    client = login(office)
    r = client.post(
        reverse("web:plan_import"), {"file": SimpleUploadedFile("p.pdf", pdf_bytes(paren_plan().split("\n")))}
    )
    client.post(
        reverse("web:plan_import"),
        {"token": r.context["form"].initial["token"], "code": "p", "frequency": "quarterly"},
    )
    amended = paren_plan(tasks={2: ""}).encode()
    r = client.post(reverse("web:plan_import"), {"file": SimpleUploadedFile("p2.txt", amended), "plan": "p"})
    assert "重新导入方案 p" in r.content.decode()
    r = client.post(
        reverse("web:plan_import"),
        {"token": r.context["form"].initial["token"], "frequency": "quarterly"},
        follow=True,
    )
    assert "移出 1 项" in r.content.decode()
    assert Plan.objects.get(code="p").version == 2
    assert PlanTask.objects.get(plan__code="p", number=2).removed_at is not None


def test_bad_upload_shows_the_error_and_saves_nothing(office, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    r = login(office).post(
        reverse("web:plan_import"), {"file": SimpleUploadedFile("x.txt", "普通通知。".encode())}
    )
    assert r.status_code == 200 and "PLAN_NO_STRUCTURE" in r.content.decode()
    assert not Plan.objects.exists()


def test_stale_or_forged_token_is_refused(office, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    r = login(office).post(
        reverse("web:plan_import"), {"token": "0" * 64, "code": "x", "frequency": "quarterly"}, follow=True
    )
    assert "预览已失效" in r.content.decode() and not Plan.objects.exists()


def test_roles_on_plan_pages(seed_plan, office, reporter, supervisor, units):
    for user in (reporter, supervisor):
        assert login(user).get(reverse("web:plan_import")).status_code == 403
        assert login(user).get(reverse("web:plan_assign", args=[seed_plan.code])).status_code == 403
    assert login(supervisor).get(reverse("web:plan", args=[seed_plan.code])).status_code == 200
    # A reporter whose unit has no task in the plan does not see it.
    assert login(reporter).get(reverse("web:plan", args=[seed_plan.code])).status_code == 404
    assert login(reporter).get(reverse("web:plans")).status_code == 403
    assert Client().get(reverse("web:plans")).status_code == 302
    page = login(office).get(reverse("web:plans")).content.decode()
    assert "合肥市推动长三角地区更高质量一体化发展重点工作推进方案" in page and "导入方案" in page


def test_assign_by_part_by_task_and_excel(seed_plan, office, units, reporter):
    client = login(office)
    url = reverse("web:plan_assign", args=[seed_plan.code])
    assert "按部分（领域）分配" in client.get(url).content.decode()
    r = client.post(
        url,
        {"action": "part", "p-part": 4, "p-lead": "合肥市交通运输局", "p-co": "合肥市发展和改革委员会"},
        follow=True,
    )
    assert "已为 20 项任务指定责任单位" in r.content.decode()
    r = client.post(
        url, {"action": "task", "t-number": 1, "t-lead": units["kjj"].uscc, "t-co": ""}, follow=True
    )
    assert "已更新任务(1)的责任单位" in r.content.decode()
    assert login(reporter).get(reverse("web:plan", args=[seed_plan.code])).status_code == 200  # now assigned
    r = client.post(url, {"action": "task", "t-number": 1, "t-lead": "无此单位", "t-co": ""})
    assert r.status_code == 200 and "PLAN_UNIT_UNKNOWN" in r.content.decode()
    r = client.get(reverse("web:plan_assign_template", args=[seed_plan.code]))
    assert load_workbook(io.BytesIO(r.content))["责任分工"]["D2"].value == "合肥市科学技术局"
    bad = xlsx_bytes([[2, "", "", "无此单位", ""]])
    r = client.post(url, {"action": "excel", "x-excel": SimpleUploadedFile("a.xlsx", bad)})
    assert "第 2 行 牵头单位" in r.content.decode()
    good = xlsx_bytes([[2, "", "", "合肥市科学技术局", "合肥市交通运输局"]])
    r = client.post(url, {"action": "excel", "x-excel": SimpleUploadedFile("a.xlsx", good)}, follow=True)
    assert "已导入 1 项任务的分工" in r.content.decode()
    assert TaskAssignment.objects.filter(task__number=2).count() == 2
    assert AssignmentEvent.objects.filter(source="part").count() == 40


def test_the_plan_page_shows_a_new_assignment_at_once(seed_plan, office, units):
    """The plan's long text is rendered once per version; an assignment makes a new one."""
    client = login(office)
    page = reverse("web:plan", args=[seed_plan.code])
    before = client.get(page).content.decode()
    assert "未分配" in before.split('id="task-1"')[1].split("</tr>")[0]
    client.post(
        reverse("web:plan_assign", args=[seed_plan.code]),
        {"action": "task", "t-number": 1, "t-lead": units["kjj"].uscc, "t-co": ""},
    )
    row = client.get(page).content.decode().split('id="task-1"')[1].split("</tr>")[0]
    assert "合肥市科学技术局" in row and "未分配" not in row
