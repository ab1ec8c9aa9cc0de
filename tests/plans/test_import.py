"""Saving and re-importing plans (services) and ``tongban plan import`` on seed 001."""

from __future__ import annotations

import json
import sys

import pytest
from django.core.management import CommandError, call_command

from tests import factories
from tests.plans.import_fixtures import (
    SEED,
    SEED_TARGETS,
    SEED_TASKS_PER_PART,
    docx_bytes,
    paren_plan,
    pdf_bytes,
    scanned_pdf_bytes,
    section_plan,
    seed_bytes,
)
from tongban import cli
from tongban.core.errors import Conflict, Forbidden, InvalidInput
from tongban.core.models import AuditEntry
from tongban.plans import error_codes as codes
from tongban.plans.assignment import assignment_set
from tongban.plans.importing import plan_import_preview, plan_import_save
from tongban.plans.models import (
    Indicator,
    Plan,
    PlanColumn,
    PlanImport,
    PlanSection,
    PlanTask,
    TaskAssignment,
)

pytestmark = pytest.mark.django_db
pytest_plugins = ("tests.plans.import_fixtures",)


@pytest.fixture
def run(capsys):
    """``tongban plan …`` in process (exit code, stdout, stderr)."""

    def run(*args) -> tuple[int, str, str]:
        try:
            call_command("plan", *map(str, args))
            code = 0
        except CommandError as exc:
            print(exc, file=sys.stderr)
            code = exc.returncode
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_plan_is_a_tongban_subcommand():
    assert "plan" in cli.PASSTHROUGH


def test_cli_dry_run_json_on_seed_001(run):
    code, out, _ = run("import", SEED, "--dry-run", "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["parts"] == 14
    assert summary["tasks"] == 210
    assert summary["tasks_per_part"] == SEED_TASKS_PER_PART
    assert summary["columns"] == 19
    assert [
        {k: t[k] for k in ("indicator", "comparator", "value", "unit", "year")} for t in summary["targets"]
    ] == SEED_TARGETS
    assert {p["kind"] for p in summary["problems"]} >= {"trailing_text", "garbled", "repeated"}
    assert summary["can_save"] is True
    assert not Plan.objects.exists()  # a dry run saves nothing


def test_cli_dry_run_text_output_is_chinese(run):
    code, out, _ = run("import", SEED, "--dry-run")
    assert code == 0
    assert "任务 210 项" in out and "专栏 19 个" in out and "专栏6疑似文字错乱" in out


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "plan.png", codes.FILE_UNSUPPORTED),
        ("这是一份普通的通知。".encode(), "notice.txt", codes.NO_STRUCTURE),
    ],
)
def test_cli_bad_input_exits_2_with_a_chinese_message(run, tmp_path, content, name, expected):
    path = tmp_path / name
    path.write_bytes(content)
    code, _, err = run("import", path)
    assert code == 2
    assert expected in err
    assert not Plan.objects.exists()


def test_cli_encrypted_and_scanned_pdf_exit_2(run, tmp_path):
    (tmp_path / "enc.pdf").write_bytes(pdf_bytes(["一、任务", "(一)甲。(1)甲一。"], encrypt="pw"))
    (tmp_path / "scan.pdf").write_bytes(scanned_pdf_bytes())
    code, _, err = run("import", tmp_path / "enc.pdf", "--dry-run")
    assert code == 2 and "加密" in err
    code, _, err = run("import", tmp_path / "scan.pdf")
    assert code == 2 and codes.PDF_NO_TEXT in err
    code, _, err = run("import", tmp_path / "missing.txt")
    assert code == 2 and "无法读取文件" in err


def test_cli_saves_then_reimports_by_code(run, tmp_path):
    code, out, _ = run("import", SEED, "--code", "hefei", "--frequency", "monthly")
    assert code == 0 and "第 1 版" in out
    plan = Plan.objects.get(code="hefei")
    assert plan.frequency == "monthly" and plan.tasks.count() == 210
    amended = tmp_path / "amended.txt"
    amended.write_text(SEED.read_text().replace("(59)积极发展高铁快运和电商快递班列。", ""), encoding="utf-8")
    code, out, _ = run("import", amended, "--code", "hefei", "--json")
    assert code == 0
    assert json.loads(out)["removed"] == [59]


def test_seed_saved_with_every_part(seed_plan):
    plan = seed_plan
    assert plan.title == "合肥市推动长三角地区更高质量一体化发展重点工作推进方案"
    assert plan.issuer == "中共合肥市委 合肥市人民政府"
    assert (plan.start_year, plan.end_year, plan.version) == (2019, 2025, 1)
    assert PlanSection.objects.filter(plan=plan, level=1).count() == 14
    assert PlanSection.objects.filter(plan=plan, level=2).count() == 55
    assert PlanTask.objects.filter(plan=plan).count() == 210
    assert PlanColumn.objects.filter(plan=plan).count() == 19
    assert Indicator.objects.filter(plan=plan, comparator="qualitative").count() == 2
    assert Indicator.objects.filter(plan=plan).exclude(comparator="qualitative").count() == 11
    task = PlanTask.objects.get(plan=plan, number=55)
    assert task.part.title == "交通一体化" and task.section.title == "共建长三角轨道交通网络"
    assert str(task.deadline) == "2019-12-31" and task.label == "(55)"
    about = Indicator.objects.get(plan=plan, name="5G网络覆盖率")
    assert (about.comparator, about.value, about.tolerance) == ("about", 90, 4.5)
    assert {p["location"] for p in plan.import_problems if p["kind"] == "garbled"} == {"专栏6", "专栏15"}
    assert PlanImport.objects.get(plan=plan).summary["tasks"] == 210
    assert AuditEntry.objects.filter(action="plan.imported").count() == 1


def test_reimport_updates_by_number_keeps_assignments_and_marks_removed(seed_plan, units):
    plan = seed_plan
    task12 = PlanTask.objects.get(plan=plan, number=12)
    assignment_set(actor=None, task=task12, lead=units["kjj"], co=[units["fgw"]])
    text = SEED.read_text(encoding="utf-8")
    amended = text.replace("(12)对接国家战略需求", "(12)紧密对接国家战略需求").replace(
        "(208)加强与上海大都市圈对标对接,积极推进与南京都市圈协同发展,深化与杭州、宁波都市圈互动互补,共建长三角世界级城市群。",
        "",
    )
    result = plan_import_save(actor=None, content=amended.encode(), filename="amended.txt", plan=plan)
    assert result.version == 2 and result.updated == [12] and result.removed == [208] and not result.created
    task12.refresh_from_db()
    assert (
        task12.text.startswith("紧密对接国家战略需求")
        and task12.pk == PlanTask.objects.get(plan=plan, number=12).pk
    )
    assert TaskAssignment.objects.filter(task=task12).count() == 2  # the units (and reports) stay
    removed = PlanTask.objects.get(plan=plan, number=208)
    assert removed.removed_at is not None  # never deleted
    assert PlanTask.objects.filter(plan=plan).count() == 210
    # The original text comes back: the task is restored, same row.
    result = plan_import_save(actor=None, content=text.encode(), filename=SEED.name, plan=plan)
    assert result.version == 3 and result.restored == [208]
    assert PlanTask.objects.get(pk=removed.pk).removed_at is None
    assert list(PlanImport.objects.filter(plan=plan).values_list("version", flat=True)) == [1, 2, 3]
    assert AuditEntry.objects.filter(action="plan.reimported").count() == 2


def test_reimport_of_the_same_file_changes_nothing(seed_plan):
    result = plan_import_save(actor=None, content=seed_bytes(), filename=SEED.name, plan=seed_plan)
    assert result.unchanged and result.version == 1
    assert PlanImport.objects.filter(plan=seed_plan).count() == 1


def test_amended_reimport_of_a_small_plan_moves_tasks_and_removes_a_section(db):
    first = plan_import_save(actor=None, content=paren_plan().encode(), filename="p.txt", code="small").plan
    amended = paren_plan().replace("三、交通\n(一)交通网络。", "三、交通\n(二)交通网络。")
    result = plan_import_save(actor=None, content=amended.encode(), filename="p2.txt", plan=first)
    assert result.updated == [4, 5]
    task4 = PlanTask.objects.get(plan=first, number=4)
    assert task4.section.number == 2
    assert not PlanSection.objects.filter(plan=first, parent__number=3, number=1).exists()  # unused: gone


def test_section_only_plan_saves_28_tasks(db):
    plan = plan_import_save(
        actor=None, content=docx_bytes(section_plan().split("\n")), filename="yj.docx"
    ).plan
    assert plan.tasks.count() == 28
    assert plan.code == "yj"
    assert plan.title == "关于推进示范区高质量发展的实施意见"


def test_duplicate_task_numbers_are_refused_and_nothing_is_saved(db):
    text = paren_plan().replace("(2)引进高层次人才。", "(2)引进高层次人才。(2)引进高层次人才。")
    preview = plan_import_preview(content=text.encode(), filename="dup.txt")
    assert not preview.can_save
    with pytest.raises(InvalidInput) as exc:
        plan_import_save(actor=None, content=text.encode(), filename="dup.txt", code="dup")
    assert exc.value.code == codes.IMPORT_HAS_ERRORS
    assert not Plan.objects.exists() and not PlanTask.objects.exists()


def test_only_the_office_imports_and_codes_are_checked(db, office, reporter):
    content = paren_plan().encode()
    with pytest.raises(Forbidden):
        plan_import_save(actor=reporter, content=content, filename="p.txt", code="p")
    with pytest.raises(InvalidInput) as exc:
        plan_import_save(actor=office, content=content, filename="p.txt", code="Bad Code")
    assert exc.value.code == codes.CODE_INVALID
    plan = plan_import_save(actor=office, content=content, filename="p.txt", code="p").plan
    assert plan.created_by == office
    with pytest.raises(Conflict):
        plan_import_save(actor=office, content=content, filename="p.txt", code="p")
    with pytest.raises(InvalidInput) as exc:
        plan_import_save(actor=office, content=content, filename="p.txt", code="q", frequency="weekly")
    assert exc.value.code == codes.FREQUENCY_INVALID
    assert Plan.objects.count() == 1


def test_demo_prepare_is_idempotent(db):
    from tongban.accounts.models import User
    from tongban.plans.demo import PLAN_CODE, plan_demo_prepare

    factories.region("340100", "合肥市", "city", parent="340000")
    accounts = plan_demo_prepare()
    assert {a.username for a in accounts} == {"planoffice", "plan-kjj"}
    plan = Plan.objects.get(code=PLAN_CODE)
    live = PlanTask.objects.filter(plan=plan, removed_at__isnull=True)
    assert live.count() == 210
    assert all(t.assignments.filter(role="lead").count() == 1 for t in live)
    reporters = [u for u in User.objects.filter(username__startswith="plan-") if "plan_reporter" in u.roles]
    assert len(reporters) == 10 and User.objects.get(username="planoffice").roles == ["plan_office"]
    before = TaskAssignment.objects.count()
    plan_demo_prepare()
    assert TaskAssignment.objects.count() == before and Plan.objects.count() == 1
    lead = PlanTask.objects.get(plan=plan, number=55).assignments.get(role="lead").organisation
    assert lead.name == "合肥市交通运输局" and lead.kind == "unit"
    from stdnum.cn import uscc

    assert uscc.is_valid(lead.uscc)
