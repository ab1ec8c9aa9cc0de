"""Certificate pages: the holder's certificates from every city (with PDF, credential and selective
disclosure), verification for anyone, and the issuer's status actions in the workbench."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tongban.certificates import selectors as cert_selectors
from tongban.certificates import services as cert_services
from tongban.certificates.access import can_change_status, check_holder
from tongban.certificates.constants import STATUS_TRANSITIONS, StatusAction
from tongban.certificates.models import Certificate
from tongban.certificates.presenters import TOP_TITLES, certificate_detail, certificate_summary
from tongban.core.errors import NotFound, TongbanError
from tongban.web.views.common import handles_errors, paginate, staff_required

MAX_VERIFY_UPLOAD = 5 * 1024 * 1024


class VerifyForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("凭证或二维码文本"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
        help_text=gettext_lazy("粘贴扫描证照二维码得到的文本，或电子证照凭证（SD-JWT）。"),
    )
    pdf = forms.FileField(
        label=gettext_lazy("或上传证照 PDF"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "application/pdf"}),
    )

    def clean(self):
        data = super().clean()
        if bool(data.get("text", "").strip()) == bool(data.get("pdf")):
            raise forms.ValidationError(_("请粘贴凭证文本，或上传证照 PDF（二选一）。"))
        pdf = data.get("pdf")
        if pdf and pdf.size > MAX_VERIFY_UPLOAD:
            self.add_error("pdf", _("文件超过 5 MB。"))
        return data


class DiscloseForm(forms.Form):
    """Which fields a downloaded credential shows (selective disclosure)."""

    def __init__(self, *args, cert: Certificate, **kwargs):
        super().__init__(*args, **kwargs)
        props = (cert.type.field_schema or {}).get("properties", {})
        choices = [(n, t) for n, t in TOP_TITLES.items()] + [
            (n, p.get("title", n)) for n, p in props.items() if n in cert.data
        ]
        self.fields["fields"] = forms.MultipleChoiceField(
            label=_("只披露以下信息"), choices=choices, widget=forms.CheckboxSelectMultiple, required=True
        )


class StatusForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


# --- The holder --------------------------------------------------------------------------------------


@login_required
def my_certificates(request):
    page = paginate(request, cert_selectors.certificates_of(request.user))
    rows = [certificate_summary(c) for c in page.object_list]
    return render(request, "web/certificates/list.html", {"page": page, "rows": rows})


@login_required
@handles_errors
def certificate_page(request, identifier: str):
    cert = cert_selectors.certificate_for(request.user, identifier)
    check_holder(request.user, cert)
    form = DiscloseForm(request.GET or None, cert=cert)
    if request.GET and form.is_valid():
        text = cert_selectors.credential_for(
            request.user, identifier, disclose=",".join(form.cleaned_data["fields"])
        )
        return _download(text, f"{cert.identifier}.sd-jwt", "application/dc+sd-jwt")
    return render(
        request,
        "web/certificates/detail.html",
        {
            "cert": cert,
            "detail": certificate_detail(cert),
            "disclose_form": form,
            "events": cert.status_events.all(),
        },
    )


@login_required
@handles_errors
def certificate_credential(request, identifier: str):
    text = cert_selectors.credential_for(request.user, identifier)
    return _download(text, f"{identifier}.sd-jwt", "application/dc+sd-jwt")


@login_required
@handles_errors
def certificate_pdf(request, identifier: str):
    from tongban.certificates.pdf import certificate_pdf as render_pdf

    cert = cert_selectors.certificate_for(request.user, identifier)
    return _download(render_pdf(cert), f"{cert.identifier}.pdf", "application/pdf")


def _download(body, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Anyone: verification ------------------------------------------------------------------------------


def verify(request):
    """核验: anyone checks a certificate (QR text, credential or PDF) as this node sees it now."""
    verdict = None
    if request.method == "POST":
        form = VerifyForm(request.POST, request.FILES)
        if form.is_valid():
            data = (
                form.cleaned_data["pdf"].read() if form.cleaned_data.get("pdf") else form.cleaned_data["text"]
            )
            verdict = cert_selectors.verify_input(data)
    else:
        form = VerifyForm()
    status = 422 if form.is_bound and not form.is_valid() else 200
    return render(request, "web/certificates/verify.html", {"form": form, "verdict": verdict}, status=status)


# --- The issuer, in the workbench ---------------------------------------------------------------------


@staff_required
def issued_certificates(request):
    org = request.user.organisation
    qs = (
        Certificate.objects.filter(issuer_code=org.uscc, origin="issued").select_related("type")
        if org
        else Certificate.objects.none()
    )
    query = request.GET.get("q", "").strip()
    if query:
        qs = (
            qs.filter(identifier__icontains=query)
            | qs.filter(number__icontains=query)
            | qs.filter(holder_name=query)
        )
    page = paginate(request, qs)
    rows = [certificate_summary(c) for c in page.object_list]
    return render(request, "web/certificates/issued.html", {"page": page, "rows": rows, "query": query})


@staff_required
@handles_errors
def issued_certificate(request, identifier: str, bound: StatusForm | None = None, error=None, status=200):
    cert = cert_selectors.certificate_for(request.user, identifier)
    actions = (
        [a for a, (start, _) in STATUS_TRANSITIONS.items() if cert.status in start]
        if cert.issuer_node == settings.NODE_CODE and can_change_status(request.user, cert)
        else []
    )
    # One form per action, each with its own field ids; a refused one comes back as it was typed.
    forms_by_action = [
        (a, StatusAction(a).label, bound if bound is not None and bound.prefix == a else StatusForm(prefix=a))
        for a in actions
    ]
    context = {
        "cert": cert,
        "detail": certificate_detail(cert),
        "actions": forms_by_action,
        "events": cert.status_events.select_related("actor"),
        "error": error,
    }
    return render(request, "web/certificates/issued_detail.html", context, status=status)


@require_POST
@staff_required
@handles_errors
def issued_certificate_status(request, identifier: str, action: str):
    if action not in STATUS_TRANSITIONS:
        raise NotFound("NOT_FOUND", _("页面不存在。"))
    form = StatusForm(request.POST, prefix=action)
    if not form.is_valid():
        return issued_certificate(request, identifier, bound=form, status=422)
    try:
        cert_services.certificate_status_change(
            identifier=identifier, action=action, reason=form.cleaned_data["reason"], actor=request.user
        )
    except NotFound:
        raise
    except TongbanError as exc:
        return issued_certificate(request, identifier, bound=form, error=exc, status=exc.status)
    messages.success(request, _("证照状态已变更；各节点将在一个同步周期内据此核验。"))
    return redirect("web:wb_certificate", identifier=identifier)
