"""Forms of the proposal pages. They parse input only; the services decide and their field errors
are put next to the fields (``ServiceErrorMixin``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tongban.proposals.constants import ProposalKind, Satisfaction
from tongban.regions.models import Organisation
from tongban.web.forms import ACCEPT_UPLOADS, ServiceErrorMixin


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class RegisterForm(ServiceErrorMixin, forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=ProposalKind.choices)
    session = forms.CharField(label=_("届次"), max_length=64, help_text=_("如：区政协五届一次会议"))
    serial = forms.IntegerField(label=_("编号"), min_value=1, help_text=_("第2号填 2"))
    title = forms.CharField(label=_("标题"), max_length=200)
    text = forms.CharField(label=_("内容"), widget=forms.Textarea(attrs={"rows": 10}))
    proposer_name = forms.CharField(label=_("领衔人"), max_length=64)
    proposer_unit = forms.CharField(label=_("工作单位"), max_length=128, required=False)
    proposer_phone = forms.CharField(
        label=_("联系电话"), max_length=20, required=False, help_text=_("加密保存，页面只显示掩码")
    )
    proposer_address = forms.CharField(
        label=_("通讯地址"), max_length=200, required=False, help_text=_("加密保存；公开答复时自动隐去")
    )
    co_signers = forms.CharField(
        label=_("联名人"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("每行一人：姓名，可加空格和电话"),
    )
    jurisdiction = forms.CharField(
        label=_("办理规则"), max_length=32, required=False, help_text=_("留空为默认规则")
    )
    attachments = forms.FileField(
        label=_("附件"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": ACCEPT_UPLOADS}),
        help_text=_("PDF、JPEG 或 PNG，可选多个"),
    )
    service_field_map = {"attachments[0]": "attachments"}

    def service_field(self, error):
        if error.field.startswith("attachments"):
            return "attachments"
        if error.field.startswith("co_signers"):
            return "co_signers"
        return super().service_field(error)

    def co_signer_list(self):
        from tongban.proposals.services import CoSignerIn

        out = []
        for line in (self.cleaned_data.get("co_signers") or "").splitlines():
            parts = line.replace("，", " ").replace(",", " ").split()
            if parts:
                out.append(CoSignerIn(name=parts[0], phone=parts[1] if len(parts) > 1 else ""))
        return out


def units():
    return Organisation.objects.order_by("region_id", "name")


class HandOverForm(ServiceErrorMixin, forms.Form):
    lead_unit = forms.ModelChoiceField(
        label=_("主办单位"), queryset=Organisation.objects.none(), required=False
    )
    co_units = forms.ModelMultipleChoiceField(
        label=_("协办单位"),
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    on = forms.DateField(label=_("交办日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("交办意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_unit"].queryset = units()
        self.fields["co_units"].queryset = units()


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("退回理由"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    suggested_unit = forms.CharField(label=_("建议承办单位"), required=False, max_length=128)


class DecisionForm(forms.Form):
    approve = forms.TypedChoiceField(
        label=_("决定"),
        choices=[("1", _("同意")), ("0", _("不同意"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class TextForm(forms.Form):
    text = forms.CharField(label=_("协办意见"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


class DraftForm(ServiceErrorMixin, forms.Form):
    reply_class = forms.ChoiceField(label=_("办复类别"), required=False)
    body = forms.CharField(
        label=_("答复正文"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 18}),
        help_text=_("每段一行；以“一、”“（一）”“1.”“（1）”开头的段落排为各级标题"),
    )
    promise_due = forms.DateField(
        label=_("承诺解决时限"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("B 类等须跟踪落实的类别必填"),
    )
    contact_unit = forms.CharField(label=_("联系单位"), required=False, max_length=128)
    contact_phone = forms.CharField(label=_("联系电话"), required=False, max_length=32)
    copy_to = forms.CharField(label=_("抄送"), required=False, help_text=_("以顿号或逗号分隔"))

    def __init__(self, *args, classes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reply_class"].choices = [("", _("（请选择）")), *classes]

    def copy_list(self) -> list[str]:
        raw = self.cleaned_data.get("copy_to") or ""
        for sep in ("，", ",", "；", ";"):
            raw = raw.replace(sep, "、")
        return [c.strip() for c in raw.split("、") if c.strip()]


class ReviewForm(forms.Form):
    approve = forms.TypedChoiceField(
        label=_("意见"),
        choices=[("1", _("同意")), ("0", _("退回修改"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("修改意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class FeedbackForm(forms.Form):
    satisfaction = forms.ChoiceField(
        label=_("满意度"), choices=Satisfaction.choices, widget=forms.RadioSelect
    )
    comments = forms.CharField(label=_("意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    received_on = forms.DateField(
        label=_("反馈日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class ExtensionForm(forms.Form):
    months = forms.IntegerField(label=_("延期（月）"), min_value=1, max_value=12)
    reason = forms.CharField(label=_("理由"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RedactForm(forms.Form):
    terms = forms.CharField(
        label=_("再隐去的内容"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("每行一项，如姓名、地名"),
    )
