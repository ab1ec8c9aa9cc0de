"""The staff workbench: the queue, one case with the actions valid now, and window intake (代收).

Each action is its own small POST view that parses its form and calls its service; a refusal shows
the case page again with the message and what was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from tongban.accounts.constants import Role
from tongban.cases import access
from tongban.cases import selectors as case_selectors
from tongban.cases import services as case_services
from tongban.cases.batch import case_batch_apply
from tongban.cases.constants import TRANSITIONS, CaseAction, CaseStatus, DueMark
from tongban.catalogue import selectors as catalogue
from tongban.core.errors import Forbidden, NotFound, TongbanError
from tongban.web.forms import (
    ApplicationForm,
    CorrectionForm,
    EmptyForm,
    NoteForm,
    OptionalReasonForm,
    QueueFilterForm,
    ReasonForm,
    form_data_rows,
)
from tongban.web.templatetags.tongban_web import DUE_ICON, DUE_TONE, STATUS_TONE
from tongban.web.views.common import forbidden, handles_errors, safe_next, staff_required, uploads_of

QUEUE_PAGE_SIZE = 50
# Statuses a case can be in for a batch action (受理 from 已提交, 开始审查 from 已受理).
BATCHABLE_STATUSES = frozenset({CaseStatus.SUBMITTED, CaseStatus.ACCEPTED})
A = CaseAction


@staff_required
def queue(request):
    """The organisation's cases, the most urgent deadline first."""
    user = request.user
    counts = case_selectors.queue_counts(user=user)
    open_count = sum(counts.get(s, 0) for s in (*case_selectors.QUEUE_STATUSES, CaseStatus.CORRECTION))
    status_choices = [("", _("全部待办") + f" ({open_count})")]
    open_statuses = (*case_selectors.QUEUE_STATUSES, CaseStatus.CORRECTION)
    status_choices += [
        (s.value, f"{s.label} ({counts.get(s.value, 0)})") for s in CaseStatus if s in open_statuses
    ]
    status_choices += [(s.value, s.label) for s in CaseStatus if s not in open_statuses]
    status_choices += [("done", _("全部已办结"))]
    form = QueueFilterForm(request.GET or None, status_choices=status_choices)
    status = item = q = ""
    if form.is_bound:
        form.is_valid()
        status = form.cleaned_data.get("status") or ""
        item = form.cleaned_data.get("item") or ""
        q = form.cleaned_data.get("q") or ""
    cases = case_selectors.case_queue(user=user, status=status or None, item_query=item, query=q)
    paginator = Paginator(case_selectors.case_rows(cases), QUEUE_PAGE_SIZE)
    # The page shows how many cases match. The open ones per status were just counted for the
    # filter; counting them again (PostgreSQL starts parallel workers for it) cost as much as
    # the rest of the page. Other filters are counted on the cases alone, without the item join.
    if not (item or q) and (not status or status in open_statuses):
        paginator.count = counts.get(status, 0) if status else open_count
    else:
        paginator.count = cases.count()
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = _queue_rows(page.object_list)
    can_batch = user.has_role(Role.REVIEWER)
    return render(
        request,
        "web/workbench/queue.html",
        {"form": form, "page": page, "can_batch": can_batch, "next": request.get_full_path()},
    )


@require_POST
@staff_required
def batch(request):
    """批量受理 / 批量开始审查 of the cases ticked in the queue."""
    back = safe_next(request, fallback="web:workbench")
    try:
        result = case_batch_apply(
            actor=request.user, numbers=request.POST.getlist("numbers"), action=request.POST.get("action", "")
        )
    except TongbanError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    if result.done:
        messages.success(
            request,
            ngettext("已办理 %(n)d 件：%(numbers)s", "已办理 %(n)d 件：%(numbers)s", len(result.done))
            % {"n": len(result.done), "numbers": "、".join(result.done)},
        )
    for number, message in result.refused:
        messages.error(request, _("%(number)s 未办理：%(message)s") % {"number": number, "message": message})
    return redirect(back)


def _queue_rows(rows) -> list[dict]:
    """What each row of the queue shows, from plain values, ready to print: worked out here once
    per page (the deadline horizon, each label once, dates as text) rather than by template tags,
    includes and filters per cell, which were most of the page's time."""
    marks = case_selectors.DueMarks()
    tz = timezone.get_current_timezone()
    status_labels: dict[str, str] = {}
    due_labels: dict[str, str] = {}
    out = []
    for row in rows:
        status = row["status"]
        mark = marks.of(status, row["due_date"])
        if status not in status_labels:
            status_labels[status] = str(CaseStatus(status).label)
        if mark not in due_labels:
            due_labels[mark] = str(DueMark(mark).label)
        out.append(
            {
                "number": row["number"],
                "item_name": row["item__name"],
                "applicant_name": row["applicant_name"],
                "submitted_at": row["submitted_at"].astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                "due_date": row["due_date"].isoformat() if row["due_date"] else "",
                "due_provisional": row["due_provisional"],
                "status_tone": STATUS_TONE.get(status, "info"),
                "status_label": status_labels[status],
                "due_tone": DUE_TONE.get(mark, "info"),
                "due_label": due_labels[mark],
                "due_icon": DUE_ICON.get(mark, ""),
                "batchable": status in BATCHABLE_STATUSES,
            }
        )
    return out


# --- one case -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionSpec:
    key: str  # form prefix and URL part
    action: str
    form: type
    label: object
    danger: bool = False
    help: object = ""

    @property
    def url_name(self) -> str:
        return "web:wb_" + self.key.replace("-", "_")


ACTIONS = [
    ActionSpec(
        "accept",
        A.ACCEPT,
        NoteForm,
        gettext_lazy("受理"),
        help=gettext_lazy("材料齐全、符合法定形式，予以受理。"),
    ),
    ActionSpec(
        "reject",
        A.REJECT_INTAKE,
        ReasonForm,
        gettext_lazy("不予受理"),
        danger=True,
        help=gettext_lazy("不属于受理范围或不符合受理条件，须写明理由。"),
    ),
    ActionSpec(
        "correction",
        A.REQUEST_CORRECTION,
        CorrectionForm,
        gettext_lazy("一次性告知补正"),
        help=gettext_lazy("逐项列明需要补充或更正的全部材料及原因；补正期间暂停计时。"),
    ),
    ActionSpec("start-review", A.START_REVIEW, EmptyForm, gettext_lazy("开始审查")),
    ActionSpec(
        "special-start",
        A.START_SPECIAL,
        ReasonForm,
        gettext_lazy("进入特别程序"),
        help=gettext_lazy("听证、检验检测、专家评审等，特别程序期间暂停计时。"),
    ),
    ActionSpec("special-end", A.END_SPECIAL, NoteForm, gettext_lazy("结束特别程序")),
    ActionSpec("approve", A.APPROVE, OptionalReasonForm, gettext_lazy("准予许可")),
    ActionSpec(
        "deny",
        A.DENY,
        ReasonForm,
        gettext_lazy("不予许可"),
        danger=True,
        help=gettext_lazy("须写明不予许可的理由，并告知申请人依法享有的权利。"),
    ),
    ActionSpec("issue", A.ISSUE, NoteForm, gettext_lazy("发证")),
]
ACTIONS_BY_KEY = {a.key: a for a in ACTIONS}


def _blank_form(spec: ActionSpec, case):
    if spec.form is CorrectionForm:
        return CorrectionForm(materials=list(case.item.materials.all()))
    return spec.form(prefix=spec.key)


def _available(user, case) -> list[ActionSpec]:
    result = []
    for spec in ACTIONS:
        if case.status not in TRANSITIONS[spec.action]:
            continue
        try:
            access.check_can_act(user, case, spec.action)
        except Forbidden:
            continue
        result.append(spec)
    return result


def _case_page(request, number: str, *, bound: dict | None = None, error=None, status: int = 200):
    detail = case_selectors.case_detail(user=request.user, number=number)
    case = detail.case
    bound = bound or {}
    actions = [
        (spec, bound.get(spec.key) or _blank_form(spec, case)) for spec in _available(request.user, case)
    ]
    context = {
        "detail": detail,
        "case": case,
        "form_rows": form_data_rows(case.item.form_schema, case.form_data),
        "actions": actions,
        "error": error,
        # The action whose form shows the error; if it is not offered now, the error shows on top.
        "error_action": next((spec.key for spec, _ in actions if spec.key in bound), None),
    }
    return render(request, "web/workbench/case.html", context, status=status)


@staff_required
@handles_errors
def case_page(request, number: str):
    return _case_page(request, number)


def _bound_form(spec: ActionSpec, request, number: str):
    if spec.form is CorrectionForm:
        case = case_selectors.case_detail(user=request.user, number=number).case
        materials = list(case.item.materials.all())
        return CorrectionForm(request.POST, materials=materials, add_row="add_row" in request.POST)
    return spec.form(request.POST, prefix=spec.key)


def _action(key: str, done):
    """Makes the POST view of one action: the form parses, ``call`` runs the service, a refusal shows
    the case page again with the message next to what was typed, success goes back to the case."""
    spec = ACTIONS_BY_KEY[key]

    def decorate(call: Callable[..., object]):
        @require_POST
        @staff_required
        @handles_errors
        @wraps(call)
        def view(request, number: str):
            form = _bound_form(spec, request, number)
            if "add_row" in request.POST:  # 补正 rows without JavaScript: one more row, nothing sent
                return _case_page(request, number, bound={key: form})
            if not form.is_valid():
                return _case_page(request, number, bound={key: form}, status=422)
            try:
                call(request.user, number, form)
            except NotFound:
                raise
            except TongbanError as exc:
                form.apply_service_error(exc)
                return _case_page(request, number, bound={key: form}, error=exc, status=exc.status)
            messages.success(request, str(done))
            return redirect("web:wb_case", number=number)

        return view

    return decorate


@_action("accept", gettext_lazy("已受理。"))
def accept(user, number: str, form):
    case_services.case_accept(actor=user, number=number, note=form.cleaned_data["note"])


@_action("reject", gettext_lazy("已作出不予受理决定。"))
def reject(user, number: str, form):
    case_services.case_reject_intake(actor=user, number=number, reason=form.cleaned_data["reason"])


@_action("correction", gettext_lazy("补正告知已发出，计时暂停。"))
def request_correction(user, number: str, form):
    case_services.case_request_correction(
        actor=user, number=number, items=form.items(), note=form.cleaned_data["note"]
    )


@_action("start-review", gettext_lazy("已开始审查。"))
def start_review(user, number: str, form):
    case_services.case_start_review(actor=user, number=number)


@_action("special-start", gettext_lazy("已进入特别程序，计时暂停。"))
def special_start(user, number: str, form):
    case_services.case_start_special(actor=user, number=number, reason=form.cleaned_data["reason"])


@_action("special-end", gettext_lazy("特别程序已结束，恢复计时。"))
def special_end(user, number: str, form):
    case_services.case_end_special(actor=user, number=number, note=form.cleaned_data["note"])


@_action("approve", gettext_lazy("已作出准予许可决定。"))
def approve(user, number: str, form):
    case_services.case_decide(actor=user, number=number, approve=True, reason=form.cleaned_data["reason"])


@_action("deny", gettext_lazy("已作出不予许可决定。"))
def deny(user, number: str, form):
    case_services.case_decide(actor=user, number=number, approve=False, reason=form.cleaned_data["reason"])


@_action("issue", gettext_lazy("已发证。"))
def issue(user, number: str, form):
    case_services.case_issue(actor=user, number=number, note=form.cleaned_data["note"])


# --- window intake (代收) ---------------------------------------------------------------------------


@staff_required
@handles_errors
def intake(request):
    """代收: choose the item, record who the applicant is, the form and the scanned materials."""
    try:
        access.check_can_take_in(request.user)
    except Forbidden as exc:
        return forbidden(request, str(exc.message))
    code = request.POST.get("item") or request.GET.get("item") or ""
    if not code:
        q = (request.GET.get("q") or "").strip()
        results = list(catalogue.item_search(query=q)[:30]) if q else []
        return render(request, "web/workbench/intake_choose.html", {"q": q, "results": results})
    item = catalogue.item_get_for_application(implementation_code=code)
    materials = catalogue.item_materials(item)
    error = None
    if request.method == "POST":
        form = ApplicationForm(request.POST, request.FILES, item=item, materials=materials, intake=True)
        if form.is_valid():
            d = form.cleaned_data
            try:
                case = case_services.case_intake(
                    clerk=request.user,
                    item=item,
                    applicant_name=d["applicant_name"],
                    applicant_id_number=d["applicant_id_number"],
                    applicant_phone=d.get("applicant_phone") or "",
                    identity_checked=bool(d.get("identity_checked")),
                    form_data=form.form_data(),
                    files=uploads_of(form),
                    client_token=d.get("client_token") or "",
                )
            except NotFound:
                raise
            except TongbanError as exc:
                error = exc
                form.apply_service_error(exc)
            else:
                messages.success(request, _("已代收，办件编号：%(number)s。") % {"number": case.number})
                return redirect("web:wb_case", number=case.number)
    else:
        form = ApplicationForm(item=item, materials=materials, intake=True)
    status = error.status if error else (422 if form.is_bound else 200)
    return render(
        request, "web/workbench/intake.html", {"item": item, "form": form, "error": error}, status=status
    )
