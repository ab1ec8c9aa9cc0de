"""The plans API: import preview and save, list, structure, assignment — office only for writes."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from tests.plans.import_fixtures import (
    SEED,
    SEED_TASKS_PER_PART,
    docx_bytes,
    paren_plan,
    seed_bytes,
    xlsx_bytes,
)
from tongban.accounts.services import api_token_issue
from tongban.plans.models import Plan, PlanTask, TaskAssignment

pytestmark = pytest.mark.django_db
pytest_plugins = ("tests.plans.import_fixtures",)


def auth(user) -> dict:
    return {"HTTP_AUTHORIZATION": "Bearer " + api_token_issue(user=user, name="t")}


def upload(content: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def test_preview_then_save_the_seed(office):
    client = Client()
    r = client.post("/api/v1/plans/import/preview", {"file": upload(seed_bytes(), SEED.name)}, **auth(office))
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["parts"], body["tasks"], body["columns"]) == (14, 210, 19)
    assert body["tasks_per_part"] == SEED_TASKS_PER_PART
    assert not Plan.objects.exists()
    r = client.post(
        "/api/v1/plans/import", {"file": upload(seed_bytes(), SEED.name), "code": "hefei"}, **auth(office)
    )
    assert r.status_code == 201, r.content
    assert r.json()["version"] == 1 and r.json()["created"] == 210
    r = client.get("/api/v1/plans", **auth(office))
    assert [(p["code"], p["tasks"]) for p in r.json()] == [("hefei", 210)]


def test_reimport_through_the_api(office):
    client = Client()
    client.post(
        "/api/v1/plans/import", {"file": upload(paren_plan().encode(), "p.txt"), "code": "p"}, **auth(office)
    )
    amended = paren_plan(tasks={6: "加强督查考核，定期通报。"})
    r = client.post(
        "/api/v1/plans/import",
        {"file": upload(docx_bytes(amended.split("\n")), "p.docx"), "plan": "p"},
        **auth(office),
    )
    assert r.status_code == 201 and r.json()["updated"] == [6] and r.json()["version"] == 2


def test_bad_files_are_problems_and_nothing_is_saved(office):
    client = Client()
    r = client.post(
        "/api/v1/plans/import", {"file": upload(b"\x89PNG\r\n\x1a\n" + b"\0" * 30, "a.png")}, **auth(office)
    )
    assert r.status_code == 422
    assert r.json()["code"] == "PLAN_FILE_UNSUPPORTED" and r["content-type"].startswith(
        "application/problem+json"
    )
    r = client.post(
        "/api/v1/plans/import/preview", {"file": upload("普通通知。".encode(), "a.txt")}, **auth(office)
    )
    assert r.status_code == 422 and r.json()["code"] == "PLAN_NO_STRUCTURE"
    assert not Plan.objects.exists()


def test_writes_are_for_the_office_only(reporter, supervisor, seed_plan):
    client = Client()
    for user in (reporter, supervisor):
        r = client.post(
            "/api/v1/plans/import", {"file": upload(paren_plan().encode(), "p.txt")}, **auth(user)
        )
        assert r.status_code == 403 and r.json()["code"] == "PLAN_FORBIDDEN"
        r = client.post(
            "/api/v1/plans/hefei-yrd-2020/tasks/1/assignment",
            {"lead": "合肥市科学技术局"},
            content_type="application/json",
            **auth(user),
        )
        assert r.status_code == 403
    assert client.get("/api/v1/plans").status_code == 401


def test_structure_and_assignment(office, supervisor, reporter, units, seed_plan):
    client = Client()
    r = client.post(
        "/api/v1/plans/hefei-yrd-2020/parts/2/assignment",
        {"lead": "合肥市科学技术局", "co": [units["fgw"].uscc]},
        content_type="application/json",
        **auth(office),
    )
    assert r.status_code == 200 and r.json() == {"tasks": 31, "changes": 62}
    r = client.post(
        "/api/v1/plans/hefei-yrd-2020/tasks/55/assignment",
        {"lead": "不存在的单位"},
        content_type="application/json",
        **auth(office),
    )
    assert r.status_code == 422 and r.json()["code"] == "PLAN_UNIT_UNKNOWN"
    r = client.get("/api/v1/plans/hefei-yrd-2020", **auth(supervisor))
    assert r.status_code == 200
    body = r.json()
    assert len(body["parts"]) == 14 and sum(len(s["columns"]) for s in body["parts"]) == 19
    first = body["parts"][1]["sections"][0]["tasks"][0]
    assert first["number"] == 1 and [u["role"] for u in first["units"]] == ["lead", "co"]
    assert len(body["indicators"]) == 13
    # A reporter sees the plan because their unit has tasks in it; and nothing else.
    assert client.get("/api/v1/plans/hefei-yrd-2020", **auth(reporter)).status_code == 200
    assert client.get("/api/v1/plans/nope", **auth(office)).status_code == 404


def test_excel_template_and_import(office, units, seed_plan):
    client = Client()
    r = client.get("/api/v1/plans/hefei-yrd-2020/assignment-template", **auth(office))
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    assert book["责任分工"].max_row == 211
    content = xlsx_bytes([[55, "", "", "合肥市交通运输局", ""]])
    r = client.post(
        "/api/v1/plans/hefei-yrd-2020/assignment-import", {"file": upload(content, "a.xlsx")}, **auth(office)
    )
    assert r.status_code == 200 and r.json()["tasks"] == 1
    assert TaskAssignment.objects.get(task=PlanTask.objects.get(plan=seed_plan, number=55)).role == "lead"
    bad = xlsx_bytes([[55, "", "", "nobody", ""]])
    r = client.post(
        "/api/v1/plans/hefei-yrd-2020/assignment-import", {"file": upload(bad, "a.xlsx")}, **auth(office)
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "第 2 行 牵头单位"
