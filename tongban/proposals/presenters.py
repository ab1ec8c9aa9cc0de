"""What pages and the API show of a proposal: its deadline as people read it, its timeline, its
units. Shapes only; reads come from ``selectors``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from tongban.core import workdays
from tongban.proposals.constants import (
    OPEN_STATUSES,
    AssignmentStatus,
    ProposalAction,
    ProposalKind,
    ProposalStatus,
    UnitRole,
)
from tongban.proposals.models import Proposal, ProposalEvent

DUE_SOON_WORKDAYS = 10


@dataclass(frozen=True)
class DeadlineView:
    date: dt.date | None
    provisional: bool
    workdays_left: int | None  # None when not running
    mark: str  # "", "due_soon", "overdue"
    label: str  # 期限 as words: "答复期限" or "承诺解决时限"

    @property
    def text(self) -> str:
        if not self.date:
            return "—"
        return f"{self.date:%Y-%m-%d}" + ("（暂定）" if self.provisional else "")


def deadline_of(proposal: Proposal, *, today: dt.date | None = None) -> DeadlineView:
    today = today or timezone.localdate()
    if proposal.status == ProposalStatus.FOLLOW_UP:
        due, provisional, label = proposal.promise_due, False, "承诺解决时限"
    else:
        due, provisional, label = proposal.due_date, proposal.due_provisional, "答复期限"
    running = proposal.status in OPEN_STATUSES or proposal.status == ProposalStatus.FOLLOW_UP
    if not due or not running:
        return DeadlineView(due, provisional, None, "", label)
    if due < today:
        return DeadlineView(due, provisional, 0, "overdue", label)
    left = workdays.workdays_between(today, due)
    return DeadlineView(due, provisional, left, "due_soon" if left <= DUE_SOON_WORKDAYS else "", label)


def kind_label(kind: str) -> str:
    return str(ProposalKind(kind).label)


@dataclass(frozen=True)
class EventView:
    at: dt.datetime
    action: str
    label: str
    actor: str
    unit: str
    note: str
    detail: str


def _detail(event: ProposalEvent) -> str:
    d = event.data or {}
    if event.action in (ProposalAction.HAND_OVER, ProposalAction.REOPEN, ProposalAction.APPROVE_EXTENSION):
        if d.get("due_date"):
            return f"答复期限 {d['due_date']}" + ("（暂定）" if d.get("due_provisional") else "")
    if event.action == ProposalAction.SIGN_OFF:
        return f"{d.get('document_number', '')}，办复类别 {d.get('class', '')}"
    if event.action == ProposalAction.SEND:
        return d.get("document_number", "") + ("" if d.get("on_time", True) else "（逾期）")
    if event.action == ProposalAction.FEEDBACK and d.get("satisfaction"):
        from tongban.proposals.constants import Satisfaction

        return str(Satisfaction(d["satisfaction"]).label)
    if event.action == ProposalAction.DEADLINE_CONFIRMED:
        return f"{d.get('from')} → {d.get('to')}"
    if event.action == ProposalAction.DRAFT:
        return f"第 {d.get('version')} 稿"
    if event.action in (ProposalAction.REQUEST_EXTENSION,) and d.get("months"):
        return f"{d['months']} 个月"
    if event.action == ProposalAction.REMIND and d.get("due"):
        return f"期限 {d['due']}，剩 {d.get('workdays_left')} 个工作日"
    return ""


def timeline(proposal: Proposal) -> list[EventView]:
    events = (
        ProposalEvent.objects.filter(proposal=proposal)
        .select_related("organisation")
        .order_by("created_at", "id")
    )
    return [
        EventView(
            at=e.created_at,
            action=e.action,
            label=str(ProposalAction(e.action).label) if e.action in ProposalAction.values else e.action,
            actor=e.actor_label,
            unit=e.organisation.name if e.organisation else "",
            note=e.note,
            detail=_detail(e),
        )
        for e in events
    ]


def units_text(assignments) -> dict[str, str]:
    lead = [a.organisation.name for a in assignments if a.role == UnitRole.LEAD]
    co = [
        a.organisation.name
        for a in assignments
        if a.role == UnitRole.CO and a.status != AssignmentStatus.RETURNED
    ]
    return {"lead": "、".join(lead), "co": "、".join(co)}


def class_options(jurisdiction) -> list[tuple[str, str]]:
    return [
        (
            c["code"],
            f"{c.get('label') or c['code']}" + (f"：{c['description']}" if c.get("description") else ""),
        )
        for c in jurisdiction.class_table
    ]
