"""Small presentation helpers for the portal and workbench templates."""

from __future__ import annotations

import functools
from html import escape as html_escape

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.encoding import iri_to_uri
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
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


_QUEUE_ROW = (
    '<tr>{pick}<th scope="row"><a class="mono" href="{url}">{number}</a></th><td>{item}</td>'
    "<td>{applicant}</td><td>{submitted}</td><td>{due}</td>"
    '<td><span class="badge badge--{status_tone}">{status_label}</span></td>'
    '<td><span class="badge badge--{due_tone}"><span class="badge__icon" aria-hidden="true">{due_icon}</span>'
    "{due_label}</span></td></tr>\n"
)


@register.simple_tag
def queue_rows(rows: list[dict], can_batch: bool) -> str:
    """The workbench queue's rows (from ``workbench._queue_rows``), written in Python as the admin's
    change list writes its rows: with a template, 50 rows of cells and tags were two thirds of the
    page's CPU. Markup as in includes/deadline.html and includes/badge.html. Every value is escaped
    with the standard library's ``html.escape``, which Django's ``escape`` wraps (without the lazy
    string checks that were half of this function's time)."""
    url_of = reverse("web:wb_case", args=["NUMBER"]).split("NUMBER")
    pick_label = _("选择 %(n)s")
    provisional = (
        f' <span class="tag tag--provisional" title="{html_escape(_("节假日安排尚未公布，期限可能调整"))}">'
        f'{html_escape(_("暂定"))}</span><span class="visually-hidden">'
        f"{html_escape(_('（节假日安排尚未公布，期限可能调整）'))}</span>"
    )
    out = []
    for row in rows:
        number = html_escape(row["number"])
        pick = ""
        if can_batch:
            pick = (
                f'<td><input type="checkbox" name="numbers" value="{number}" form="batch-form" id="pick-{number}" '
                f'aria-label="{html_escape(pick_label % {"n": row["number"]})}"></td>'
                if row["batchable"]
                else "<td></td>"
            )
        due = html_escape(row["due_date"])
        due_cell = (
            f'<time datetime="{due}">{due}</time>' + (provisional if row["due_provisional"] else "")
            if due
            else "—"
        )
        out.append(
            _QUEUE_ROW.format(
                pick=pick,
                url=html_escape(iri_to_uri(url_of[0] + row["number"] + url_of[1])),
                number=number,
                item=html_escape(row["item_name"]),
                applicant=html_escape(row["applicant_name"]),
                submitted=html_escape(row["submitted_at"]),
                due=due_cell,
                status_tone=row["status_tone"],
                status_label=html_escape(row["status_label"]),
                due_tone=row["due_tone"],
                due_icon=row["due_icon"],
                due_label=html_escape(row["due_label"]),
            )
        )
    return mark_safe("".join(out))


@functools.lru_cache(maxsize=256)
def _reverse_plain(name: str, prefix: str, urlconf, language: str | None) -> str:
    return reverse(name)


@register.simple_tag(takes_context=True)
def nav_link(context, name: str, label) -> str:
    """A navigation link, marked ``aria-current="page"`` on its own page: ``{% nav_link "web:home"
    _("办事指南") %}``. Every page has about twenty; their URLs take no arguments, so each is
    reversed once per process (for the script prefix, URLconf and language in force)."""
    href = _reverse_plain(name, get_script_prefix(), get_urlconf(), get_language())
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    current = (
        ' aria-current="page"' if match is not None and match.url_name == name.rpartition(":")[2] else ""
    )
    return mark_safe(f'<a href="{html_escape(href)}"{current}>{html_escape(str(label))}</a>')
