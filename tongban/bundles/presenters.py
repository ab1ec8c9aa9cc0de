"""一件事 as people see it, for the pages and the API alike: each step with who handles it and where,
what the steps produced (a bank account masked), elapsed working days and risk, the history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongban.bundles import selectors
from tongban.bundles.constants import StepKind, StepStatus
from tongban.bundles.external import adapter_for
from tongban.bundles.models import Bundle, BundleDefinition
from tongban.bundles.services import missing_form_fields
from tongban.catalogue.models import ServiceItem
from tongban.regions.models import Region

# How each step status is coloured; the text is always shown beside the colour (as for cases).
STEP_TONE = {
    StepStatus.WAITING: "muted",
    StepStatus.QUEUED: "info",
    StepStatus.IN_PROGRESS: "info",
    StepStatus.RETRYING: "warn",
    StepStatus.COMPLETED: "ok",
    StepStatus.REJECTED: "bad",
    StepStatus.FAILED: "bad",
    StepStatus.BLOCKED: "bad",
    StepStatus.CANCELLED: "muted",
}
# Statuses whose ``last_error`` says why the step stopped or is being retried.
STEP_ERROR_SHOWN = {StepStatus.REJECTED, StepStatus.FAILED, StepStatus.RETRYING, StepStatus.BLOCKED}

# What a step's outputs are called for people. ``case_number`` is shown with the step itself;
# ``certificate_number`` is named after the certificate (see ``_output_label``).
OUTPUT_LABELS = {
    "certificate": gettext_lazy("电子证照"),
    "certificate_number": gettext_lazy("证照编号"),
    "bank_name": gettext_lazy("开户银行"),
    "bank_account": gettext_lazy("银行账号"),
    "appointment": gettext_lazy("开户预约"),
}
OUTPUTS_NOT_SHOWN = {"case_number"}
# Outputs shown only in part: a bank account is enough to move money from, and this page is
# screenshot and shown to others; its last four digits are what people recognise it by.
MASKED_OUTPUTS = {"bank_account"}


def mask_account(value: str) -> str:
    value = str(value or "")
    return "**** **** **** " + value[-4:] if len(value) > 4 else value


# --- Presenting ----------------------------------------------------------------------------------------


def step_items(steps: list[dict]) -> dict[tuple[str, str], ServiceItem]:
    """The current published item of each item step, in one query (the rule of the engine's own
    lookup, ``definitions.step_item``: published, newest version), with authority and materials."""
    pairs = {(s.get("item"), s.get("city")) for s in steps if s.get("kind") == StepKind.ITEM}
    if not pairs:
        return {}
    found: dict[tuple[str, str], ServiceItem] = {}
    qs = (
        ServiceItem.objects.filter(
            status="published",
            basic_code__in={b for b, _ in pairs},
            city_code__in={c for _, c in pairs},
        )
        .select_related("authority")
        .prefetch_related("materials")
        .order_by("-version")
    )
    for item in qs:
        if (item.basic_code, item.city_code) in pairs:
            found.setdefault((item.basic_code, item.city_code), item)
    return found


@dataclass(frozen=True)
class DefinitionStep:
    key: str
    name: str
    kind: str
    after: list[str]  # the names of the steps it waits for
    authority: str
    city_code: str
    city: str
    adapter: str


def definition_steps(definitions: list[BundleDefinition]) -> dict[int, list[DefinitionStep]]:
    """definition id → its steps in order, each with who handles it and where."""
    specs = [s for d in definitions for s in d.steps]
    items = step_items(specs)
    cities = dict(
        Region.objects.filter(code__in={s.get("city") for s in specs if s.get("city")}).values_list(
            "code", "name"
        )
    )
    out = {}
    for d in definitions:
        names = {s["key"]: s["name"] for s in d.steps}
        rows = []
        for s in d.steps:
            item = items.get((s.get("item"), s.get("city")))
            adapter = adapter_for(s.get("adapter", "")) if s["kind"] == StepKind.EXTERNAL else None
            rows.append(
                DefinitionStep(
                    key=s["key"],
                    name=s["name"],
                    kind=s["kind"],
                    after=[names.get(a, a) for a in s.get("after", [])],
                    authority=item.authority.name if item else "",
                    city_code=s.get("city", ""),
                    city=cities.get(s.get("city", ""), s.get("city", "")),
                    adapter=adapter.label if adapter else "",
                )
            )
        out[d.pk] = rows
    return out


def first_step_uploads(definition: BundleDefinition) -> list[tuple[dict, object]]:
    """(step, material) for each required material of a step that starts at submission and is not
    covered by a certificate from an earlier step: the files the applicant hands in up front."""
    starting = [s for s in definition.steps if s["kind"] == StepKind.ITEM and not s.get("after")]
    items = step_items(starting)
    out = []
    for step in starting:
        item = items.get((step.get("item"), step.get("city")))
        covered = set(step.get("certificates") or {})
        for material in item.materials.all() if item else ():
            if material.required and material.code not in covered:
                out.append((step, material))
    return out


def needed_form_fields(definition: BundleDefinition) -> set[str]:
    """The form fields some step requires (even the last one): what the service refuses a
    submission without. Asked of the service's own check with an empty form, so the two agree."""
    return {e.field for e in missing_form_fields(definition, {})}


def applicant_label(user) -> str:
    if user.kind == "enterprise":
        enterprise = getattr(user, "enterprise", None)
        if enterprise is not None:
            return enterprise.name
    return user.real_name or user.username


def bundle_summary(bundle: Bundle) -> selectors.BundleView:
    """Elapsed working days and risk of a bundle in a list, without reading its steps."""
    # ``bundle_view`` would also read every listed bundle's steps, which a list does not show.
    elapsed = selectors.elapsed_workdays(bundle.submitted_at, bundle.completed_at)
    return selectors.BundleView(bundle, [], elapsed, bundle.definition.target_workdays)


@dataclass(frozen=True)
class StepRow:
    key: str
    name: str
    kind: str
    status: str
    status_label: str
    tone: str
    case_number: str
    adapter: str
    waits_for: list[str]
    elapsed_workdays: int | None
    attempts: int
    error: str
    started_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class OutputRow:
    step: str
    step_name: str
    name: str
    label: str
    value: str
    certificate: str  # the identifier, when the value is a certificate


@dataclass(frozen=True)
class Timeline:
    view: selectors.BundleView
    steps: list[StepRow]
    outputs: list[OutputRow]
    events: list

    @property
    def bundle(self) -> Bundle:
        return self.view.bundle


def _output_label(name: str, spec: dict, items: dict) -> str:
    item = items.get((spec.get("item"), spec.get("city")))
    if name == "certificate_number" and item is not None and item.issues_certificate == "yyzz":
        return _("统一社会信用代码")
    return str(OUTPUT_LABELS.get(name, name))


def bundle_timeline(bundle: Bundle) -> Timeline:
    """The bundle as its applicant and supervisors see it: steps, what they produced, the history."""
    view = selectors.bundle_view(bundle)
    specs = {s["key"]: s for s in bundle.definition.steps}
    names = {k: s["name"] for k, s in specs.items()}
    steps = []
    for sv in view.steps:
        step, spec = sv.step, specs.get(sv.step.key, {})
        adapter = adapter_for(spec.get("adapter", "")) if step.kind == StepKind.EXTERNAL else None
        steps.append(
            StepRow(
                key=step.key,
                name=step.name,
                kind=step.kind,
                status=step.status,
                status_label=str(step.get_status_display()),
                tone=STEP_TONE.get(step.status, "info"),
                case_number=step.case.number if step.case_id else "",
                adapter=adapter.label if adapter else "",
                waits_for=[names.get(a, a) for a in spec.get("after", [])]
                if step.status == StepStatus.WAITING
                else [],
                elapsed_workdays=sv.elapsed_workdays,
                attempts=step.attempts,
                error=step.last_error if step.status in STEP_ERROR_SHOWN else "",
                started_at=step.started_at,
                completed_at=step.completed_at,
            )
        )
    items = step_items([specs[k] for k in bundle.outputs if k in specs])
    outputs = []
    for key, spec in specs.items():  # in the definition's order
        for name, value in (bundle.outputs.get(key) or {}).items():
            if name in OUTPUTS_NOT_SHOWN or value in (None, ""):
                continue
            shown = mask_account(value) if name in MASKED_OUTPUTS else str(value)
            outputs.append(
                OutputRow(
                    step=key,
                    step_name=spec["name"],
                    name=name,
                    label=_output_label(name, spec, items),
                    value=shown,
                    certificate=str(value) if name == "certificate" else "",
                )
            )
    return Timeline(view, steps, outputs, list(bundle.events.all()))
