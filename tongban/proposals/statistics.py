"""Statistics of proposal handling for supervisors (督查): by lead unit, kind, reply class,
satisfaction and timeliness, and the same as an Excel workbook.

Timeliness is judged on the first reply (the statutory one): 按期 when it was sent on or before the
deadline in force then (extensions included), 逾期 otherwise; proposals not answered yet are 办理中,
or 已超期未答复 once their deadline has passed. Satisfaction is the latest feedback recorded.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from dataclasses import dataclass, field

from django.utils import timezone

from tongban.core.errors import Forbidden
from tongban.proposals import access, error_codes
from tongban.proposals.constants import (
    ProposalKind,
    ProposalStatus,
    ReplyPurpose,
    ReplyStatus,
    Satisfaction,
    Timeliness,
)
from tongban.proposals.models import Proposal, Reply

UNASSIGNED = "（未交办）"


@dataclass
class Tally:
    label: str
    total: int = 0
    timeliness: Counter = field(default_factory=Counter)
    classes: Counter = field(default_factory=Counter)
    satisfaction: Counter = field(default_factory=Counter)

    def add(self, row: dict) -> None:
        self.total += 1
        self.timeliness[row["timeliness"]] += 1
        if row["reply_class"]:
            self.classes[row["reply_class"]] += 1
        if row["satisfaction"]:
            self.satisfaction[row["satisfaction"]] += 1

    @property
    def answered(self) -> int:
        return self.timeliness[Timeliness.ON_TIME] + self.timeliness[Timeliness.LATE]

    @property
    def on_time_rate(self) -> float | None:
        return round(100 * self.timeliness[Timeliness.ON_TIME] / self.answered, 1) if self.answered else None

    @property
    def satisfied_rate(self) -> float | None:
        """满意 and 基本满意 among those who answered."""
        n = sum(self.satisfaction.values())
        good = self.satisfaction[Satisfaction.SATISFIED] + self.satisfaction[Satisfaction.BASICALLY_SATISFIED]
        return round(100 * good / n, 1) if n else None


@dataclass
class Report:
    year: int | None
    class_codes: list[str]
    rows: list[dict]
    by_unit: list[Tally]
    by_kind: list[Tally]
    overall: Tally


def _check(user) -> None:
    if user is not None and not access.can_view_all_proposals(user):
        raise Forbidden(error_codes.FORBIDDEN, "统计仅供督查人员和交办人员查看。")


def report(user, *, year: int | None = None, kind: str | None = None, today: dt.date | None = None) -> Report:
    """Every proposal (of ``year``'s registrations, of one ``kind``) with its lead unit, class,
    satisfaction and timeliness, and the tallies by unit and kind. Three queries whatever the size."""
    _check(user)
    today = today or timezone.localdate()
    qs = Proposal.objects.select_related("lead_unit", "jurisdiction").order_by("id")
    if year:
        qs = qs.filter(registered_at__year=year)
    if kind:
        qs = qs.filter(kind=kind)
    proposals = list(qs)
    first: dict[int, Reply] = {}
    for reply in Reply.objects.filter(
        proposal__in=[p.pk for p in proposals], purpose=ReplyPurpose.FIRST, status=ReplyStatus.SENT
    ).order_by("id"):
        first.setdefault(reply.proposal_id, reply)
    codes: list[str] = []
    rows = []
    for p in proposals:
        for c in p.jurisdiction.class_table:
            if c["code"] not in codes:
                codes.append(c["code"])
        r = first.get(p.pk)
        if r is not None:
            timeliness = Timeliness.ON_TIME if r.on_time else Timeliness.LATE
        elif (
            p.status in (ProposalStatus.HANDED_OVER, ProposalStatus.HANDLING)
            and p.due_date
            and p.due_date < today
        ):
            timeliness = Timeliness.OVERDUE
        else:
            timeliness = Timeliness.OPEN
        rows.append(
            {
                "proposal": p,
                "unit": p.lead_unit.name if p.lead_unit else UNASSIGNED,
                "kind": p.kind,
                "reply_class": p.reply_class,
                "satisfaction": p.satisfaction,
                "timeliness": timeliness,
                "replied_on": timezone.localdate(r.sent_at) if r else None,
            }
        )
    units: dict[str, Tally] = {}
    kinds = {k: Tally(str(ProposalKind(k).label)) for k in ProposalKind.values}
    overall = Tally("合计")
    for row in rows:
        units.setdefault(row["unit"], Tally(row["unit"])).add(row)
        kinds[row["kind"]].add(row)
        overall.add(row)
    return Report(
        year=year,
        class_codes=codes,
        rows=rows,
        by_unit=sorted(units.values(), key=lambda t: (-t.total, t.label)),
        by_kind=[t for t in kinds.values() if t.total],
        overall=overall,
    )


def _rate(value: float | None):
    return value if value is not None else "—"


def export_xlsx(rep: Report) -> bytes:
    """The report as an .xlsx workbook: 按承办单位, 按类型, 明细 (one row per proposal)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    bold = Font(bold=True)
    sat_labels = [(s, str(Satisfaction(s).label)) for s in Satisfaction.values]
    time_labels = [(t, str(Timeliness(t).label)) for t in Timeliness.values]
    head = (
        ["件数"]
        + [label for _, label in time_labels]
        + ["按期答复率（%）"]
        + [f"{c}类" for c in rep.class_codes]
        + [label for _, label in sat_labels]
        + ["满意率（%）"]
    )

    def tally_row(t: Tally) -> list:
        return (
            [t.total]
            + [t.timeliness[k] for k, _ in time_labels]
            + [_rate(t.on_time_rate)]
            + [t.classes[c] for c in rep.class_codes]
            + [t.satisfaction[k] for k, _ in sat_labels]
            + [_rate(t.satisfied_rate)]
        )

    def sheet(ws, first_col: str, tallies: list[Tally]) -> None:
        ws.append([first_col, *head])
        for cell in ws[1]:
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for t in tallies:
            ws.append([t.label, *tally_row(t)])
        ws.append([rep.overall.label, *tally_row(rep.overall)])
        for cell in ws[ws.max_row]:
            cell.font = bold
        ws.column_dimensions["A"].width = 32
        ws.freeze_panes = "B2"

    ws = wb.active
    ws.title = "按承办单位"
    sheet(ws, "主办单位", rep.by_unit)
    sheet(wb.create_sheet("按类型"), "类型", rep.by_kind)

    detail = wb.create_sheet("明细")
    detail.append(
        [
            "编号",
            "类型",
            "标题",
            "领衔人",
            "主办单位",
            "交办日期",
            "答复期限",
            "期限暂定",
            "答复日期",
            "办复类别",
            "满意度",
            "时效",
            "状态",
        ]
    )
    for cell in detail[1]:
        cell.font = bold
    for row in rep.rows:
        p = row["proposal"]
        detail.append(
            [
                p.reference,
                str(ProposalKind(p.kind).label),
                p.title,
                p.proposer_name,
                row["unit"],
                p.handed_over_on,
                p.due_date,
                "是" if p.due_provisional else "",
                row["replied_on"],
                p.reply_class,
                str(Satisfaction(p.satisfaction).label) if p.satisfaction else "",
                str(Timeliness(row["timeliness"]).label),
                str(ProposalStatus(p.status).label),
            ]
        )
    for col, width in zip("ABCDEFGHIJKLM", (30, 12, 40, 10, 28, 12, 12, 8, 12, 8, 10, 12, 10), strict=True):
        detail.column_dimensions[col].width = width
    for r in detail.iter_rows(min_row=2):
        for cell in r:
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    detail.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
