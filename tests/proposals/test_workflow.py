"""The whole handling of a proposal through the services, against the real database and the real
working-day calendar: registration, hand-over, acceptance and returns within the transfer window,
co-handling opinions, draft → review → sign-off → sending, feedback, re-handling, B-class follow-up,
extensions, reminders and overdue marks; and every refusal the issue names, with nothing written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from tests.proposals.flow_fixtures import *  # noqa: F403
from tests.proposals.flow_fixtures import draft, hand_over, register, to_replied, to_signed_off
from tongban.core import workdays
from tongban.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tongban.core.models import AuditEntry
from tongban.notifications.models import Notification
from tongban.proposals import error_codes, services
from tongban.proposals.constants import (
    AssignmentStatus,
    ProposalAction,
    ProposalStatus,
    ReplyPurpose,
    ReplyStatus,
)
from tongban.proposals.models import (
    Assignment,
    Feedback,
    HandOver,
    Proposal,
    ProposalEvent,
    Reply,
    ReplyVersion,
)

pytestmark = pytest.mark.django_db
S = ProposalStatus


def actions(proposal) -> list[str]:
    return list(
        ProposalEvent.objects.filter(proposal=proposal).order_by("id").values_list("action", flat=True)
    )


def reload(p) -> Proposal:
    return Proposal.objects.get(pk=p.pk)


# --- registration ---------------------------------------------------------------------------------


def test_registration_keeps_personal_data_encrypted_and_records_the_step(world):
    p = register(world, serial=2)
    assert p.reference == "区政协五届一次会议第2号"
    assert p.status == S.REGISTERED
    row = Proposal.objects.get(pk=p.pk)
    assert "13955112233" not in row.proposer_phone_enc and row.proposer_phone_enc.startswith("v1:")
    assert "明光小区" not in row.proposer_address_enc
    assert row.proposer_phone == "13955112233"
    assert row.proposer_phone_masked == "139****2233"
    assert row.co_signers.get().phone_masked == "138****1111"
    event = ProposalEvent.objects.get(proposal=p)
    assert (event.action, event.actor_id, event.to_status) == (
        ProposalAction.REGISTER,
        world["office"].pk,
        S.REGISTERED,
    )
    assert AuditEntry.objects.filter(action="proposal.register", target_id=str(p.public_id)).exists()


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"kind": "petition"}, error_codes.UNKNOWN_KIND),
        ({"title": "  "}, error_codes.INVALID),
        ({"serial": 0}, error_codes.INVALID),
        ({"proposer_phone": "12345"}, error_codes.INVALID),
        ({"jurisdiction": "nowhere"}, error_codes.UNKNOWN_JURISDICTION),
    ],
)
def test_bad_registration_is_refused_and_nothing_is_written(world, overrides, code):
    with pytest.raises(InvalidInput) as exc:
        register(world, **overrides)
    assert exc.value.code == code
    assert exc.value.message  # a Chinese sentence for people
    assert not Proposal.objects.exists() and not ProposalEvent.objects.exists()


def test_the_same_number_of_a_session_cannot_be_registered_twice(world):
    register(world, serial=7)
    with pytest.raises(InvalidInput) as exc:
        register(world, serial=7)
    assert exc.value.code == error_codes.DUPLICATE_NUMBER
    assert Proposal.objects.count() == 1


def test_only_the_office_registers(world):
    with pytest.raises(Forbidden):
        register(world, actor=world["handler"])


def test_attachments_are_judged_by_content_and_a_failed_registration_leaves_no_file(world, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import PDF_BYTES

    p = register(
        world, attachments=[SimpleUploadedFile("调研报告.pdf", PDF_BYTES, content_type="application/pdf")]
    )
    att = p.attachments.get()
    assert att.content_type == "application/pdf" and att.file.read() == PDF_BYTES
    media = settings.MEDIA_ROOT
    before = sorted(x.name for x in media.rglob("*") if x.is_file())
    with pytest.raises(InvalidInput):
        register(
            world,
            serial=p.serial,  # duplicate: refused before any file is written
            attachments=[SimpleUploadedFile("b.pdf", PDF_BYTES, content_type="application/pdf")],
        )
    with pytest.raises(InvalidInput):
        register(
            world,
            attachments=[SimpleUploadedFile("x.pdf", b"not a pdf at all", content_type="application/pdf")],
        )
    assert sorted(x.name for x in media.rglob("*") if x.is_file()) == before


# --- hand-over and the deadline ---------------------------------------------------------------------


def test_a_hand_over_without_a_lead_unit_is_refused_and_nothing_is_written(world):
    p = register(world)
    with pytest.raises(InvalidInput) as exc:
        services.proposal_hand_over(actor=world["office"], proposal_id=p.public_id, lead_unit_id=None)
    assert exc.value.code == error_codes.LEAD_UNIT_REQUIRED
    assert exc.value.errors[0].field == "lead_unit"
    assert reload(p).status == S.REGISTERED and reload(p).due_date is None
    assert not HandOver.objects.exists() and not Assignment.objects.exists()
    assert actions(p) == [ProposalAction.REGISTER]


def test_the_lead_unit_cannot_also_be_a_co_handler(world):
    p = register(world)
    with pytest.raises(InvalidInput) as exc:
        services.proposal_hand_over(
            actor=world["office"],
            proposal_id=p.public_id,
            lead_unit_id=world["lead"].pk,
            co_unit_ids=[world["lead"].pk],
        )
    assert exc.value.code == error_codes.UNIT_DUPLICATE
    assert not HandOver.objects.exists()


def test_three_months_that_end_in_the_national_day_holiday_move_to_the_next_working_day(world):
    p = register(world)
    hand_over(world, p, on=dt.date(2026, 7, 1))
    p = reload(p)
    assert p.due_base == dt.date(2026, 10, 1)  # a holiday in the 2026 schedule
    assert p.due_date == dt.date(2026, 10, 8)  # the first working day after 1–7 October
    assert p.due_provisional is False
    assert p.status == S.HANDED_OVER and p.lead_unit == world["lead"]


def test_a_deadline_in_2027_is_provisional_until_the_schedule_is_loaded_then_confirmed(world):
    assert not workdays.is_known_year(2027), "this test is about a year whose holidays are not published"
    p = register(world)
    hand_over(world, p, on=dt.date(2026, 11, 20))
    p = reload(p)
    assert p.due_base == dt.date(2027, 2, 20)  # a Saturday
    assert p.due_date == dt.date(2027, 2, 22)  # the Monday, counted Monday–Friday
    assert p.due_provisional is True
    event = ProposalEvent.objects.get(proposal=p, action=ProposalAction.HAND_OVER)
    assert event.data["due_provisional"] is True

    assert services.deadlines_refresh() == 0  # still unknown: nothing to confirm

    # The administrator loads 2027 (a made-up schedule for the test in which 22 February is a holiday).
    workdays.schedule_load(
        year=2027,
        source="测试用节假日安排",
        days=[{"date": "2027-02-22", "is_workday": False, "name": "测试假日"}],
    )
    workdays.invalidate_cache()
    assert services.deadlines_refresh() == 1
    p = reload(p)
    assert (p.due_date, p.due_provisional) == (dt.date(2027, 2, 23), False)
    confirmed = ProposalEvent.objects.get(proposal=p, action=ProposalAction.DEADLINE_CONFIRMED)
    assert confirmed.data == {"from": "2027-02-22", "to": "2027-02-23"}


def test_hand_over_notifies_the_units_with_the_window_and_deadline(world):
    p = register(world)
    hand_over(world, p, on=dt.date(2026, 11, 20))
    note = Notification.objects.get(user=world["handler"])
    assert "签收" in note.body and "2027-02-22（暂定" in note.body
    assert Notification.objects.filter(user=world["co_handler"]).exists()
    assert not Notification.objects.filter(user=world["other_handler"]).exists()


# --- accepting and returning within the transfer window --------------------------------------------------


def test_units_accept_within_the_window_and_the_lead_starts_handling(world):
    p = register(world)
    hand_over(world, p)
    services.assignment_accept(actor=world["co_handler"], proposal_id=p.public_id)
    assert reload(p).status == S.HANDED_OVER  # the co-handler's acceptance does not start it
    services.assignment_accept(actor=world["handler"], proposal_id=p.public_id)
    assert reload(p).status == S.HANDLING
    with pytest.raises(Conflict):
        services.assignment_accept(actor=world["handler"], proposal_id=p.public_id)
    with pytest.raises(Forbidden):
        services.assignment_accept(actor=world["other_handler"], proposal_id=p.public_id)


def test_after_the_transfer_window_a_unit_can_no_longer_ask_to_return(world):
    p = register(world)
    on = timezone.localdate() - dt.timedelta(days=30)
    hand_over(world, p, on=on)
    window = HandOver.objects.get(proposal=p).window_ends
    assert window == workdays.add_workdays(on, world["jurisdiction"].transfer_window_workdays).date
    with pytest.raises(Conflict) as exc:
        services.assignment_request_return(
            actor=world["handler"], proposal_id=p.public_id, reason="不属于我单位职责"
        )
    assert exc.value.code == error_codes.TRANSFER_WINDOW_CLOSED
    assert Assignment.objects.get(proposal=p, role="lead").status == AssignmentStatus.PENDING


def test_pending_units_are_deemed_to_accept_when_the_window_has_passed(world):
    p = register(world)
    hand_over(world, p, on=timezone.localdate() - dt.timedelta(days=30))
    assert services.assignments_deem_accepted() == 2
    assert reload(p).status == S.HANDLING
    assert actions(p).count(ProposalAction.DEEMED_ACCEPTED) == 2
    assert services.assignments_deem_accepted() == 0  # safe to re-run


def test_a_return_needs_a_reason_and_an_agreed_lead_return_sends_it_back_to_be_handed_over(world):
    p = register(world)
    hand_over(world, p)
    with pytest.raises(InvalidInput) as exc:
        services.assignment_request_return(actor=world["handler"], proposal_id=p.public_id, reason="")
    assert exc.value.code == error_codes.REASON_REQUIRED
    services.assignment_request_return(
        actor=world["handler"], proposal_id=p.public_id, reason="属于教育部门职责", suggested_unit="区教体局"
    )
    assert Notification.objects.filter(user=world["office"], title__contains="申请退回").exists()
    services.assignment_return_decide(
        actor=world["office"], proposal_id=p.public_id, organisation_id=world["lead"].pk, approve=True
    )
    p = reload(p)
    assert p.status == S.REGISTERED and p.lead_unit is None and p.due_date is None
    # Handed over again, to the right unit: a new hand-over; the old one stays as history.
    services.proposal_hand_over(
        actor=world["office"], proposal_id=p.public_id, lead_unit_id=world["other"].pk
    )
    assert HandOver.objects.filter(proposal=p).count() == 2
    assert (
        HandOver.objects.filter(proposal=p, active=True).get().assignments.get().organisation
        == world["other"]
    )
    assert actions(p) == [
        ProposalAction.REGISTER,
        ProposalAction.HAND_OVER,
        ProposalAction.REQUEST_RETURN,
        ProposalAction.APPROVE_RETURN,
        ProposalAction.HAND_OVER,
    ]


def test_a_refused_return_counts_as_accepted(world):
    p = register(world)
    hand_over(world, p)
    services.assignment_request_return(actor=world["handler"], proposal_id=p.public_id, reason="职责交叉")
    with pytest.raises(InvalidInput):
        services.assignment_return_decide(
            actor=world["office"], proposal_id=p.public_id, organisation_id=world["lead"].pk, approve=False
        )
    services.assignment_return_decide(
        actor=world["office"],
        proposal_id=p.public_id,
        organisation_id=world["lead"].pk,
        approve=False,
        note="该事项由发改委牵头",
    )
    assert reload(p).status == S.HANDLING
    assert Assignment.objects.get(proposal=p, role="lead").status == AssignmentStatus.ACCEPTED


# --- co-handling and the reply ----------------------------------------------------------------------------


def test_co_handlers_send_opinions_only_after_accepting_and_only_as_co_handlers(world):
    p = register(world)
    hand_over(world, p)
    with pytest.raises(Conflict):
        services.co_opinion_submit(actor=world["co_handler"], proposal_id=p.public_id, text="意见")
    services.assignment_accept(actor=world["co_handler"], proposal_id=p.public_id)
    op = services.co_opinion_submit(
        actor=world["co_handler"], proposal_id=p.public_id, text="经信局支持物联网产业联盟建设。"
    )
    assert op.organisation == world["co"]
    with pytest.raises(Forbidden):
        services.co_opinion_submit(actor=world["handler"], proposal_id=p.public_id, text="主办单位不是协办")
    with pytest.raises(Forbidden):
        services.co_opinion_submit(actor=world["other_handler"], proposal_id=p.public_id, text="无关单位")
    assert Notification.objects.filter(user=world["handler"], title__contains="协办意见").exists()


def test_draft_review_sign_off_and_send_with_versions_and_a_document_number(world):
    p = register(world, serial=2)
    hand_over(world, p)
    services.assignment_accept(actor=world["handler"], proposal_id=p.public_id)
    draft(world, p, reply_class="B", promise_due=dt.date(2027, 6, 30))
    draft(
        world,
        p,
        reply_class="B",
        promise_due=dt.date(2027, 6, 30),
        body="修改后的答复正文。\n一、情况\n二、计划",
    )
    reply = Reply.objects.get(proposal=p)
    assert (reply.version, reply.status, reply.purpose) == (2, ReplyStatus.DRAFT, ReplyPurpose.FIRST)
    assert list(ReplyVersion.objects.filter(reply=reply).values_list("version", flat=True)) == [1, 2]
    assert reply.contact_unit == "合肥市瑶海区发展和改革委员会" and reply.contact_phone == "64495522"

    services.reply_submit_for_review(actor=world["handler"], proposal_id=p.public_id)
    with pytest.raises(Conflict):  # under review: no more edits
        draft(world, p)
    services.reply_review(
        actor=world["handler"], proposal_id=p.public_id, approve=False, comment="请补充下一步计划"
    )
    assert Reply.objects.get(pk=reply.pk).status == ReplyStatus.DRAFT
    services.reply_submit_for_review(actor=world["handler"], proposal_id=p.public_id)
    with pytest.raises(Forbidden) as own:  # four eyes: the drafter does not pass their own draft
        services.reply_review(actor=world["handler"], proposal_id=p.public_id, approve=True)
    assert own.value.code == "PROPOSAL_REVIEW_OWN_DRAFT"
    assert Reply.objects.get(pk=reply.pk).status == ReplyStatus.IN_REVIEW
    services.reply_review(actor=world["signer"], proposal_id=p.public_id, approve=True)
    with pytest.raises(Forbidden):  # a handler cannot sign off
        services.reply_sign_off(actor=world["handler"], proposal_id=p.public_id)
    reply = services.reply_sign_off(
        actor=world["signer"], proposal_id=p.public_id, signed_on=dt.date(2026, 11, 20)
    )
    assert reply.document_number == "瑶发改案〔2026〕1号"
    assert reply.signer_name and reply.signed_on == dt.date(2026, 11, 20)

    reply = services.reply_send(actor=world["handler"], proposal_id=p.public_id)
    p = reload(p)
    assert p.status == S.REPLIED and p.reply_class == "B" and p.promise_due == dt.date(2027, 6, 30)
    assert reply.on_time is True
    assert actions(p) == [
        ProposalAction.REGISTER,
        ProposalAction.HAND_OVER,
        ProposalAction.ACCEPT,
        ProposalAction.DRAFT,
        ProposalAction.DRAFT,
        ProposalAction.SUBMIT_REVIEW,
        ProposalAction.REVIEW_RETURN,
        ProposalAction.SUBMIT_REVIEW,
        ProposalAction.REVIEW_PASS,
        ProposalAction.SIGN_OFF,
        ProposalAction.SEND,
    ]
    events = ProposalEvent.objects.filter(proposal=p)
    assert all(e.actor_label and e.created_at for e in events)
    assert events.get(action=ProposalAction.SIGN_OFF).actor == world["signer"]


def test_a_reply_without_a_class_cannot_go_to_review(world):
    p = register(world)
    hand_over(world, p)
    services.assignment_accept(actor=world["handler"], proposal_id=p.public_id)
    draft(world, p, reply_class="")
    with pytest.raises(InvalidInput) as exc:
        services.reply_submit_for_review(actor=world["handler"], proposal_id=p.public_id)
    assert exc.value.code == error_codes.CLASS_REQUIRED
    assert Reply.objects.get(proposal=p).status == ReplyStatus.DRAFT
    assert ProposalAction.SUBMIT_REVIEW not in actions(p)


def test_an_unknown_class_is_refused_and_nothing_is_written(world):
    p = register(world)
    hand_over(world, p)
    services.assignment_accept(actor=world["handler"], proposal_id=p.public_id)
    with pytest.raises(InvalidInput) as exc:
        draft(world, p, reply_class="E")
    assert exc.value.code == error_codes.UNKNOWN_CLASS and "A、B、C、D" in exc.value.message
    assert not Reply.objects.exists() and not ReplyVersion.objects.exists()


def test_a_class_followed_up_needs_the_promised_date(world):
    p = register(world)
    hand_over(world, p)
    services.assignment_accept(actor=world["handler"], proposal_id=p.public_id)
    draft(world, p, reply_class="B")
    with pytest.raises(InvalidInput) as exc:
        services.reply_submit_for_review(actor=world["handler"], proposal_id=p.public_id)
    assert exc.value.code == error_codes.PROMISE_DATE_REQUIRED


def test_a_reply_not_signed_off_cannot_be_sent_nor_given_a_letter(world):
    p = register(world)
    hand_over(world, p)
    services.assignment_accept(actor=world["handler"], proposal_id=p.public_id)
    reply = draft(world, p)
    with pytest.raises(Conflict) as exc:
        services.reply_send(actor=world["handler"], proposal_id=p.public_id)
    assert exc.value.code == error_codes.NOT_SIGNED_OFF
    with pytest.raises(Conflict) as exc:
        services.reply_letter(reply=reply, fmt="docx")
    assert exc.value.code == error_codes.NOT_SIGNED_OFF
    assert reload(p).status == S.HANDLING


def test_a_unit_without_letter_settings_cannot_sign_off(world):
    from tongban.proposals.models import UnitProfile

    UnitProfile.objects.all().delete()
    p = register(world)
    hand_over(world, p)
    services.assignment_accept(actor=world["handler"], proposal_id=p.public_id)
    draft(world, p)
    services.reply_submit_for_review(actor=world["handler"], proposal_id=p.public_id)
    services.reply_review(actor=world["signer"], proposal_id=p.public_id, approve=True)
    with pytest.raises(Conflict) as exc:
        services.reply_sign_off(actor=world["signer"], proposal_id=p.public_id)
    assert exc.value.code == error_codes.UNIT_PROFILE_MISSING
    assert Reply.objects.get(proposal=p).status == ReplyStatus.AWAITING_SIGN_OFF


def test_document_numbers_run_per_unit_and_year_without_gaps(world):
    first, second, third = (register(world) for _ in range(3))
    for p in (first, second, third):
        hand_over(world, p)
        services.assignment_accept(actor=world["handler"], proposal_id=p.public_id)
    assert to_signed_off(world, first).document_number == "瑶发改案〔2026〕1号"
    # A sign-off whose transaction fails gives its number back.
    draft(world, second)
    services.reply_submit_for_review(actor=world["handler"], proposal_id=second.public_id)
    services.reply_review(actor=world["signer"], proposal_id=second.public_id, approve=True)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.reply_sign_off(actor=world["signer"], proposal_id=second.public_id)
        raise RuntimeError("the commit fails")
    assert services.reply_sign_off(actor=world["signer"], proposal_id=second.public_id).document_number == (
        "瑶发改案〔2026〕2号"
    )
    # 成文日期 in another year: that year's own sequence.
    draft(world, third)
    services.reply_submit_for_review(actor=world["handler"], proposal_id=third.public_id)
    services.reply_review(actor=world["signer"], proposal_id=third.public_id, approve=True)
    reply = services.reply_sign_off(
        actor=world["signer"], proposal_id=third.public_id, signed_on=dt.date(2025, 12, 30)
    )
    assert reply.document_number == "瑶发改案〔2025〕1号"


# --- feedback, re-handling, follow-up -----------------------------------------------------------------------


def test_feedback_on_a_proposal_not_yet_answered_is_refused_and_nothing_is_written(world):
    p = register(world)
    hand_over(world, p)
    with pytest.raises(Conflict) as exc:
        services.feedback_record(actor=world["office"], proposal_id=p.public_id, satisfaction="satisfied")
    assert exc.value.code == error_codes.NOT_ANSWERED
    assert not Feedback.objects.exists() and reload(p).status == S.HANDED_OVER


def test_an_unknown_satisfaction_is_refused(world):
    p = register(world)
    to_replied(world, p)
    with pytest.raises(InvalidInput) as exc:
        services.feedback_record(actor=world["office"], proposal_id=p.public_id, satisfaction="很好")
    assert exc.value.code == error_codes.UNKNOWN_SATISFACTION
    assert not Feedback.objects.exists()


def test_satisfied_with_an_a_class_reply_closes_it(world):
    p = register(world)
    to_replied(world, p, reply_class="A")
    services.feedback_record(actor=world["office"], proposal_id=p.public_id, satisfaction="satisfied")
    p = reload(p)
    assert p.status == S.CLOSED and p.satisfaction == "satisfied" and p.closed_at


def test_unsatisfied_reopens_with_a_new_deadline_and_a_second_reply(world):
    p = register(world)
    to_replied(world, p, reply_class="C")
    received = timezone.localdate() - dt.timedelta(days=2)
    services.feedback_record(
        actor=world["office"],
        proposal_id=p.public_id,
        satisfaction="unsatisfied",
        comments="答复不具体",
        received_on=received,
    )
    p = reload(p)
    assert p.status == S.REHANDLING and p.round == 2
    from tongban.proposals.deadlines import deadline_after

    assert p.due_date == deadline_after(received, world["jurisdiction"].rehandle_months).date
    assert Notification.objects.filter(user=world["handler"], title__contains="重新办理").exists()
    second = to_signed_off(world, p, reply_class="A")
    assert (second.purpose, second.round) == (ReplyPurpose.SECOND, 2)
    services.reply_send(actor=world["handler"], proposal_id=p.public_id)
    # Unsatisfied again: the jurisdiction allows one re-handling, so it is closed with the feedback kept.
    services.feedback_record(actor=world["office"], proposal_id=p.public_id, satisfaction="unsatisfied")
    p = reload(p)
    assert p.status == S.CLOSED and Feedback.objects.filter(proposal=p).count() == 2
    assert ProposalAction.REOPEN in actions(p)


def test_a_b_class_reply_stays_tracked_until_the_follow_up_reply(world):
    p = register(world)
    to_replied(world, p, reply_class="B", promise_due=dt.date(2027, 6, 30))
    services.feedback_record(
        actor=world["office"], proposal_id=p.public_id, satisfaction="basically_satisfied"
    )
    p = reload(p)
    assert p.status == S.FOLLOW_UP and p.promise_due == dt.date(2027, 6, 30)
    follow = to_signed_off(
        world, p, reply_class="A", body="承诺事项已经落实：长三角物联网产业联盟已于2027年5月成立。"
    )
    assert follow.purpose == ReplyPurpose.FOLLOW_UP
    services.reply_send(actor=world["handler"], proposal_id=p.public_id)
    p = reload(p)
    assert p.status == S.CLOSED
    assert actions(p)[-3:] == [ProposalAction.SIGN_OFF, ProposalAction.SEND, ProposalAction.CLOSE]
    assert p.reply_class == "B"  # the class of the answer; the follow-up does not rewrite it


# --- extensions, reminders, overdue -----------------------------------------------------------------------------


def test_an_approved_extension_moves_the_deadline_within_the_maximum(world):
    p = register(world)
    hand_over(world, p, on=dt.date(2026, 7, 1))
    with pytest.raises(InvalidInput) as exc:
        services.extension_request(
            actor=world["handler"], proposal_id=p.public_id, months=4, reason="需协调多部门"
        )
    assert exc.value.code == error_codes.EXTENSION_TOO_LONG and "最多还可延期 3 个月" in exc.value.message
    ext = services.extension_request(
        actor=world["handler"], proposal_id=p.public_id, months=2, reason="需协调多部门"
    )
    with pytest.raises(Conflict):
        services.extension_request(actor=world["handler"], proposal_id=p.public_id, months=1, reason="再延")
    services.extension_decide(actor=world["office"], extension_id=ext.pk, approve=True)
    p = reload(p)
    assert (
        p.due_base == dt.date(2026, 12, 1) and p.due_date == dt.date(2026, 12, 1) and p.extended_months == 2
    )
    with pytest.raises(InvalidInput):
        services.extension_request(
            actor=world["handler"], proposal_id=p.public_id, months=2, reason="再延两月"
        )


def test_reminders_before_the_deadline_are_sent_once_and_overdue_is_marked(world):
    p = register(world)
    hand_over(world, p, on=dt.date(2026, 7, 1))  # due 2026-10-08
    due = reload(p).due_date
    three_before = dt.date(2026, 9, 28)  # 8 October minus 3 working days (the holiday does not count)
    assert workdays.workdays_between(three_before, due) == 3
    report = services.reminders_send(today=three_before)
    assert report == {"reminded": 1, "overdue": 0}
    assert Notification.objects.filter(user=world["handler"], title__contains="即将到期").count() == 1
    assert services.reminders_send(today=three_before) == {"reminded": 0, "overdue": 0}
    report = services.reminders_send(today=dt.date(2026, 10, 9))
    assert report == {"reminded": 0, "overdue": 1}
    assert reload(p).overdue_marked_at is not None
    assert Notification.objects.filter(user=world["office"], title__contains="已超期").exists()
    assert services.reminders_send(today=dt.date(2026, 10, 12))["overdue"] == 0
    assert actions(p).count(ProposalAction.OVERDUE) == 1


def test_a_late_reply_is_counted_late(world):
    p = register(world)
    hand_over(world, p, on=dt.date(2026, 7, 1))
    services.assignments_deem_accepted()
    to_signed_off(world, p)
    reply = services.reply_send(actor=world["handler"], proposal_id=p.public_id)
    assert reply.due_date_at_send == dt.date(2026, 10, 8) and reply.on_time is False


# --- rules ----------------------------------------------------------------------------------------------------


def test_a_jurisdiction_can_use_its_own_class_table_and_deadlines(world):
    services.jurisdiction_configure(
        actor=world["office"],
        code="huangshan",
        name="黄山市规则",
        deadline_months={"cppcc_proposal": 5},
        class_table=[
            {"code": "甲", "label": "甲类", "follow_up": False},
            {"code": "乙", "label": "乙类", "follow_up": True},
            {"code": "丙", "label": "丙类", "follow_up": False},
        ],
    )
    p = register(world, jurisdiction="huangshan")
    hand_over(world, p, on=dt.date(2026, 3, 2))
    assert reload(p).due_base == dt.date(2026, 8, 2)
    services.assignments_deem_accepted()
    with pytest.raises(InvalidInput) as exc:
        draft(world, p, reply_class="A")
    assert exc.value.code == error_codes.UNKNOWN_CLASS and "甲、乙、丙" in exc.value.message
    draft(world, p, reply_class="乙")
    with pytest.raises(InvalidInput) as exc:
        services.reply_submit_for_review(actor=world["handler"], proposal_id=p.public_id)
    assert exc.value.code == error_codes.PROMISE_DATE_REQUIRED


@pytest.mark.parametrize(
    "rules",
    [
        {"deadline_months": {"npc_suggestion": 0}},
        {"deadline_months": {"petition": 3}},
        {"transfer_window_workdays": 0},
        {"extension_max_months": 2},
        {"reminder_workdays": ["three"]},
        {"class_table": []},
        {"class_table": [{"code": "A"}, {"code": "A"}]},
    ],
)
def test_rules_that_make_no_sense_are_refused(world, rules):
    with pytest.raises(InvalidInput) as exc:
        services.jurisdiction_configure(actor=world["office"], code="bad", name="错误规则", **rules)
    assert exc.value.code == error_codes.RULES_INVALID
    from tongban.proposals.models import Jurisdiction

    assert not Jurisdiction.objects.filter(code="bad").exists()


def test_a_malformed_or_unknown_id_is_not_found(world):
    with pytest.raises(NotFound):
        services.assignment_accept(actor=world["handler"], proposal_id="not-a-uuid")
