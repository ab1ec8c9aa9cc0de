"""The case workflow through its services, against the real database and working-day calendar."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories as f
from tongban.cases import numbering
from tongban.cases import services as svc
from tongban.cases.constants import CaseStatus
from tongban.cases.models import Case, CaseEvent, CaseMaterial, CorrectionNotice
from tongban.cases.selectors import case_queue, due_mark
from tongban.cases.services import Upload
from tongban.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tongban.core.models import AuditEntry
from tongban.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    authority = f.organisation()
    window = f.organisation("合肥市政务服务中心长三角综合服务专窗", kind="window")
    item = f.item(authority)
    return {
        "authority": authority,
        "window": window,
        "item": item,
        "citizen": f.citizen(email="zhang@example.invalid"),
        "reviewer": f.staff(authority),
        "clerk": f.staff(window, roles=("window_clerk",)),
    }


def required_uploads():
    return [Upload("sqs", f.pdf()), Upload("zc", f.pdf("章程.pdf"))]


def media_files() -> set[Path]:
    root = Path(settings.MEDIA_ROOT)
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def submit(world, **kw):
    return svc.case_submit(
        applicant=world["citizen"],
        item=world["item"],
        form_data=kw.pop("form", f.VALID_FORM),
        files=kw.pop("files", required_uploads()),
        **kw,
    )


def test_submission_creates_case_with_checked_number_event_audit_and_notification(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = submit(world)
    assert numbering.is_valid_number(case.number)
    assert case.number.startswith(settings.NODE_CODE)
    assert case.status == CaseStatus.SUBMITTED
    assert case.due_date is not None  # intake period: five working days
    assert list(case.events.values_list("action", flat=True)) == ["submit"]
    assert AuditEntry.objects.filter(action="case.submit", target_id=case.number).count() == 1
    assert Notification.objects.filter(user=world["citizen"], case=case).count() == 1
    assert len(mail.outbox) == 1 and case.number in mail.outbox[0].body
    assert case.materials.count() == 2
    # ID number stored encrypted, never in clear
    raw = Case.objects.values("applicant_id_enc").get(pk=case.pk)["applicant_id_enc"]
    assert world["citizen"].id_number not in raw
    assert case.applicant_id_masked.count("*") == 10


def test_case_number_check_character_catches_a_typo(world):
    number = submit(world).number
    typo = number[:-2] + str((int(number[-2]) + 1) % 10) + number[-1]
    assert not numbering.is_valid_number(typo)


def test_numbers_taken_together_are_consecutive_and_never_given_again():
    from datetime import date

    day = date(2026, 11, 23)
    first = numbering.allocate("340100", day)
    several = numbering.allocate_many("340100", day, 3)
    after = numbering.allocate("340100", day)
    sequence = [int(n[14:20]) for n in [first, *several, after]]
    assert sequence == list(range(sequence[0], sequence[0] + 5))
    assert all(numbering.is_valid_number(n) for n in several)
    assert numbering.allocate_many("340100", day, 0) == []


def test_form_not_matching_schema_is_refused_and_nothing_is_written(world):
    before_files = media_files()
    with pytest.raises(InvalidInput) as exc:
        submit(world, form={"company_name": "x" * 60, "phone": "123"})
    err = exc.value
    assert err.code == "FORM_INVALID"
    fields = {e.field for e in err.errors}
    assert {"company_name", "capital", "phone"} <= fields
    assert any("注册资本" in e.message for e in err.errors)
    assert Case.objects.count() == 0 and CaseEvent.objects.count() == 0
    assert not AuditEntry.objects.filter(action="case.submit").exists()
    assert media_files() == before_files


def test_upload_judged_by_content_not_name(world):
    fake = SimpleUploadedFile(
        "看起来是.pdf", b"MZ\x90\x00this is an executable" * 10, content_type="application/pdf"
    )
    with pytest.raises(InvalidInput) as exc:
        submit(world, files=[Upload("sqs", fake), Upload("zc", f.pdf())])
    assert exc.value.code == "UPLOAD_TYPE_NOT_ALLOWED"
    assert Case.objects.count() == 0
    assert CaseMaterial.objects.count() == 0


def test_upload_over_size_limit_is_refused(world, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    big = SimpleUploadedFile("大.pdf", f.PDF_BYTES + b"0" * 2048)
    with pytest.raises(InvalidInput) as exc:
        submit(world, files=[Upload("sqs", big), Upload("zc", f.pdf())])
    assert exc.value.code == "UPLOAD_TOO_LARGE"
    assert Case.objects.count() == 0


def test_missing_required_material_lists_every_missing_one(world):
    with pytest.raises(InvalidInput) as exc:
        submit(world, files=[])
    assert exc.value.code == "MATERIAL_MISSING"
    assert {e.field for e in exc.value.errors} == {"material:sqs", "material:zc"}


def test_failure_after_files_are_written_leaves_no_orphan_file(world, monkeypatch):
    before = media_files()

    def broken(**kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(svc.audit, "record", broken)
    with pytest.raises(RuntimeError):
        submit(world)
    assert Case.objects.count() == 0
    assert CaseMaterial.objects.count() == 0
    assert media_files() == before


def test_withdrawn_item_is_refused(world):
    world["item"].status = "withdrawn"
    world["item"].save()
    with pytest.raises(Conflict) as exc:
        submit(world)
    assert exc.value.code == "ITEM_WITHDRAWN"


def test_same_client_token_gives_one_case(world):
    first = submit(world, client_token="tok-1")
    second = submit(world, client_token="tok-1", files=required_uploads())
    assert first.pk == second.pk
    assert Case.objects.count() == 1


def test_full_path_accept_correct_resubmit_approve_issue(world):
    case = submit(world)
    reviewer, citizen = world["reviewer"], world["citizen"]
    case = svc.case_accept(actor=reviewer, number=case.number)
    assert case.status == CaseStatus.ACCEPTED and case.accepted_at
    due_after_accept = case.due_date
    case = svc.case_request_correction(
        actor=reviewer,
        number=case.number,
        items=[
            {"material": "zs", "reason": "缺少住所使用证明"},
            {"name": "股东身份证明", "reason": "请补充全体股东身份证复印件"},
        ],
    )
    assert case.status == CaseStatus.CORRECTION
    assert due_mark(case) == "paused"
    notice = CorrectionNotice.objects.get(case=case)
    assert [i["name"] for i in notice.items] == ["住所使用证明", "股东身份证明"]
    # the timeline tells the applicant each material by its name, not its code
    assert "住所使用证明：缺少住所使用证明" in case.events.get(action="request_correction").reason
    # the notice must be answered completely
    with pytest.raises(InvalidInput) as exc:
        svc.case_resubmit(actor=citizen, number=case.number, files=[])
    assert exc.value.code == "MATERIAL_MISSING"
    case = svc.case_resubmit(actor=citizen, number=case.number, files=[Upload("zs", f.pdf("住所.pdf"))])
    assert case.status == CaseStatus.ACCEPTED
    assert case.due_date >= due_after_accept  # paused working days extend the deadline, never shorten it
    case = svc.case_start_review(actor=reviewer, number=case.number)
    case = svc.case_decide(actor=reviewer, number=case.number, approve=True, reason="材料齐全，符合法定条件")
    assert case.status == CaseStatus.APPROVED and case.decided_at
    case = svc.case_issue(actor=reviewer, number=case.number)
    assert case.status == CaseStatus.ISSUED
    actions = list(case.events.values_list("action", flat=True))
    assert actions == [
        "submit",
        "accept",
        "request_correction",
        "resubmit",
        "start_review",
        "approve",
        "issue",
    ]
    assert all(e.actor_id for e in case.events.all())
    assert case.materials.filter(round=1).count() == 1


def test_deciding_a_case_not_yet_accepted_is_refused_and_nothing_recorded(world):
    case = submit(world)
    events_before = CaseEvent.objects.count()
    audit_before = AuditEntry.objects.count()
    with pytest.raises(Conflict) as exc:
        svc.case_decide(actor=world["reviewer"], number=case.number, approve=True, reason="ok")
    assert exc.value.code == "TRANSITION_NOT_ALLOWED"
    assert "已提交" in exc.value.message
    assert CaseEvent.objects.count() == events_before
    assert AuditEntry.objects.count() == audit_before
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED


def test_withdrawing_a_decided_case_is_refused(world):
    case = submit(world)
    svc.case_accept(actor=world["reviewer"], number=case.number)
    svc.case_decide(actor=world["reviewer"], number=case.number, approve=False, reason="不符合条件")
    with pytest.raises(Conflict) as exc:
        svc.case_withdraw(actor=world["citizen"], number=case.number)
    assert exc.value.code == "TRANSITION_NOT_ALLOWED"


def test_refusal_needs_reasons(world):
    case = submit(world)
    with pytest.raises(InvalidInput) as exc:
        svc.case_reject_intake(actor=world["reviewer"], number=case.number, reason="  ")
    assert exc.value.code == "REASON_REQUIRED"


def test_applicant_withdraws_before_decision(world):
    case = submit(world)
    case = svc.case_withdraw(actor=world["citizen"], number=case.number, reason="不再需要")
    assert case.status == CaseStatus.WITHDRAWN


def test_other_citizen_cannot_see_or_touch_a_case(world):
    case = submit(world)
    other = f.citizen(name="王五")
    with pytest.raises(NotFound):
        svc.case_withdraw(actor=other, number=case.number)


def test_reviewer_of_another_authority_cannot_act(world):
    case = submit(world)
    other_org = f.organisation("合肥市公安局")
    outsider = f.staff(other_org)
    with pytest.raises(NotFound):
        svc.case_accept(actor=outsider, number=case.number)


def test_window_clerk_cannot_decide(world):
    case = svc.case_intake(
        clerk=world["clerk"],
        item=world["item"],
        applicant_name="赵六",
        applicant_id_number=f.id_number(),
        applicant_phone="13900139000",
        identity_checked=True,
        form_data=f.VALID_FORM,
        files=required_uploads(),
    )
    with pytest.raises(Forbidden):
        svc.case_accept(actor=world["clerk"], number=case.number)


def test_window_intake_requires_identity_check_and_links_existing_account(world):
    citizen = world["citizen"]
    with pytest.raises(InvalidInput) as exc:
        svc.case_intake(
            clerk=world["clerk"],
            item=world["item"],
            applicant_name="张三",
            applicant_id_number=citizen.id_number,
            applicant_phone="",
            identity_checked=False,
            form_data=f.VALID_FORM,
            files=required_uploads(),
        )
    assert exc.value.code == "IDENTITY_NOT_CHECKED"
    case = svc.case_intake(
        clerk=world["clerk"],
        item=world["item"],
        applicant_name="张三",
        applicant_id_number=citizen.id_number,
        applicant_phone="",
        identity_checked=True,
        form_data=f.VALID_FORM,
        files=required_uploads(),
    )
    assert case.channel == "window" and case.intake_org == world["window"]
    assert case.applicant == citizen  # the applicant follows the case online
    assert case.events.get().data["identity_checked"] is True


def test_window_intake_with_invalid_id_number_is_refused(world):
    good = f.id_number()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(InvalidInput) as exc:
        svc.case_intake(
            clerk=world["clerk"],
            item=world["item"],
            applicant_name="赵六",
            applicant_id_number=bad,
            applicant_phone="",
            identity_checked=True,
            form_data=f.VALID_FORM,
            files=required_uploads(),
        )
    assert exc.value.code == "INVALID_ID_NUMBER"
    assert Case.objects.count() == 0


def test_special_procedure_stops_the_clock(world):
    case = submit(world)
    case = svc.case_accept(actor=world["reviewer"], number=case.number)
    case = svc.case_start_special(actor=world["reviewer"], number=case.number, reason="组织专家评审")
    assert case.status == CaseStatus.SPECIAL_PROCEDURE and case.paused_since
    case = svc.case_end_special(actor=world["reviewer"], number=case.number)
    assert case.status == CaseStatus.ACCEPTED and case.paused_since is None


def test_pause_over_working_days_extends_deadline_by_those_days(world):
    case = submit(world)
    case = svc.case_accept(actor=world["reviewer"], number=case.number)
    # pretend the case was accepted and paused on Monday 2026-11-16, resumed today (real calendar)
    Case.objects.filter(pk=case.pk).update(
        accepted_at=dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC),
        status="special_procedure",
        paused_since=dt.date(2026, 11, 16),
        status_before_pause="accepted",
    )
    case = svc.case_end_special(actor=world["reviewer"], number=case.number)
    from django.utils import timezone

    from tongban.core import workdays

    paused = workdays.workdays_between(dt.date(2026, 11, 16), timezone.localdate())
    assert case.paused_workdays == paused
    expected = workdays.add_workdays(dt.date(2026, 11, 16), world["item"].promised_limit_days + paused).date
    assert case.due_date == expected


def test_queue_orders_by_deadline_and_marks_overdue(world):
    a, b, c = submit(world), submit(world), submit(world)
    Case.objects.filter(pk=a.pk).update(due_date=dt.date(2026, 1, 5))  # long past
    Case.objects.filter(pk=b.pk).update(due_date=dt.date(2030, 1, 7))
    queue = list(case_queue(user=world["reviewer"]))
    assert [x.number for x in queue] == [a.number, c.number, b.number]
    assert due_mark(queue[0]) == "overdue"
    assert due_mark(queue[-1]) == "on_time"
    assert list(case_queue(user=world["citizen"])) == []


def test_correction_without_items_is_refused(world):
    case = submit(world)
    with pytest.raises(InvalidInput) as exc:
        svc.case_request_correction(
            actor=world["reviewer"], number=case.number, items=[{"material": "zs", "reason": ""}]
        )
    assert exc.value.code == "CORRECTION_ITEMS_REQUIRED"


def test_due_soon_marks_agree_with_counting_the_working_days_between():
    """``DueMarks`` finds 临近到期 through one horizon date per page; it must say what counting
    the working days between today and each deadline says, across weekends and holidays."""
    from tongban.cases.selectors import DueMarks
    from tongban.core import workdays

    for today in (dt.date(2026, 9, 25), dt.date(2026, 9, 30), dt.date(2026, 12, 31), dt.date(2027, 2, 5)):
        marks = DueMarks(today=today)
        for offset in range(0, 20):
            due = today + dt.timedelta(days=offset)
            counted = workdays.workdays_between(today, due)
            expected = "due_soon" if counted <= settings.DUE_SOON_WORKDAYS else "on_time"
            assert marks.of(CaseStatus.ACCEPTED, due) == expected, (today, due)
        assert marks.of(CaseStatus.ACCEPTED, today - dt.timedelta(days=1)) == "overdue"
        assert marks.of(CaseStatus.CORRECTION, today) == "paused"
        assert marks.of(CaseStatus.ISSUED, today) == "done"
        assert marks.of(CaseStatus.ACCEPTED, None) == "on_time"


def test_submitted_case_detail_needs_no_reads_and_matches_a_fresh_read(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tongban.cases.selectors import case_detail, case_detail_of

    case = submit(world)
    with CaptureQueriesContext(connection) as queries:
        kept = case_detail_of(case)
    assert len(queries) == 0  # the rows the service just wrote are kept on the case
    fresh = case_detail(user=world["citizen"], number=case.number)
    assert [(e.pk, e.action, e.created_at) for e in kept.events] == [
        (e.pk, e.action, e.created_at) for e in fresh.events
    ]
    assert [(m.pk, m.material.code, m.sha256, m.size) for m in kept.materials] == [
        (m.pk, m.material.code, m.sha256, m.size) for m in fresh.materials
    ]
    assert kept.notices == fresh.notices == []
    assert len(fresh.materials) == 2


def test_case_rows_give_the_list_columns_in_queue_order(world):
    from tongban.cases.selectors import LIST_VALUES, case_rows

    a, b = submit(world), submit(world)
    Case.objects.filter(pk=b.pk).update(due_date=dt.date(2026, 1, 5))
    rows = list(case_rows(case_queue(user=world["reviewer"])))
    assert [r["number"] for r in rows] == [b.number, a.number]
    assert set(rows[0]) == set(LIST_VALUES)
    assert rows[1]["item__name"] == world["item"].name
