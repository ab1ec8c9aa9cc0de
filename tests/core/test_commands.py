"""The operators' CLI: ``tongban workdays …`` and ``tongban audit verify``."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tongban.core import audit, workdays
from tongban.core.models import AuditEntry, HolidayDay, HolidayYear

pytestmark = pytest.mark.django_db

EXAMPLE_2027 = Path(workdays.__file__).parent / "data" / "holidays-2027.example.json"


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue().strip()


def fails(*args: str) -> CommandError:
    with pytest.raises(CommandError) as exc:
        run(*args)
    return exc.value


def test_add_prints_the_resulting_date():
    assert run("workdays", "add", "2026-09-28", "5") == ("2026-10-10", "")


def test_add_json_output():
    out, _ = run("workdays", "add", "2026-02-12", "3", "--json")
    assert json.loads(out) == {"date": "2026-02-24", "provisional": False}


def test_add_into_unpublished_year_warns_that_the_result_is_provisional():
    out, err = run("workdays", "add", "2026-12-28", "5", "--json")
    assert json.loads(out) == {"date": "2027-01-04", "provisional": True}
    assert "2027 年节假日安排尚未载入" in err
    assert "计算结果为暂定" in err


@pytest.mark.parametrize(
    "args",
    [
        ("add", "2026-13-01", "5"),
        ("add", "abc", "5"),
        ("add", "2026-09-28", "-3"),
        ("add", "2026-09-28", "abc"),
        ("add", "2026-09-28", "99999"),
        ("between", "2026-09-28", "2026-02-30"),
        ("is", "tomorrow"),
        ("load", "/nonexistent/holidays.json"),
    ],
)
def test_bad_input_exits_with_code_2_and_a_chinese_message(args):
    error = fails("workdays", *args)
    assert error.returncode == 2
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(error))


def test_between_counts_working_days():
    assert run("workdays", "between", "2026-09-30", "2026-10-10") == ("3", "")


def test_is_names_the_kind_of_day():
    assert run("workdays", "is", "2026-10-10")[0] == "工作日"
    assert run("workdays", "is", "2026-10-01")[0] == "休息日"


def test_load_then_known_lists_the_loaded_year():
    out, err = run("workdays", "load", str(EXAMPLE_2027))
    assert "已载入 2027 年节假日安排" in out
    assert "示例" in err  # loading example data never goes unnoticed
    out, _ = run("workdays", "known")
    assert "2004–2026 年：内置" in out
    assert "2027 年：已载入" in out
    assert "2027-12-31" in out
    assert run("workdays", "add", "2026-12-28", "5") == ("2027-01-05", "")


def test_load_from_the_cli_is_audited_as_cli():
    run("workdays", "load", str(EXAMPLE_2027))
    entry = AuditEntry.objects.get(action="workdays.schedule_load")
    assert entry.channel == "cli"


def test_load_check_validates_without_writing():
    out, _ = run("workdays", "load", "--check", str(EXAMPLE_2027))
    assert "文件有效" in out
    assert not HolidayYear.objects.exists()
    assert not HolidayDay.objects.exists()


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe\x00bad",
        '{"year": 2027, "source": "x", "workdays": [{"name": "调休", "date": "2028-01-01"}]}'.encode(),
    ],
)
def test_load_of_a_bad_file_exits_with_code_2_and_writes_nothing(tmp_path, content):
    path = tmp_path / "holidays.json"
    path.write_bytes(content)
    assert fails("workdays", "load", str(path)).returncode == 2
    assert not HolidayYear.objects.exists()


def test_audit_verify_seals_pending_entries_then_reports_an_intact_chain():
    for i in range(3):
        audit.record(actor=None, action="test.act", data={"i": i})
    assert run("audit", "verify") == ("审计链完整：3 条记录", "")
    assert not AuditEntry.objects.filter(seq__isnull=True).exists()


def test_audit_verify_without_sealing_reports_pending_entries():
    audit.record(actor=None, action="test.act")
    audit.seal()
    audit.record(actor=None, action="test.act")
    out, _ = run("audit", "verify", "--no-seal")
    assert out == "审计链完整：1 条记录；另有 1 条记录尚未封链，未校验"
    assert AuditEntry.objects.filter(seq__isnull=True).count() == 1


def test_audit_seal_chains_pending_entries():
    for i in range(2):
        audit.record(actor=None, action="test.act", data={"i": i})
    assert run("audit", "seal") == ("已封链 2 条记录", "")
    assert run("audit", "seal") == ("已封链 0 条记录", "")
    assert audit.verify().checked == 2


def test_audit_verify_names_the_first_broken_entry_and_exits_1():
    for i in range(3):
        audit.record(actor=None, action="test.act", data={"i": i})
    audit.seal()
    AuditEntry.objects.filter(seq=2).update(data={"i": 42})
    error = fails("audit", "verify")
    assert error.returncode == 1
    assert "第 2 条记录（test.act" in str(error)
