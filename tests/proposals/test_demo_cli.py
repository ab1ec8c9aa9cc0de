"""The demo (seeds 000 and 003 with their real replies, synthetic past proposals, the accounts) is
idempotent, and the operators' command writes letters and refuses bad input with exit code 2."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.proposals.flow_fixtures import *  # noqa: F403
from tests.proposals.flow_fixtures import draft, hand_over, register
from tongban.proposals import services
from tongban.proposals.models import Proposal, ProposalEvent, Reply

pytestmark = pytest.mark.django_db


def test_the_demo_registers_the_real_replies_once(settings, tmp_path):
    from tongban.proposals.demo import proposals_demo_prepare

    settings.VAR_DIR = tmp_path
    accounts = proposals_demo_prepare()
    assert {a.username for a in accounts} >= {"proposal_office", "proposal_handler", "proposal_signer"}
    counts = (Proposal.objects.count(), Reply.objects.count(), ProposalEvent.objects.count())
    assert counts[0] >= 22
    seed = Proposal.objects.get(session="区政协五届一次会议", serial=2)
    reply = Reply.objects.get(proposal=seed)
    assert reply.document_number == "瑶发改案〔2022〕15号" and reply.reply_class == "B"
    assert seed.status == "follow_up"  # B class: tracked until the promise is met
    assert Proposal.objects.get(serial=153).status == "closed"
    assert proposals_demo_prepare()[0].password == accounts[0].password
    assert (Proposal.objects.count(), Reply.objects.count(), ProposalEvent.objects.count()) == counts


def test_the_letter_command_writes_the_file_and_refuses_a_reply_not_signed_off(world, tmp_path, capsys):
    p = register(world)
    hand_over(world, p)
    services.assignment_accept(actor=world["handler"], proposal_id=p.public_id)
    draft(world, p)
    with pytest.raises(CommandError) as exc:
        call_command("proposal", "letter", str(p.public_id), "--format", "docx")
    assert exc.value.returncode == 2 and "PROPOSAL_NOT_SIGNED_OFF" in str(exc.value)
    with pytest.raises(CommandError) as exc:
        call_command("proposal", "letter", "not-a-uuid", "--format", "pdf")
    assert exc.value.returncode == 2
    services.reply_submit_for_review(actor=world["handler"], proposal_id=p.public_id)
    services.reply_review(actor=world["signer"], proposal_id=p.public_id, approve=True)
    services.reply_sign_off(actor=world["signer"], proposal_id=p.public_id)
    out = tmp_path / "letter.pdf"
    call_command("proposal", "letter", str(p.public_id), "--format", "pdf", "--output", str(out))
    assert out.read_bytes()[:5] == b"%PDF-"
    call_command("proposal", "search", "长三角 一网通办", "-k", "3")
    assert p.reference in capsys.readouterr().out
