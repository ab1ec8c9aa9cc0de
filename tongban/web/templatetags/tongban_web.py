"""Small presentation helpers for the portal and workbench templates."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from tongban.cases.constants import CaseAction, CaseStatus, DueMark
from tongban.cases.selectors import due_mark
from tongban.catalogue.constants import MaterialForm, ServiceMode

register = template.Library()

# How each status is coloured; the text is always shown beside the colour.
STATUS_TONE = {
    CaseStatus.SUBMITTED: "info",
    CaseStatus.ACCEPTED: "info",
    CaseStatus.UNDER_REVIEW: "info",
    CaseStatus.CORRECTION: "warn",
    CaseStatus.SPECIAL_PROCEDURE: "muted",
    CaseStatus.APPROVED: "ok",
    CaseStatus.ISSUED: "ok",
    CaseStatus.REJECTED_INTAKE: "bad",
    CaseStatus.DENIED: "bad",
    CaseStatus.WITHDRAWN: "muted",
}
DUE_TONE = {
    DueMark.ON_TIME: "ok",
    DueMark.DUE_SOON: "warn",
    DueMark.OVERDUE: "bad",
    DueMark.PAUSED: "muted",
    DueMark.DONE: "done",
}
DUE_ICON = {
    DueMark.ON_TIME: "●",
    DueMark.DUE_SOON: "▲",
    DueMark.OVERDUE: "■",
    DueMark.PAUSED: "‖",
    DueMark.DONE: "✓",
}


@register.filter
def html_lang(code: str) -> str:
    """Django's language code as a BCP 47 tag for ``<html lang>``."""
    return {"zh-hans": "zh-Hans", "zh-hant": "zh-Hant"}.get((code or "").lower(), code or "zh-Hans")


@register.inclusion_tag("web/includes/badge.html")
def status_badge(case):
    return {"tone": STATUS_TONE.get(case.status, "info"), "text": case.get_status_display(), "icon": ""}


@register.inclusion_tag("web/includes/badge.html")
def due_badge(case, mark=None):
    mark = mark or due_mark(case)
    return {"tone": DUE_TONE.get(mark, "info"), "text": DueMark(mark).label, "icon": DUE_ICON.get(mark, "")}


@register.filter
def mode_labels(modes) -> list[str]:
    return [str(ServiceMode(m).label) for m in modes or [] if m in ServiceMode.values]


@register.filter
def material_form_label(value: str) -> str:
    return str(MaterialForm(value).label) if value in MaterialForm.values else value


@register.filter
def action_label(value: str) -> str:
    return str(CaseAction(value).label) if value in CaseAction.values else value


@register.filter
def status_label(value: str) -> str:
    return str(CaseStatus(value).label) if value in CaseStatus.values else value


@register.filter
def process_steps(process) -> list[dict]:
    """The item's process (办理流程) as (title, detail) steps, whether stored as strings or objects."""
    steps = []
    for step in process or []:
        if isinstance(step, dict):
            title = step.get("name") or step.get("title") or step.get("step") or ""
            detail = step.get("description") or step.get("detail") or ""
            limit = step.get("limit") or step.get("time_limit") or ""
            steps.append({"title": title, "detail": detail, "limit": limit})
        else:
            steps.append({"title": str(step), "detail": "", "limit": ""})
    return steps


@register.filter
def yes_no(value) -> str:
    return _("是") if value else _("否")


@register.inclusion_tag("web/includes/chart.html")
def chart(name: str, title: str, option: dict):
    """An ECharts chart drawn from ``option`` (see ``tongban.web.charts``); the caller puts the same
    figures in a table with id ``<name>-table`` right after it."""
    return {"name": name, "title": title, "option": option, "data_id": f"{name}-data"}
