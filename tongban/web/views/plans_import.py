"""Plan pages: the list of plans, one plan's structure, importing a plan (upload → preview → save)
and assigning responsible units (by task, by part, or from the Excel template). Thin: every change
goes through ``tongban.plans.importing`` and ``tongban.plans.assignment``."""

from __future__ import annotations

import hashlib
import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongban.core.errors import TongbanError
from tongban.plans import selectors
from tongban.plans.access import can_manage_plans, can_view_all_plans
from tongban.plans.assignment import (
    assignment_import_excel,
    assignment_set,
    assignment_set_for_part,
    assignment_template,
    unit_find,
)
from tongban.plans.constants import ReportingFrequency
from tongban.plans.importing import plan_import_preview, plan_import_save
from tongban.plans.models import Plan
from tongban.plans.readers import MAX_BYTES
from tongban.plans.tasks import preview_path
from tongban.regions.models import Organisation
from tongban.web.views.common import forbidden, handles_errors

_SHA = re.compile(r"^[0-9a-f]{64}$")
UNIT_SPLIT = re.compile(r"[、,，;；\n]+")


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("方案文件"),
        help_text=gettext_lazy("文本（.txt）、Word（.docx）、带文字层的 PDF 或网页（.html），不超过 20 MB。"),
        widget=forms.FileInput(attrs={"accept": ".txt,.docx,.pdf,.html,.htm"}),
    )
    plan = forms.ChoiceField(
        label=gettext_lazy("导入为"),
        required=False,
        help_text=gettext_lazy("选择已有方案即为重新导入修订稿：任务按编号更新，已有的填报和分工保留。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [("", _("新方案"))] + [
            (p.code, f"{p.title}（{p.code}）") for p in Plan.objects.order_by("-created_at")
        ]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("文件超过 20 MB。"))
        return upload


class SaveForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
    code = forms.SlugField(label=gettext_lazy("方案编码"), max_length=64, required=False,
                           help_text=gettext_lazy("小写字母、数字和连字符，如 hefei-yrd-2020；重新导入时不用填。"))  # fmt: skip
    title = forms.CharField(label=gettext_lazy("方案名称"), max_length=255, required=False)
    frequency = forms.ChoiceField(label=gettext_lazy("报送周期"), choices=ReportingFrequency.choices)


class AssignForm(forms.Form):
    lead = forms.CharField(
        label=gettext_lazy("牵头单位"),
        max_length=128,
        help_text=gettext_lazy("单位名称或统一社会信用代码"),
        widget=forms.TextInput(attrs={"list": "units"}),
    )
    co = forms.CharField(
        label=gettext_lazy("配合单位"),
        required=False,
        help_text=gettext_lazy("可填多个，用顿号“、”分隔"),
        widget=forms.TextInput(attrs={"list": "units"}),
    )

    def units(self):
        lead = unit_find(self.cleaned_data["lead"])
        co = [unit_find(n) for n in UNIT_SPLIT.split(self.cleaned_data.get("co") or "") if n.strip()]
        return lead, co


class TaskAssignForm(AssignForm):
    number = forms.IntegerField(label=gettext_lazy("任务序号"), min_value=1)


class PartAssignForm(AssignForm):
    part = forms.TypedChoiceField(label=gettext_lazy("部分（领域）"), coerce=int)


class ExcelForm(forms.Form):
    excel = forms.FileField(
        label=gettext_lazy("填好的分工 Excel"), widget=forms.FileInput(attrs={"accept": ".xlsx"})
    )


@login_required
@handles_errors
def plans(request):
    visible = selectors.plans_visible_to(request.user)
    if not can_view_all_plans(request.user) and not visible.exists():
        return forbidden(request, _("推进督办仅供推进办、督查人员和责任单位使用。"))
    return render(
        request,
        "web/plans/plan_list.html",
        {"plans": visible, "can_manage": can_manage_plans(request.user)},
    )


@login_required
@handles_errors
def plan(request, code: str):
    plan = selectors.plan_for(request.user, code)
    counts, html = _structure_fragment(request, plan)
    return render(
        request,
        "web/plans/plan_detail.html",
        {
            "plan": plan,
            "counts": counts,
            "structure_html": html,
            "can_manage": can_manage_plans(request.user),
        },
    )


# The plan's text with its tasks and units is long (seed 001: 210 tasks, 19 专栏) and changes only with
# a new version of the plan or an assignment: each process renders it once per such change.
_FRAGMENTS: dict[int, tuple[tuple, tuple[dict, str]]] = {}


def _structure_fragment(request, plan: Plan) -> tuple[dict, str]:
    from django.db.models import Count, Max
    from django.template.loader import render_to_string
    from django.utils.safestring import mark_safe
    from django.utils.translation import get_language

    from tongban.plans.models import TaskAssignment

    assigned = TaskAssignment.objects.filter(task__plan=plan).aggregate(n=Count("id"), last=Max("id"))
    version = (plan.version, plan.updated_at, assigned["n"], assigned["last"], get_language())
    hit = _FRAGMENTS.get(plan.pk)
    if hit and hit[0] == version:
        return hit[1]
    structure = selectors.plan_structure(plan)
    html = render_to_string(
        "web/plans/plan_structure_body.html", {"plan": plan, "structure": structure}, request=request
    )
    value = (
        {"parts": len(structure.parts), "tasks": structure.task_count, "columns": structure.column_count},
        mark_safe(html),
    )
    _FRAGMENTS[plan.pk] = (version, value)
    return value


def plan_fragments_clear() -> None:
    _FRAGMENTS.clear()


@login_required
@handles_errors
def plan_import(request):
    if not can_manage_plans(request.user):
        return forbidden(request, _("只有推进办可以导入方案。"))
    if request.method == "POST" and "token" in request.POST:
        return _save(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        content = upload.read()
        try:
            preview = plan_import_preview(content=content, filename=upload.name)
        except TongbanError as exc:
            form.add_error("file", f"{exc.message}（{exc.code}）")
        else:
            # The bytes wait on disk for the save step (named by their hash, removed when saved).
            path = preview_path(preview.source_sha256)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            request.session["plan_preview"] = {"sha": preview.source_sha256, "name": upload.name}
            target = form.cleaned_data.get("plan") or ""
            save = SaveForm(
                initial={
                    "token": preview.source_sha256,
                    "title": preview.parsed.title,
                    "frequency": ReportingFrequency.QUARTERLY,
                }
            )
            request.session["plan_preview"]["plan"] = target
            return render(
                request,
                "web/plans/import_preview.html",
                {
                    "preview": preview,
                    "summary": preview.summary(),
                    "part_counts": list(
                        zip(preview.parsed.parts, preview.parsed.tasks_per_part(), strict=True)
                    ),
                    "form": save,
                    "target": target,
                },
            )
    return render(request, "web/plans/import_upload.html", {"form": form})


def _save(request):
    form = SaveForm(request.POST)
    pending = request.session.get("plan_preview") or {}
    if (
        not form.is_valid()
        or pending.get("sha") != form.cleaned_data["token"]
        or not _SHA.match(pending["sha"])
    ):
        messages.error(request, _("预览已失效，请重新上传文件。"))
        return redirect("web:plan_import")
    path = preview_path(pending["sha"])
    if not path.exists():
        messages.error(request, _("预览已失效，请重新上传文件。"))
        return redirect("web:plan_import")
    content = path.read_bytes()
    if hashlib.sha256(content).hexdigest() != pending["sha"]:
        messages.error(request, _("预览已失效，请重新上传文件。"))
        return redirect("web:plan_import")
    existing = selectors.plan_by_code(pending["plan"]) if pending.get("plan") else None
    try:
        result = plan_import_save(
            actor=request.user,
            content=content,
            filename=pending["name"],
            code=form.cleaned_data["code"] or None,
            title=form.cleaned_data["title"] or None,
            frequency=form.cleaned_data["frequency"],
            plan=existing,
        )
    except TongbanError as exc:
        messages.error(request, f"{exc.message}（{exc.code}）")
        return redirect("web:plan_import")
    path.unlink(missing_ok=True)
    request.session.pop("plan_preview", None)
    if result.unchanged:
        messages.info(request, _("文件内容与当前版本相同，没有变化。"))
    else:
        messages.success(
            request,
            _("已保存第 %(v)d 版：新增任务 %(c)d 项，修改 %(u)d 项，移出 %(r)d 项，恢复 %(s)d 项。")
            % {"v": result.version, "c": len(result.created), "u": len(result.updated),
               "r": len(result.removed), "s": len(result.restored)},
        )  # fmt: skip
    return redirect("web:plan", code=result.plan.code)


@login_required
@handles_errors
def plan_assign(request, code: str):
    if not can_manage_plans(request.user):
        return forbidden(request, _("只有推进办可以分配责任单位。"))
    plan = selectors.plan_by_code(code)
    parts = selectors.plan_parts(plan)
    part_choices = [(p.number, f"{p.label}{p.title}（{p.task_count}）") for p in parts if p.task_count]
    task_form, part_form, excel_form = (
        TaskAssignForm(prefix="t"),
        PartAssignForm(prefix="p"),
        ExcelForm(prefix="x"),
    )
    part_form.fields["part"].choices = part_choices
    excel_errors = []
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "task":
                task_form = TaskAssignForm(request.POST, prefix="t")
                if task_form.is_valid():
                    lead, co = task_form.units()
                    task = selectors.task_for(plan, task_form.cleaned_data["number"])
                    assignment_set(actor=request.user, task=task, lead=lead, co=co)
                    messages.success(request, _("已更新任务%(label)s的责任单位。") % {"label": task.label})
                    return redirect("web:plan_assign", code=plan.code)
            elif action == "part":
                part_form = PartAssignForm(request.POST, prefix="p")
                part_form.fields["part"].choices = part_choices
                if part_form.is_valid():
                    lead, co = part_form.units()
                    part = selectors.part_for(plan, part_form.cleaned_data["part"])
                    result = assignment_set_for_part(actor=request.user, part=part, lead=lead, co=co)
                    messages.success(request, _("已为 %(n)d 项任务指定责任单位。") % {"n": result.tasks})
                    return redirect("web:plan_assign", code=plan.code)
            elif action == "excel":
                excel_form = ExcelForm(request.POST, request.FILES, prefix="x")
                if excel_form.is_valid():
                    result = assignment_import_excel(
                        actor=request.user, plan=plan, content=excel_form.cleaned_data["excel"].read()
                    )
                    messages.success(
                        request,
                        _("已导入 %(n)d 项任务的分工，变更 %(c)d 处。")
                        % {"n": result.tasks, "c": result.changes},
                    )
                    return redirect("web:plan_assign", code=plan.code)
        except TongbanError as exc:
            form = {"task": task_form, "part": part_form, "excel": excel_form}.get(action)
            if form is not None:
                form.add_error(None, f"{exc.message}（{exc.code}）")
            excel_errors = exc.errors if action == "excel" else []
    return render(
        request,
        "web/plans/assign_page.html",
        {
            "plan": plan,
            "parts": parts,
            "tasks": selectors.plan_tasks(plan),
            "task_form": task_form,
            "part_form": part_form,
            "excel_form": excel_form,
            "excel_errors": excel_errors,
            "units": Organisation.objects.order_by("name").only("name", "uscc")[:2000],
        },
    )


@login_required
@handles_errors
def plan_assign_template(request, code: str):
    if not can_manage_plans(request.user):
        return forbidden(request, _("只有推进办可以分配责任单位。"))
    plan = selectors.plan_by_code(code)
    response = HttpResponse(
        assignment_template(plan=plan),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{plan.code}-assignments.xlsx"'
    return response
