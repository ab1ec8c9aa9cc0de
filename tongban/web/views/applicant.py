"""The applicant's pages: apply (一表登记), follow a case, answer a 补正 notice, withdraw, messages."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from tongban.cases import selectors as case_selectors
from tongban.cases import services as case_services
from tongban.cases.constants import TRANSITIONS, CaseAction
from tongban.cases.rating import RATEABLE_STATUSES
from tongban.cases.rating import case_rate as case_rate_service
from tongban.catalogue import selectors as catalogue
from tongban.certificates.presenters import picker_options
from tongban.core.errors import NotFound, TongbanError
from tongban.exchange.files import open_file
from tongban.notifications.selectors import notifications_of
from tongban.notifications.services import notifications_mark_read
from tongban.web.forms import ApplicationForm, RatingForm, ResubmitForm, form_data_rows
from tongban.web.views.common import forbidden, handles_errors, paginate, uploads_of, withdraw_confirmation


@login_required
@handles_errors
def apply(request, code: str):
    """一表登记: the item's form and its materials in one page; a repeated submission makes one case."""
    item = catalogue.item_get_for_application(implementation_code=code)
    if not request.user.is_applicant:
        return forbidden(request, _("工作人员账户不能以申请人身份申请，请在工作台使用窗口代收。"))
    materials = catalogue.item_materials(item)
    certificates = picker_options(request.user, materials)
    error = None
    # One submission token per item and session: a second tab, a double click or a resent form
    # carry the same token, and the service makes one case of them.
    token_key = f"apply_token:{code}"
    if request.method == "POST":
        form = ApplicationForm(
            request.POST,
            request.FILES,
            item=item,
            materials=materials,
            partner_cities=catalogue.joint_partner_cities(item=item),
            certificates=certificates,
        )
        if form.is_valid():
            try:
                case = case_services.case_submit(
                    applicant=request.user,
                    item=item,
                    form_data=form.form_data(),
                    files=uploads_of(form),
                    mode=form.cleaned_data.get("mode") or None,
                    client_token=form.cleaned_data.get("client_token") or "",
                    partner_city=form.cleaned_data.get("partner_city") or "",
                    certificates=form.certificate_choices(),
                )
            except NotFound:
                raise
            except TongbanError as exc:
                error = exc
                form.apply_service_error(exc)
            else:
                request.session.pop(token_key, None)  # the next application of this item is a new one
                return redirect("web:case_submitted", number=case.number)
    else:
        form = ApplicationForm(
            item=item,
            materials=materials,
            partner_cities=catalogue.joint_partner_cities(item=item),
            certificates=certificates,
            initial={"client_token": request.session.setdefault(token_key, uuid.uuid4().hex)},
        )
    status = error.status if error else (422 if form.is_bound else 200)
    return render(
        request,
        "web/apply.html",
        {"item": item, "form": form, "error": error, "materials": materials},
        status=status,
    )


@login_required
@handles_errors
def case_submitted(request, number: str):
    detail = case_selectors.case_detail(user=request.user, number=number)
    return render(request, "web/submitted.html", {"case": detail.case, "mark": detail.mark})


@login_required
def my_cases(request):
    page = paginate(request, case_selectors.cases_of_applicant(user=request.user))
    return render(request, "web/my_cases.html", {"page": page})


def _case_page(request, number: str, *, resubmit_form=None, rating_form=None, error=None, status=200):
    detail = case_selectors.case_detail(user=request.user, number=number)
    case = detail.case
    is_applicant = case.applicant_id == request.user.pk
    if resubmit_form is None and detail.open_notice is not None and is_applicant:
        resubmit_form = ResubmitForm(notice=detail.open_notice)
    rateable = is_applicant and case.status in RATEABLE_STATUSES and not detail.rating
    if rating_form is None and rateable:
        rating_form = RatingForm()
    context = {
        "detail": detail,
        "rating_form": rating_form if rateable else None,
        "case": case,
        "form_rows": form_data_rows(case.item.form_schema, case.form_data),
        "resubmit_form": resubmit_form if is_applicant else None,
        "can_withdraw": is_applicant and case.status in TRANSITIONS[CaseAction.WITHDRAW],
        "error": error,
    }
    return render(request, "web/case_detail.html", context, status=status)


@login_required
@handles_errors
def case_detail(request, number: str):
    """One case: status, deadline, the timeline, materials, an open 补正 notice with its upload form."""
    return _case_page(request, number)


@require_POST
@login_required
@handles_errors
def case_resubmit(request, number: str):
    detail = case_selectors.case_detail(user=request.user, number=number)
    form = ResubmitForm(request.POST, request.FILES, notice=detail.open_notice)
    if form.is_valid():
        try:
            case_services.case_resubmit(
                actor=request.user, number=number, files=uploads_of(form), note=form.cleaned_data["note"]
            )
        except NotFound:
            raise
        except TongbanError as exc:
            form.apply_service_error(exc)
            return _case_page(request, number, resubmit_form=form, error=exc, status=exc.status)
        messages.success(request, _("补正材料已提交，请等待审批部门处理。"))
        return redirect("web:case", number=number)
    return _case_page(request, number, resubmit_form=form, status=422)


@require_POST
@login_required
@handles_errors
def case_rate(request, number: str):
    """政务服务“好差评” of a finished case, once."""
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            case_rate_service(
                actor=request.user,
                number=number,
                score=form.cleaned_data["score"],
                reasons=form.cleaned_data["reasons"],
                comment=form.cleaned_data["comment"],
            )
        except NotFound:
            raise
        except TongbanError as exc:
            form.apply_service_error(exc)
            return _case_page(request, number, rating_form=form, error=exc, status=exc.status)
        messages.success(request, _("感谢您的评价。"))
        return redirect(reverse("web:case", args=[number]) + "#rating")
    return _case_page(request, number, rating_form=form, status=422)


@login_required
@handles_errors
def case_withdraw(request, number: str):
    """撤回申请: a page that asks for confirmation, then the POST that withdraws."""
    detail = case_selectors.case_detail(user=request.user, number=number)
    return withdraw_confirmation(
        request,
        withdraw=lambda reason: case_services.case_withdraw(actor=request.user, number=number, reason=reason),
        done=_("申请已撤回。"),
        redirect_to=reverse("web:case", args=[number]),
        template="web/withdraw_confirm.html",
        context={"case": detail.case},
    )


@login_required
@handles_errors
@xframe_options_sameorigin  # previewed inline on the case pages (PDF in a frame)
def material_download(request, number: str, material_id: int):
    """A handed-in material, shown in the browser, to whoever may see the case."""
    material = case_selectors.case_material_for(user=request.user, number=number, material_id=material_id)
    response = FileResponse(
        open_file(material.file),  # also while a received file is still being moved into place
        content_type=material.content_type,
        as_attachment=False,
        filename=f"{material.name}{material.extension}",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def notifications(request):
    # No selector exists for a user's own messages; this is the whole read.
    page = paginate(request, notifications_of(user=request.user))
    return render(request, "web/notifications.html", {"page": page})


@require_POST
@login_required
def notifications_read(request):
    notifications_mark_read(user=request.user)
    messages.success(request, _("所有消息已标为已读。"))
    return redirect("web:notifications")
