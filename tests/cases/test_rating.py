"""政务服务“好差评”: the applicant rates a finished case once; a 差评 needs reasons; a rating of a case
another node handled travels there as the applicant's own action."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests import factories as f
from tongban.cases import federation
from tongban.cases import services as svc
from tongban.cases.constants import CaseAction
from tongban.cases.models import Case, CaseEvent, CaseRating
from tongban.cases.rating import case_rate
from tongban.cases.services import Upload
from tongban.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tongban.core.models import AuditEntry
from tongban.exchange.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    authority = f.organisation()
    item = f.item(authority)
    return {"item": item, "citizen": f.citizen(), "reviewer": f.staff(authority)}


def finished_case(world) -> Case:
    case = svc.case_submit(
        applicant=world["citizen"],
        item=world["item"],
        form_data=f.VALID_FORM,
        files=[Upload("sqs", f.pdf()), Upload("zc", f.pdf("章程.pdf"))],
    )
    svc.case_accept(actor=world["reviewer"], number=case.number)
    svc.case_decide(actor=world["reviewer"], number=case.number, approve=False, reason="材料不符合法定条件")
    return Case.objects.get(pk=case.pk)


def test_applicant_rates_a_finished_case_once_with_event_and_audit(world):
    case = finished_case(world)
    rating = case_rate(actor=world["citizen"], number=case.number, score=5, reasons=["fast", "friendly"])
    assert (rating.score, rating.reasons, rating.item_id) == (5, ["fast", "friendly"], world["item"].pk)
    event = CaseEvent.objects.get(case=case, action=CaseAction.RATE)
    assert event.from_status == event.to_status == case.status
    assert event.data == {"score": 5, "reasons": ["fast", "friendly"]}
    assert AuditEntry.objects.filter(action="case.rate", target_id=case.number).count() == 1
    with pytest.raises(Conflict) as exc:
        case_rate(actor=world["citizen"], number=case.number, score=1, reasons=["slow"])
    assert exc.value.code == "RATING_ALREADY_GIVEN"
    assert CaseRating.objects.count() == 1


def test_an_open_case_cannot_be_rated(world):
    case = svc.case_submit(
        applicant=world["citizen"],
        item=world["item"],
        form_data=f.VALID_FORM,
        files=[Upload("sqs", f.pdf()), Upload("zc", f.pdf("章程.pdf"))],
    )
    with pytest.raises(Conflict) as exc:
        case_rate(actor=world["citizen"], number=case.number, score=4)
    assert exc.value.code == "RATING_NOT_FINISHED" and "办结后" in exc.value.message
    assert not CaseRating.objects.exists()


@pytest.mark.parametrize(
    ("score", "reasons", "comment", "field"),
    [
        (0, [], "", "score"),
        (6, [], "", "score"),
        ("五", [], "", "score"),
        (2, [], "", "reasons"),  # a 差评 needs a reason
        (1, ["fast"], "", "reasons"),  # a good reason for a bad score
        (5, ["slow"], "", "reasons"),
        (5, ["nonsense"], "", "reasons"),
        (3, ["other"], "", "comment"),  # 其他 needs words
        (4, [], "很" * 501, "comment"),
    ],
)
def test_bad_ratings_are_refused_per_field_and_nothing_is_written(world, score, reasons, comment, field):
    case = finished_case(world)
    with pytest.raises(InvalidInput) as exc:
        case_rate(actor=world["citizen"], number=case.number, score=score, reasons=reasons, comment=comment)
    assert exc.value.code == "RATING_INVALID"
    assert [e.field for e in exc.value.errors] == [field]
    assert not CaseRating.objects.exists() and not CaseEvent.objects.filter(action="rate").exists()


def test_only_the_applicant_rates(world):
    case = finished_case(world)
    with pytest.raises(NotFound):
        case_rate(actor=f.citizen(name="李四"), number=case.number, score=5)
    with pytest.raises(Forbidden):
        case_rate(actor=world["reviewer"], number=case.number, score=5)


def test_a_rating_of_a_case_handled_elsewhere_is_forwarded_to_the_handling_node(world):
    case = finished_case(world)
    Case.objects.filter(pk=case.pk).update(handling_node="310000")
    case_rate(actor=world["citizen"], number=case.number, score=2, reasons=["slow"], comment="等了很久")
    message = OutboxMessage.objects.get(type="case.command", recipient="310000")
    assert message.payload["action"] == "rate"
    assert (message.payload["score"], message.payload["reasons"]) == (2, ["slow"])


def test_the_handling_node_stores_a_forwarded_rating_once(world):
    case = finished_case(world)
    Case.objects.filter(pk=case.pk).update(receiving_node="310000")
    payload = {
        "number": case.number,
        "action": "rate",
        "score": 1,
        "reasons": ["many_trips"],
        "comment": "",
        "at": "2026-11-20T10:00:00+08:00",
    }
    federation.on_command(payload, sender="310000", envelope_id="e1")
    federation.on_command(payload, sender="310000", envelope_id="e1")  # a repeated envelope
    rating = CaseRating.objects.get(case=case)
    assert rating.is_bad and rating.rated_by is None
    event = CaseEvent.objects.get(case=case, action="rate")
    assert event.actor_label.startswith("申请人（经") and "310000" in event.actor_label
    # A node that did not send the case cannot rate it.
    before = CaseRating.objects.count()
    federation.on_command({**payload, "number": case.number}, sender="320500", envelope_id="e2")
    assert CaseRating.objects.count() == before
    assert settings.NODE_CODE != "310000"
