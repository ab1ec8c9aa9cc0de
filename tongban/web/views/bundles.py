"""一件事 pages: the published bundles, the one form that starts one, the applicant's timeline and
withdrawal, and the supervisors' view (share done within the promised time, bundles at risk).

Every write goes through ``tongban.bundles.services`` and every bundle is read through its selectors;
access is ``bundle_for`` (applicant or supervisor) and ``can_supervise``. The helpers at the top only
shape what the selectors return, with the steps' items and cities, for the pages and for the API,
which shows the same thing.
"""

from __future__ import annotations

import uuid
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongban.bundles import selectors
from tongban.bundles import services as bundle_services
from tongban.bundles.constants import BundleStatus
from tongban.bundles.presenters import (
    applicant_label,
    bundle_summary,
    bundle_timeline,
    definition_steps,
    first_step_uploads,
    needed_form_fields,
)
from tongban.cases.services import Upload
from tongban.core.errors import NotFound, TongbanError
from tongban.web.forms import BundleForm
from tongban.web.views.common import (
    forbidden,
    handles_errors,
    paginate,
    staff_required,
    withdraw_confirmation,
)

# --- Anyone: what 一件事 there are --------------------------------------------------------------------


def bundle_list(request):
    definitions = list(selectors.definitions_published())
    steps = definition_steps(definitions)
    rows = [(d, steps[d.pk]) for d in definitions]
    return render(request, "web/bundles/list.html", {"rows": rows})


# --- The applicant --------------------------------------------------------------------------------------


@login_required
@handles_errors
def bundle_apply(request, key: str):
    """One form for the whole 一件事: the form, the files its first steps need, one declaration."""
    definition = selectors.definition_published(key)
    if not request.user.is_applicant:
        return forbidden(request, _("工作人员账户不能以申请人身份申请。"))
    uploads = first_step_uploads(definition)
    needed = needed_form_fields(definition)
    steps = definition_steps([definition])[definition.pk]
    error = None
    token_key = f"bundle_token:{key}"  # one per bundle and session: a second tab makes one bundle
    if request.method == "POST":
        form = BundleForm(request.POST, request.FILES, definition=definition, uploads=uploads, needed=needed)
        if form.is_valid():
            try:
                bundle = bundle_services.bundle_submit(
                    applicant=request.user,
                    definition_key=definition.key,
                    form_data=form.form_data(),
                    consent=form.cleaned_data["consent"],
                    files={
                        step: [Upload(material=code, file=f) for code, f in files]
                        for step, files in form.uploads().items()
                    },
                    client_token=form.cleaned_data.get("client_token") or "",
                )
            except NotFound:
                raise
            except TongbanError as exc:
                error = exc
                form.apply_service_error(exc)
            else:
                messages.success(request, _("申请已提交，各环节将按顺序自动办理。"))
                request.session.pop(token_key, None)
                return redirect("web:bundle", number=bundle.number)
    else:
        form = BundleForm(
            definition=definition,
            uploads=uploads,
            needed=needed,
            initial={"client_token": request.session.setdefault(token_key, uuid.uuid4().hex)},
        )
    status = error.status if error else (422 if form.is_bound else 200)
    context = {"definition": definition, "steps": steps, "form": form, "error": error}
    return render(request, "web/bundles/apply.html", context, status=status)


@login_required
def my_bundles(request):
    page = paginate(request, selectors.bundles_of(request.user))
    rows = [bundle_summary(b) for b in page.object_list]
    return render(request, "web/bundles/mine.html", {"page": page, "rows": rows})


@login_required
@handles_errors
def bundle_page(request, number: str):
    """One timeline: status, working days used of those promised, each step, the history."""
    bundle = selectors.bundle_for(request.user, number)
    timeline = bundle_timeline(bundle)
    is_applicant = bundle.applicant_id == request.user.pk
    context = {
        "t": timeline,
        "case_link": "web:case",
        "certificate_link": "web:certificate" if is_applicant else "",
        "can_withdraw": is_applicant and timeline.view.open,
    }
    return render(request, "web/bundles/detail.html", context)


@login_required
@handles_errors
def bundle_withdraw(request, number: str):
    """撤回: a page that asks for confirmation, then the POST that withdraws every unfinished step."""
    bundle = selectors.bundle_for(request.user, number)
    return withdraw_confirmation(
        request,
        withdraw=lambda reason: bundle_services.bundle_withdraw(
            actor=request.user, number=number, reason=reason
        ),
        done=_("“一件事”申请已撤回，未办结的环节均已终止。"),
        redirect_to=reverse("web:bundle", args=[number]),
        template="web/bundles/withdraw_confirm.html",
        context={"bundle": bundle},
    )


# --- Supervisors, in the workbench ----------------------------------------------------------------------


def supervisor_required(view):
    @staff_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not selectors.can_supervise(request.user):
            return forbidden(request, _("“一件事”督办仅供督查人员和管理员使用。"))
        return view(request, *args, **kwargs)

    return wrapper


class BundleFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("状态"),
        required=False,
        choices=[("", gettext_lazy("全部")), *BundleStatus.choices],
    )


@supervisor_required
def supervised_bundles(request):
    form = BundleFilterForm(request.GET or None)
    status = form.cleaned_data.get("status") if form.is_valid() else ""
    qs = selectors.bundles_supervised(status=status or None).select_related("applicant__enterprise")
    page = paginate(request, qs)
    rows = [(bundle_summary(b), applicant_label(b.applicant)) for b in page.object_list]
    context = {"metrics": selectors.bundle_metrics(), "form": form, "page": page, "rows": rows}
    return render(request, "web/bundles/supervise.html", context)


@supervisor_required
@handles_errors
def supervised_bundle(request, number: str):
    bundle = selectors.bundle_for(request.user, number)
    context = {
        "t": bundle_timeline(bundle),
        "case_link": "web:wb_case",
        "certificate_link": "",
        "applicant": applicant_label(bundle.applicant),
    }
    return render(request, "web/bundles/supervised_detail.html", context)
