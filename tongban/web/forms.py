"""Forms of the portal and the workbench.

Forms here only parse what the browser sends (types, dates, files) and carry errors back to the
page. Every business rule is checked by the service a view calls; when the service refuses, the
form takes the service's field errors (:meth:`ServiceErrorMixin.apply_service_error`) and is shown
again with what the user typed.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tongban.cases import error_codes as case_codes
from tongban.cases.constants import BAD_REASONS, GOOD_REASONS, RATING_REASONS, RATING_SCORES
from tongban.catalogue.constants import ServiceMode
from tongban.certificates import error_codes as cert_codes
from tongban.certificates.once_only import CertificateChoice
from tongban.core.errors import TongbanError

# Strings longer than this (by the schema's maxLength) get a multi-line text box.
LONG_TEXT_MIN_LENGTH = 200
ACCEPT_UPLOADS = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"


class ServiceErrorMixin:
    """Puts a service's :class:`FieldError` s next to the matching fields of this form.

    ``service_field_map`` maps a service's field name to this form's field name where they differ.
    Errors for fields this form does not have are kept in :attr:`other_errors` and shown at the top.
    """

    service_field_map: dict[str, str] = {}

    def service_field(self, error) -> str | None:
        name = self.service_field_map.get(error.field, error.field)
        return name if name in self.fields else None

    def apply_service_error(self, exc: TongbanError) -> None:
        self.other_errors = []
        for error in exc.errors:
            name = self.service_field(error)
            if name is None:
                self.other_errors.append(str(error.message))
            else:
                self.add_error(name, str(error.message))


# --- accounts -------------------------------------------------------------------------------------


class LoginForm(AuthenticationForm):
    """Django's login form, with a clear message when the account is locked after failed attempts."""

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            if getattr(self.request, "tongban_locked", False):
                from django.conf import settings

                raise ValidationError(
                    gettext(
                        "该账户因连续多次登录失败已被临时锁定，请 %(minutes)s 分钟后再试，或联系客服重置。"
                    )
                    % {"minutes": settings.LOGIN_LOCKOUT_MINUTES},
                    code="locked",
                ) from None
            raise

    def get_invalid_login_error(self):
        return ValidationError(gettext("用户名或密码不正确。"), code="invalid_login")


class _PasswordPairMixin:
    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("password")
            and cleaned.get("password2")
            and cleaned["password"] != cleaned["password2"]
        ):
            self.add_error("password2", gettext("两次输入的密码不一致。"))
        return cleaned


class CitizenRegistrationForm(_PasswordPairMixin, ServiceErrorMixin, forms.Form):
    username = forms.CharField(
        label=_("用户名"), max_length=150, help_text=_("用于登录，可使用字母、数字和 @/./+/-/_。")
    )
    password = forms.CharField(
        label=_("密码"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少 8 位，不能全是数字，不能过于简单。"),
    )
    password2 = forms.CharField(
        label=_("确认密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    real_name = forms.CharField(
        label=_("真实姓名"), max_length=64, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    id_number = forms.CharField(
        label=_("居民身份证号码"),
        max_length=18,
        help_text=_("18 位，最后一位可能是 X。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        label=_("电子邮箱"),
        required=False,
        help_text=_("选填，用于接收办件通知。"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class EnterpriseRegistrationForm(_PasswordPairMixin, ServiceErrorMixin, forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    password = forms.CharField(
        label=_("密码"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少 8 位，不能全是数字，不能过于简单。"),
    )
    password2 = forms.CharField(
        label=_("确认密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    enterprise_name = forms.CharField(label=_("企业名称"), max_length=128)
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=18, help_text=_("18 位，见营业执照。"))
    legal_rep_name = forms.CharField(label=_("法定代表人姓名"), max_length=64)
    legal_rep_id_number = forms.CharField(label=_("法定代表人身份证号码"), max_length=18)
    agent_name = forms.CharField(label=_("经办人姓名"), max_length=64)
    agent_id_number = forms.CharField(label=_("经办人身份证号码"), max_length=18)
    phone = forms.CharField(label=_("经办人手机号码"), max_length=20)
    email = forms.EmailField(label=_("电子邮箱"), required=False)


# --- the application form, built from the item's JSON Schema ---------------------------------------


def schema_field_name(prop: str) -> str:
    return f"f_{prop}"


def material_field_name(code: str) -> str:
    return f"m_{code}"


def certificate_field_name(code: str) -> str:
    return f"c_{code}"


def consent_field_name(code: str) -> str:
    return f"c_{code}_consent"


def schema_properties(schema: dict) -> list[tuple[str, dict]]:
    """The schema's properties in display order (``x-order`` when given; PostgreSQL reorders keys)."""
    props = schema.get("properties") or {}
    order = [p for p in schema.get("x-order") or [] if p in props]
    order += [p for p in props if p not in order]
    return [(name, props[name] or {}) for name in order]


def _choices(spec: dict) -> list[tuple[Any, str]] | None:
    if "enum" in spec:
        labels = spec.get("x-enum-labels") or spec.get("enumNames") or []
        return [(v, labels[i] if i < len(labels) else str(v)) for i, v in enumerate(spec["enum"])]
    options = spec.get("oneOf") or spec.get("anyOf")
    if options and all("const" in o for o in options):
        return [(o["const"], o.get("title") or str(o["const"])) for o in options]
    return None


def _schema_field(spec: dict, *, required: bool) -> forms.Field:
    """One Django field for one schema property. It parses; the service validates (required, limits)."""
    label = spec.get("title") or ""
    help_text = spec.get("description") or ""
    kind = spec.get("type")
    html_required = {"required": True} if required else {}
    choices = _choices(spec)
    common = {"label": label, "help_text": help_text, "required": False}
    if kind == "array":
        item_choices = _choices(spec.get("items") or {}) or []
        return forms.MultipleChoiceField(
            choices=[(str(v), lbl) for v, lbl in item_choices], widget=forms.CheckboxSelectMultiple, **common
        )
    if choices is not None:
        blank = [("", gettext("请选择"))]
        return forms.TypedChoiceField(
            choices=blank + [(str(v), lbl) for v, lbl in choices],
            coerce=str,
            empty_value="",
            widget=forms.Select(attrs=html_required),
            **common,
        )
    if kind == "boolean":
        return forms.BooleanField(**common)
    limits = {html: spec[key] for key, html in (("minimum", "min"), ("maximum", "max")) if key in spec}
    if kind == "integer":
        return forms.IntegerField(widget=forms.NumberInput(attrs={**limits, **html_required}), **common)
    if kind == "number":
        return forms.FloatField(
            widget=forms.NumberInput(attrs={**limits, "step": "any", **html_required}), **common
        )
    if spec.get("format") == "date":
        return forms.DateField(
            input_formats=["%Y-%m-%d"],
            widget=forms.DateInput(attrs={"type": "date", **html_required}, format="%Y-%m-%d"),
            **common,
        )
    attrs = dict(html_required)
    if spec.get("maxLength"):
        attrs["maxlength"] = spec["maxLength"]
    if spec.get("pattern", "").startswith("^") and spec["pattern"].endswith("$"):
        # Checked as the applicant types (tongban.js); the server checks the schema again.
        attrs["pattern"] = spec["pattern"][1:-1]
        attrs["data-pattern-message"] = gettext("格式不正确：%(what)s") % {"what": spec.get("title", "")}
    long_text = spec.get("format") == "textarea" or (spec.get("maxLength") or 0) >= LONG_TEXT_MIN_LENGTH
    if long_text:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 4, **attrs}), strip=True, **common)
    if spec.get("format") == "email":
        return forms.CharField(widget=forms.EmailInput(attrs=attrs), **common)
    return forms.CharField(widget=forms.TextInput(attrs=attrs), **common)


class ApplicationForm(ServiceErrorMixin, forms.Form):
    """一表登记: the item's form (from its JSON Schema) and one upload per material.

    ``intake=True`` adds what a window clerk records for a walk-in applicant (代收).
    """

    client_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(
        self, *args, item, materials, intake: bool = False, partner_cities=(), certificates=None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.item = item
        self.materials = list(materials)
        self.intake = intake
        # material code → the applicant's certificates that can stand in for it (免提交)
        self.certificates = certificates or {}
        if not self.is_bound:
            self.initial.setdefault("client_token", uuid.uuid4().hex)
        if intake:
            self.fields["applicant_name"] = forms.CharField(label=_("申请人姓名"), max_length=64)
            self.fields["applicant_id_number"] = forms.CharField(
                label=_("申请人居民身份证号码"),
                max_length=18,
                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            )
            self.fields["applicant_phone"] = forms.CharField(
                label=_("申请人手机号码"), max_length=20, required=False
            )
            self.fields["identity_checked"] = forms.BooleanField(
                label=_("已核验身份证件原件"),
                required=False,
                help_text=_("核对申请人本人及其居民身份证原件后勾选。"),
                widget=forms.CheckboxInput(attrs={"required": True}),
            )
        elif ServiceMode.MULTI_SITE in (item.modes or []):
            self.fields["mode"] = forms.ChoiceField(
                label=_("办理方式"),
                required=False,
                choices=[
                    (ServiceMode.FULL_ONLINE, ServiceMode.FULL_ONLINE.label),
                    (ServiceMode.MULTI_SITE, ServiceMode.MULTI_SITE.label),
                ],
                widget=forms.RadioSelect,
            )
            self.fields["partner_city"] = forms.ChoiceField(
                label=_("联办城市"),
                required=False,
                help_text=_("多地联办时，另一部分在哪个城市办理（如户口迁出地）。"),
                choices=[("", _("（请选择）")), *[(c.code, c.name) for c in partner_cities]],
            )
        schema = item.form_schema or {}
        required = set(schema.get("required") or [])
        self.schema_props = schema_properties(schema)
        for prop, spec in self.schema_props:
            self.fields[schema_field_name(prop)] = _schema_field(spec, required=prop in required)
        for material in self.materials:
            attrs = {"accept": ACCEPT_UPLOADS}
            if material.required:
                attrs.update({"required": True})
            self.fields[material_field_name(material.code)] = forms.FileField(
                label=material.name,
                required=False,
                help_text=material.note,
                widget=forms.FileInput(attrs=attrs),
            )
            offered = self.certificates.get(material.code)
            if offered:
                self.fields[certificate_field_name(material.code)] = forms.ChoiceField(
                    label=_("“%(name)s”的提交方式") % {"name": material.name},
                    required=False,
                    choices=[("", _("上传文件"))]
                    + [(c.identifier, _("使用电子证照：%(label)s") % {"label": c.label}) for c in offered],
                    widget=forms.RadioSelect,
                )
                self.fields[consent_field_name(material.code)] = forms.BooleanField(
                    label=_("我同意向审批部门提供所选电子证照中的上述信息"),
                    required=False,
                )

    # Field groups for the template.
    def applicant_fields(self):
        names = ("applicant_name", "applicant_id_number", "applicant_phone", "identity_checked")
        return [self[n] for n in names if n in self.fields]

    def schema_fields(self):
        return [self[schema_field_name(p)] for p, _ in self.schema_props]

    def material_fields(self):
        return [(m, self[material_field_name(m.code)]) for m in self.materials]

    def certificate_pickers(self) -> dict[str, tuple]:
        """material code → (choice field, consent field, the certificates offered)."""
        return {
            code: (self[certificate_field_name(code)], self[consent_field_name(code)], offered)
            for code, offered in self.certificates.items()
            if certificate_field_name(code) in self.fields
        }

    def certificate_choices(self) -> list[CertificateChoice]:
        """The certificates chosen in place of materials, with the consent given for each."""
        return [
            CertificateChoice(
                code,
                self.cleaned_data[certificate_field_name(code)],
                bool(self.cleaned_data.get(consent_field_name(code))),
            )
            for code in self.certificates
            if self.cleaned_data.get(certificate_field_name(code))
        ]

    def service_field(self, error) -> str | None:
        if error.code == case_codes.FORM_INVALID:
            name = schema_field_name(error.field)
        elif error.field.startswith("material:"):
            name = material_field_name(error.field.removeprefix("material:"))
        elif error.field.startswith("certificate:"):
            code = error.field.removeprefix("certificate:")
            name = (
                consent_field_name(code)
                if error.code == cert_codes.CONSENT_REQUIRED
                else certificate_field_name(code)
            )
        else:
            name = {"id_number": "applicant_id_number", "phone": "applicant_phone"}.get(
                error.field, error.field
            )
        return name if name in self.fields else None

    def form_data(self) -> dict[str, Any]:
        """The cleaned answers as the JSON object the service validates; blanks are left out."""
        data: dict[str, Any] = {}
        for prop, spec in self.schema_props:
            value = self.cleaned_data.get(schema_field_name(prop))
            if spec.get("type") == "boolean":
                data[prop] = bool(value)
                continue
            if value in (None, "", []):
                continue
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            elif spec.get("type") == "integer" and isinstance(value, str):
                value = int(value)
            elif spec.get("type") == "array":
                item_type = (spec.get("items") or {}).get("type")
                if item_type in ("integer", "number"):
                    value = [float(v) if item_type == "number" else int(v) for v in value]
            elif _choices(spec) and spec.get("type") in ("integer", "number"):
                value = float(value) if spec["type"] == "number" else int(value)
            data[prop] = value
        return data

    def uploads(self) -> list[tuple[str, Any]]:
        """(material code, uploaded file) for every material a file was chosen for."""
        result = []
        for material in self.materials:
            f = self.cleaned_data.get(material_field_name(material.code))
            if f:
                result.append((material.code, f))
        return result

    @property
    def had_files(self) -> bool:
        return bool(self.files)


def form_data_rows(schema: dict, data: dict) -> list[tuple[str, str]]:
    """(label, shown value) for each answer, in the schema's order, for a definition list."""
    rows = []
    props = dict(schema_properties(schema or {}))
    for prop, spec in schema_properties(schema or {}):
        if prop not in data:
            continue
        rows.append((spec.get("title") or prop, _display(spec, data[prop])))
    for prop, value in data.items():
        if prop not in props:
            rows.append((prop, str(value)))
    return rows


def _display(spec: dict, value: Any) -> str:
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    choices = _choices(spec) or _choices(spec.get("items") or {})
    labels = {str(v): lbl for v, lbl in choices} if choices else {}
    if isinstance(value, list):
        return "、".join(labels.get(str(v), str(v)) for v in value)
    return labels.get(str(value), str(value))


# --- applicant actions ----------------------------------------------------------------------------


class ResubmitForm(ServiceErrorMixin, forms.Form):
    """补正: one upload for each material the open notice asks for, and a note."""

    note = forms.CharField(label=_("补正说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, notice, **kwargs):
        super().__init__(*args, **kwargs)
        self.notice = notice
        # Items the notice names without a catalogue material have no upload field of their own.
        self.other_items = [e for e in (notice.items if notice else []) if not e.get("material")]
        self.codes = []
        for entry in notice.items if notice else []:
            code = entry.get("material")
            if code and code not in self.codes:
                self.codes.append(code)
                self.fields[material_field_name(code)] = forms.FileField(
                    label=entry.get("name") or code,
                    required=False,
                    help_text=entry.get("reason", ""),
                    widget=forms.FileInput(attrs={"accept": ACCEPT_UPLOADS, "required": True}),
                )

    def material_fields(self):
        return [self[material_field_name(c)] for c in self.codes]

    def service_field(self, error) -> str | None:
        if error.field.startswith("material:"):
            name = material_field_name(error.field.removeprefix("material:"))
            return name if name in self.fields else None
        return super().service_field(error)

    def uploads(self) -> list[tuple[str, Any]]:
        return [
            (c, self.cleaned_data[material_field_name(c)])
            for c in self.codes
            if self.cleaned_data.get(material_field_name(c))
        ]


class WithdrawForm(ServiceErrorMixin, forms.Form):
    reason = forms.CharField(
        label=_("撤回原因"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )


# --- workbench actions ----------------------------------------------------------------------------


class NoteForm(ServiceErrorMixin, forms.Form):
    """An action with an optional note (受理, 结束特别程序, 发证…)."""

    service_field_map = {"reason": "note"}
    note = forms.CharField(
        label=_("备注"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReasonForm(ServiceErrorMixin, forms.Form):
    """An action whose reason the applicant is told (不予受理, 不予许可, 特别程序). The service requires it."""

    reason = forms.CharField(
        label=_("理由"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "required": True}),
    )


class OptionalReasonForm(ServiceErrorMixin, forms.Form):
    reason = forms.CharField(
        label=_("理由"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class EmptyForm(ServiceErrorMixin, forms.Form):
    pass


class CorrectionItemForm(forms.Form):
    material = forms.ChoiceField(label=_("材料"), required=False)
    name = forms.CharField(label=_("其他材料名称"), required=False, max_length=200)
    reason = forms.CharField(label=_("需要补正的原因"), required=False, max_length=500)

    def __init__(self, *args, materials=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["material"].choices = [("", gettext("其他（请填写名称）"))] + [
            (m.code, m.name) for m in materials
        ]


CorrectionItemFormSet = formset_factory(CorrectionItemForm, extra=2)


class CorrectionForm(ServiceErrorMixin, forms.Form):
    """一次性告知补正: the note; the rows (material and reason) are the formset beside it."""

    note = forms.CharField(
        label=_("告知说明"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, data=None, *, materials, prefix="correction", add_row=False):
        super().__init__(data, prefix=prefix)
        rows_data = None
        if data is not None:
            rows_data = data.copy()
            if add_row:
                key = "items-TOTAL_FORMS"
                rows_data[key] = str(int(rows_data.get(key) or 0) + 1)
        self.rows = CorrectionItemFormSet(rows_data, prefix="items", form_kwargs={"materials": materials})

    def items(self) -> list[dict]:
        out = []
        for row in self.rows.forms:
            cd = getattr(row, "cleaned_data", None) or {}
            if cd.get("material") or cd.get("name") or cd.get("reason"):
                out.append(
                    {
                        "material": cd.get("material", ""),
                        "name": cd.get("name", ""),
                        "reason": cd.get("reason", ""),
                    }
                )
        return out

    def is_valid(self) -> bool:
        return super().is_valid() & self.rows.is_valid()

    def apply_service_error(self, exc: TongbanError) -> None:
        """Errors about the rows ("items") are shown with the rows, the rest as usual."""
        self.items_errors = [str(e.message) for e in exc.errors if e.field == "items"]
        rest = [e for e in exc.errors if e.field != "items"]
        super().apply_service_error(TongbanError(code=exc.code, message=exc.message, errors=rest))


class RatingForm(ServiceErrorMixin, forms.Form):
    """政务服务“好差评”: 1–5, the reasons that fit the score, and a comment."""

    score = forms.TypedChoiceField(
        label=_("评价"),
        coerce=int,
        choices=[(k, f"{k} · {v}") for k, v in sorted(RATING_SCORES.items(), reverse=True)],
        widget=forms.RadioSelect,
    )
    reasons = forms.MultipleChoiceField(
        label=_("评价理由"),
        required=False,
        choices=[
            (_("满意的方面"), [(r, RATING_REASONS[r]) for r in GOOD_REASONS if r != "other"]),
            (_("不满意的方面"), [(r, RATING_REASONS[r]) for r in BAD_REASONS if r != "other"]),
            (_("其他"), [("other", RATING_REASONS["other"])]),
        ],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("评价为“不满意”或“非常不满意”时请至少选择一项不满意的理由。"),
    )
    comment = forms.CharField(
        label=_("意见建议"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), required=False)
    # Free text, not a list: an authority may have cases of hundreds of items waiting.
    item = forms.CharField(label=_("事项名称或编码"), required=False, max_length=100)
    q = forms.CharField(label=_("办件编号或申请人"), required=False, max_length=64)

    def __init__(self, *args, status_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = status_choices


class ItemSearchForm(forms.Form):
    q = forms.CharField(label=_("搜索事项"), required=False, max_length=100)
    city = forms.ChoiceField(label=_("城市"), required=False)
    mode = forms.ChoiceField(label=_("跨省通办方式"), required=False)

    def __init__(self, *args, cities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["city"].choices = [("", gettext("全部城市")), *((c.code, c.name) for c in cities)]
        self.fields["mode"].choices = [("", gettext("全部方式")), *ServiceMode.choices]


# --- 一件事: one form for a whole bundle -----------------------------------------------------------


def bundle_upload_field_name(step: str, code: str) -> str:
    return f"m_{step}__{code}"


class BundleForm(ServiceErrorMixin, forms.Form):
    """一件事: the bundle's one form (from its JSON Schema, named as on the apply page), an upload for
    each required material of a step that starts at submission, and the one declaration.

    ``uploads`` is ``[(step spec, material)]``; ``needed`` the form fields a step requires though
    the form's schema does not, marked required here too so no one learns it only from a refusal.
    The service checks everything; this form only parses.
    """

    client_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    # The same parsing and grouping as the apply page: they read only ``schema_props`` and
    # ``cleaned_data``, so the two forms turn the same schema into the same answers.
    form_data = ApplicationForm.form_data
    schema_fields = ApplicationForm.schema_fields

    def __init__(self, *args, definition, uploads=(), needed=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.definition = definition
        self.steps = {s["key"]: s for s in definition.steps}
        if not self.is_bound:
            self.initial.setdefault("client_token", uuid.uuid4().hex)
        schema = definition.form_schema or {}
        required = set(schema.get("required") or []) | set(needed)
        self.schema_props = schema_properties(schema)
        for prop, spec in self.schema_props:
            self.fields[schema_field_name(prop)] = _schema_field(spec, required=prop in required)
        # field name → (step key, material code)
        self.upload_targets: dict[str, tuple[str, str]] = {}
        self.upload_groups: list[tuple[dict, list]] = []
        for step, material in uploads:
            name = bundle_upload_field_name(step["key"], material.code)
            self.upload_targets[name] = (step["key"], material.code)
            self.fields[name] = forms.FileField(
                label=material.name,
                required=False,
                help_text=material.note,
                widget=forms.FileInput(attrs={"accept": ACCEPT_UPLOADS, "required": True}),
            )
            if not self.upload_groups or self.upload_groups[-1][0]["key"] != step["key"]:
                self.upload_groups.append((step, []))
            self.upload_groups[-1][1].append(self[name])
        # Last, so the error summary lists it after the fields it vouches for.
        self.fields["consent"] = forms.BooleanField(
            label=_("本人承诺所填信息真实有效，同意将申请信息分送各环节的办理部门"),
            required=False,
            widget=forms.CheckboxInput(attrs={"required": True}),
        )

    def apply_service_error(self, exc: TongbanError) -> None:
        # A step that could not start reports its own case's errors; which step is in the details.
        self._refused_step = (exc.details or {}).get("step")
        super().apply_service_error(exc)

    def service_field(self, error) -> str | None:
        step = getattr(self, "_refused_step", None)
        if error.field == "consent":
            name = "consent"
        elif step and error.field.startswith("material:"):
            name = bundle_upload_field_name(step, error.field.removeprefix("material:"))
        elif step:
            # An error on the step's own form field points at the bundle field feeding it, if any.
            source = (self.steps.get(step, {}).get("inputs") or {}).get(error.field, "")
            name = schema_field_name(source[5:]) if source.startswith("form.") else None
        else:
            name = schema_field_name(error.field)
        return name if name in self.fields else None

    def uploads(self) -> dict[str, list[tuple[str, Any]]]:
        """step key → [(material code, uploaded file)] for every file chosen."""
        result: dict[str, list[tuple[str, Any]]] = {}
        for name, (step, code) in self.upload_targets.items():
            f = self.cleaned_data.get(name)
            if f:
                result.setdefault(step, []).append((code, f))
        return result

    @property
    def had_files(self) -> bool:
        return bool(self.files)
