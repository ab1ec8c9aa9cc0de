"""Running a bundle: one submission creates it and starts every step whose inputs are ready; each
step's end feeds the next (``bundle_advance``); outside parties are called by the worker with
retries (``external_steps_run``); withdrawing cancels what has not finished.

A bundle moves only through these functions, each in one transaction, and every move is a
``BundleEvent``. ``needs_advance`` marks a bundle to look at again; the worker looks at those (and,
now and then, at every running bundle), so a node restarted mid-bundle carries on where it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from stdnum.cn import uscc

from tongban.bundles import error_codes as codes
from tongban.bundles.constants import (
    FINAL_BUNDLE_STATUSES,
    OPEN_STEP_STATUSES,
    BundleStatus,
    OnFailure,
    StepKind,
    StepStatus,
)
from tongban.bundles.definitions import definition_current, step_item
from tongban.bundles.external import ExternalError, adapter_for
from tongban.bundles.models import Bundle, BundleDefinition, BundleEvent, BundleStep
from tongban.cases.constants import CaseStatus
from tongban.catalogue.current import generation_pinned
from tongban.core import audit
from tongban.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, TongbanError
from tongban.core.inserts import rows_insert

CASE_DONE = {CaseStatus.APPROVED, CaseStatus.ISSUED}
CASE_REFUSED = {CaseStatus.REJECTED_INTAKE, CaseStatus.DENIED}
EXTERNAL_LEASE = timedelta(seconds=60)


def _now() -> datetime:
    return timezone.now()


def _new_event(bundle: Bundle, action: str, message: str, step: str = "") -> BundleEvent:
    return BundleEvent(bundle=bundle, step_key=step, action=action, message=message[:500], at=_now())


def _event(bundle: Bundle, action: str, message: str, step: str = "") -> None:
    _new_event(bundle, action, message, step).save()


def _applicant_value(applicant, name: str):
    if name == "name":
        enterprise = getattr(applicant, "enterprise", None) if applicant.kind == "enterprise" else None
        return enterprise.name if enterprise is not None else applicant.real_name
    return applicant.phone if name == "phone" else None


def _resolve(source: str, *, form: dict, outputs: dict, applicant):
    if source.startswith("const:"):
        return source[6:]
    scope, _, rest = source.partition(".")
    if scope == "form":
        return form.get(rest)
    if scope == "applicant":
        return _applicant_value(applicant, rest)
    key, _, output = rest.partition(".")
    return (outputs.get(key) or {}).get(output)


def _step_specs(definition: BundleDefinition) -> dict[str, dict]:
    return {s["key"]: s for s in definition.steps}


def missing_form_fields(definition: BundleDefinition, form: dict) -> list[FieldError]:
    """Fields a step needs from the form that the form does not have: refused at submission, before
    anything starts, even when the step that needs them comes last."""
    errors = []
    for spec in definition.steps:
        if spec["kind"] == StepKind.EXTERNAL:
            adapter = adapter_for(spec["adapter"])
            required = set(adapter.required) if adapter else set()
        else:
            item = step_item(spec)
            required = set((item.form_schema or {}).get("required", [])) if item else set()
        for target, source in (spec.get("inputs") or {}).items():
            if target in required and source.startswith("form.") and form.get(source[5:]) in (None, "", []):
                title = (
                    definition.form_schema.get("properties", {}).get(source[5:], {}).get("title", source[5:])
                )
                errors.append(
                    FieldError(
                        source[5:], f"“{spec['name']}”需要“{title}”，请填写。", codes.FORM_MISSING_FIELD
                    )
                )
    unique = {e.field: e for e in errors}
    return list(unique.values())


def _applicant_types(specs) -> dict[str, str]:
    """The types of the applicant's own certificates the steps use (``applicant.<type>``), each with
    the name of the first step that uses it."""
    wanted: dict[str, str] = {}
    for spec in specs:
        for source in (spec.get("certificates") or {}).values():
            if source.startswith("applicant."):
                wanted.setdefault(source[10:], spec["name"])
    return wanted


def _applicant_certificates(applicant, type_keys) -> dict:
    """The applicant's certificate of each type, as the picker would offer it (None when they hold no
    valid one), remembered on the applicant object for the rest of the request: all the types a
    submission needs are read in one query, and the rows are handed to the cases with the choices."""
    from tongban.certificates.once_only import certificates_offered

    memo = applicant.__dict__.setdefault("_bundle_certificates", {})
    missing = set(type_keys) - set(memo)
    if missing:
        found = certificates_offered(applicant, missing)
        memo.update({key: found.get(key) for key in missing})
    return memo


def _missing_certificates(definition: BundleDefinition, applicant) -> list[FieldError]:
    """The applicant's own certificates the steps will use (``applicant.<type>``) that they do not hold."""
    from tongban.certificates.models import CertificateType

    wanted = _applicant_types(definition.steps)
    held = _applicant_certificates(applicant, wanted)
    errors = []
    for type_key, step_name in sorted(wanted.items()):
        if held[type_key] is None:
            name = (
                CertificateType.objects.filter(key=type_key).values_list("name", flat=True).first()
                or type_key
            )
            errors.append(
                FieldError(
                    f"certificate:{type_key}",
                    f"“{step_name}”需要使用您本人有效的{name}（电子证照），您目前没有。",
                    codes.CERTIFICATE_MISSING,
                )
            )
    return errors


# --- Submitting -----------------------------------------------------------------------------------


@generation_pinned()  # every step's item is looked at: the catalogue is checked once for all
def bundle_submit(
    *, applicant, definition_key: str, form_data: dict, consent: bool, files=None, client_token: str = ""
):
    """One application for the whole bundle. Checks the form (including what later steps will need)
    and the one declaration, then creates the bundle and starts its first steps, all in one
    transaction: a step that cannot start refuses the whole submission, with that step's reason."""
    from tongban.cases import numbering
    from tongban.cases.forms_schema import validate_form

    definition = definition_current(definition_key)
    if definition is None:
        raise NotFound(codes.NOT_FOUND, f"“一件事”{definition_key} 不存在。")
    if applicant.kind not in ("citizen", "enterprise"):
        raise Forbidden(codes.STEP_REFUSED, "工作人员账户不能以申请人身份申请。")
    applicant.__dict__.pop("_bundle_certificates", None)  # looked up afresh for each submission
    # Every problem the applicant can fix at once is reported at once: the form (including what
    # later steps need), the certificates the steps will use, and the declaration.
    consent_error = FieldError("consent", "请勾选承诺。", codes.CONSENT_REQUIRED)
    try:
        form = validate_form(definition.form_schema, form_data)
    except InvalidInput as exc:
        if not consent:
            exc.errors.append(consent_error)
        raise
    problems = [
        (codes.FORM_MISSING_FIELD, missing_form_fields(definition, form)),
        (codes.CERTIFICATE_MISSING, _missing_certificates(definition, applicant)),
        (codes.CONSENT_REQUIRED, [] if consent else [consent_error]),
    ]
    errors = [e for _, found in problems for e in found]
    if errors:
        code = next(code for code, found in problems if found)
        message = {
            codes.FORM_MISSING_FIELD: "申请表不完整：",
            codes.CERTIFICATE_MISSING: "",
            codes.CONSENT_REQUIRED: "请阅读并签署承诺：所填信息真实，同意将申请信息分送各环节的办理部门。",
        }[code]
        first = errors[0].message if code != codes.CONSENT_REQUIRED else ""
        raise InvalidInput(code, f"{message}{first}", errors=errors)
    now = _now()
    today = timezone.localdate()
    # Numbers are taken before the transaction: each takes the day's counter row for one statement,
    # instead of holding it locked until the whole bundle commits (every submission would queue).
    starting = [s["key"] for s in definition.steps if not s.get("after") and s["kind"] == StepKind.ITEM]
    taken = numbering.allocate_many(settings.NODE_CODE, today, len(starting) + 1)
    bundle_number = "YJS" + taken[0]
    numbers = dict(zip(starting, taken[1:], strict=True))
    try:
        bundle = _bundle_create(
            applicant=applicant,
            definition=definition,
            form=form,
            files=files,
            client_token=client_token,
            numbers=numbers,
            bundle_number=bundle_number,
            now=now,
        )
    except IntegrityError:
        # The same token again (a second click, a client's retry, also at the same moment): not
        # looked up before, as almost every submission is a first one; the unique constraint decides.
        earlier = (
            Bundle.objects.filter(client_token=client_token, applicant=applicant).first()
            if client_token
            else None
        )
        if earlier is None:
            raise
        return earlier
    return bundle


def _bundle_create(
    *, applicant, definition, form, files, client_token, numbers, bundle_number, now
) -> Bundle:
    with transaction.atomic():
        bundle = Bundle(
            number=bundle_number,
            definition=definition,
            applicant=applicant,
            form_data=form,
            consented_at=now,
            submitted_at=now,
            client_token=client_token,
        )
        rows_insert([bundle])
        # The steps are written once, as the first ones have started (no insert, re-read and update).
        steps = {
            spec["key"]: BundleStep(
                bundle=bundle, key=spec["key"], name=spec["name"], kind=spec["kind"], sort=n
            )
            for n, spec in enumerate(definition.steps)
        }
        events = [_new_event(bundle, "submit", f"提交“{definition.name}”申请，签署承诺。")]
        _, started_events = _start_ready(bundle, steps, files=files or {}, strict=True, numbers=numbers)
        rows_insert(list(steps.values()))
        rows_insert(events + started_events)
        audit.record(
            actor=applicant, action="bundle.submit", target=bundle, data={"definition": definition.key}
        )
    _poke_if_queued(steps.values())
    return bundle


@generation_pinned()
def _start_ready(
    bundle: Bundle, steps: dict[str, BundleStep], *, files: dict, strict: bool, numbers: dict | None = None
) -> tuple[list[BundleStep], list[BundleEvent]]:
    """Starts every waiting step whose predecessors completed: ``steps`` (by key, in order; locked or
    not yet written) are changed in memory, and the steps changed and the events to record are
    returned for the caller to write. ``strict`` (at submission): a step that cannot start refuses
    the whole submission; later (asynchronously) it fails on its own."""
    specs = _step_specs(bundle.definition)
    changed, events = [], []
    for key, step in steps.items():
        if step.status != StepStatus.WAITING:
            continue
        after = specs[key].get("after", [])
        if not all(steps[d].status == StepStatus.COMPLETED for d in after):
            continue
        spec = specs[key]
        changed.append(step)
        if spec["kind"] == StepKind.EXTERNAL:
            step.status, step.started_at = StepStatus.QUEUED, _now()
            events.append(
                _new_event(
                    bundle,
                    "queue",
                    f"“{step.name}”已发起，等待{adapter_for(spec['adapter']).label}答复。",
                    key,
                )
            )
            continue
        number = (numbers or {}).get(key, "")
        try:
            if strict:  # a refusal ends the whole transaction: no savepoint needed
                case = _submit_step_case(bundle, step, spec, files.get(key, ()), number)
            else:
                with transaction.atomic():
                    case = _submit_step_case(bundle, step, spec, files.get(key, ()), number)
        except TongbanError as exc:
            if strict:
                raise InvalidInput(
                    codes.STEP_REFUSED,
                    f"“{step.name}”无法受理：{exc.message}",
                    errors=exc.errors,
                    details={"step": key},
                ) from exc
            step.status, step.last_error = StepStatus.FAILED, f"无法发起：{exc.message}"[:500]
            events.append(_new_event(bundle, "fail", f"“{step.name}”无法发起：{exc.message}", key))
            continue
        step.status, step.case, step.started_at = StepStatus.IN_PROGRESS, case, _now()
        events.append(_new_event(bundle, "start", f"“{step.name}”已提交（办件 {case.number}）。", key))
    return changed, events


def _submit_step_case(bundle: Bundle, step: BundleStep, spec: dict, files, number: str = ""):
    from tongban.cases import services as case_services
    from tongban.certificates.once_only import CertificateChoice

    item = step_item(spec)
    if item is None:
        raise InvalidInput(codes.STEP_REFUSED, "该环节的事项已不再办理。")
    form = {}
    for target, source in (spec.get("inputs") or {}).items():
        value = _resolve(source, form=bundle.form_data, outputs=bundle.outputs, applicant=bundle.applicant)
        if value not in (None, "", []):
            form[target] = value
    held = _applicant_certificates(bundle.applicant, _applicant_types([spec]))
    choices = []
    for material, source in (spec.get("certificates") or {}).items():
        if source.startswith("applicant."):
            cert = held[source[10:]]
            if cert is not None:
                choices.append(CertificateChoice(material, cert.identifier, consent=True, certificate=cert))
            continue
        identifier = _resolve(source, form={}, outputs=bundle.outputs, applicant=None)
        if identifier:
            choices.append(CertificateChoice(material, identifier, consent=True))
    return case_services.case_submit(
        applicant=bundle.applicant,
        item=item,
        form_data=form,
        files=files,
        certificates=choices,
        client_token=f"{bundle.number}:{step.key}",
        token_is_new=True,  # the bundle's number is new, and a step starts once
        number=number,
    )


# --- Advancing ------------------------------------------------------------------------------------


def _item_step_outcome(step: BundleStep, spec: dict) -> tuple[str, dict, str]:
    """(status, outputs, error) of an item step from its case (and the certificate it issued)."""
    from tongban.certificates.models import Certificate

    case = step.case
    if case.status in CASE_REFUSED:
        return StepStatus.REJECTED, {}, case.decision_reason or CaseStatus(case.status).label
    if case.status == CaseStatus.WITHDRAWN:
        return StepStatus.CANCELLED, {}, ""
    if case.status not in CASE_DONE:
        return StepStatus.IN_PROGRESS, {}, ""
    outputs = {"case_number": case.number}
    if case.item.issues_certificate:
        cert = Certificate.objects.filter(source_case=case).order_by("-version").first()
        if cert is None:
            return StepStatus.IN_PROGRESS, {}, ""  # decided elsewhere; its certificate is on its way
        if case.item.issues_certificate == "yyzz" and not uscc.is_valid(cert.number):
            return (
                StepStatus.FAILED,
                {},
                f"营业执照上的统一社会信用代码“{cert.number}”无效，后续环节无法使用。",
            )
        outputs.update(certificate=cert.identifier, certificate_number=cert.number)
    return StepStatus.COMPLETED, outputs, ""


def _dependents(specs: dict[str, dict], key: str) -> set[str]:
    out, frontier = set(), {key}
    while frontier:
        nxt = {k for k, s in specs.items() if frontier & set(s.get("after", []))} - out
        out |= nxt
        frontier = nxt
    return out


def bundle_advance(bundle_id: int) -> Bundle | None:
    """Looks at a bundle again: records what its steps' cases decided, starts what is ready now,
    and ends the bundle when nothing is left. Safe to call any number of times."""
    with transaction.atomic():
        # Only the bundle's row is locked: not its definition's (every advance of a bundle of the same
        # definition would wait for this one) nor its applicant's.
        bundle = (
            Bundle.objects.select_for_update(of=("self",))
            .select_related("definition", "applicant")
            .filter(pk=bundle_id)
            .first()
        )
        if bundle is None:
            return None
        if bundle.status in FINAL_BUNDLE_STATUSES:
            Bundle.objects.filter(pk=bundle.pk).update(needs_advance=False)
            return bundle
        specs = _step_specs(bundle.definition)
        steps = list(
            bundle.steps.select_for_update(of=("self",)).select_related("case__item").order_by("sort")
        )
        for step in steps:
            if step.kind != StepKind.ITEM or step.status != StepStatus.IN_PROGRESS or step.case is None:
                continue
            status, outputs, error = _item_step_outcome(step, specs[step.key])
            if status == StepStatus.IN_PROGRESS:
                continue
            step.status, step.outputs, step.last_error, step.completed_at = (
                status,
                outputs,
                error[:500],
                _now(),
            )
            step.save(update_fields=["status", "outputs", "last_error", "completed_at"])
            if status == StepStatus.COMPLETED:
                bundle.outputs = {**bundle.outputs, step.key: outputs}
                _event(bundle, "complete", f"“{step.name}”已办结。", step.key)
            else:
                _event(
                    bundle, status, f"“{step.name}”{StepStatus(status).label}：{error}".rstrip("："), step.key
                )

        stopped = [
            s for s in steps if s.status in (StepStatus.REJECTED, StepStatus.FAILED, StepStatus.CANCELLED)
        ]
        if (
            stopped
            and bundle.definition.on_failure == OnFailure.PAUSE
            and bundle.status == BundleStatus.RUNNING
        ):
            bundle.status = BundleStatus.PAUSED
            _event(bundle, "pause", f"“{stopped[0].name}”未能办结，其余环节暂停。")
        for failed in stopped:
            for key in _dependents(specs, failed.key):
                step = next(s for s in steps if s.key == key)
                if step.status == StepStatus.WAITING:
                    step.status, step.last_error = StepStatus.BLOCKED, f"前序环节“{failed.name}”未能办结。"
                    step.save(update_fields=["status", "last_error"])
        bundle.save(update_fields=["outputs", "status"])
        if bundle.status == BundleStatus.RUNNING:
            # The steps locked above, as they are now: not read again.
            moved, events = _start_ready(bundle, {s.key: s for s in steps}, files={}, strict=False)
            for step in moved:
                step.save(update_fields=["status", "case", "started_at", "last_error"])
            BundleEvent.objects.bulk_create(events)
            _poke_if_queued(moved)
        if all(s.status == StepStatus.COMPLETED for s in steps):
            bundle.status, bundle.completed_at = BundleStatus.COMPLETED, _now()
            _event(bundle, "done", f"“{bundle.definition.name}”全部环节已办结。")
            audit.record(actor=None, action="bundle.complete", target=bundle, data={})
        elif not any(s.status in OPEN_STEP_STATUSES for s in steps) and bundle.status == BundleStatus.RUNNING:
            bundle.status, bundle.completed_at = BundleStatus.FAILED, _now()
            _event(bundle, "end", "部分环节未能办结，本次“一件事”结束。")
        bundle.needs_advance = False
        bundle.save(update_fields=["status", "completed_at", "needs_advance"])
    return bundle


def bundle_case_changed(case) -> None:
    """Called when a case changed status (decided here, or reported by its handling node): its bundle,
    if any, is looked at again right after the commit, and by the worker should that not happen."""
    step = BundleStep.objects.filter(case=case).only("bundle_id").first()
    if step is None:
        return
    Bundle.objects.filter(pk=step.bundle_id).update(needs_advance=True)
    transaction.on_commit(lambda: _advance_quietly(step.bundle_id))


def _advance_quietly(bundle_id: int) -> None:
    import logging

    try:
        bundle_advance(bundle_id)
    except Exception:
        logging.getLogger(__name__).exception("bundle %s: advance failed; the worker will retry", bundle_id)


def _poke_if_queued(steps) -> None:
    """Wakes the worker after the commit when a step now waits for an outside party (the worker calls
    them). Nothing else of a bundle needs it: a wake-up for nothing costs the worker a cycle of
    queries for every submission."""
    if any(s.status == StepStatus.QUEUED for s in steps):
        from tongban.exchange.worker import poke

        transaction.on_commit(poke)


# --- Outside parties ---------------------------------------------------------------------------------


@dataclass
class ExternalRun:
    called: int = 0
    completed: int = 0
    retrying: int = 0
    failed: int = 0


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 2 ** min(attempts, 8)))


def external_steps_run(*, now: datetime | None = None, limit: int = 20) -> ExternalRun:
    """Calls the outside parties of due steps. A step is leased before its call (so two workers never
    call twice at once, and a worker that dies mid-call is followed by another after the lease), the
    call runs outside any transaction, and its result is recorded in one."""
    from django.db.models import Q

    now = now or _now()
    report = ExternalRun()
    with transaction.atomic():
        due = list(
            BundleStep.objects.select_for_update(skip_locked=True)
            .filter(
                kind=StepKind.EXTERNAL,
                status__in=[StepStatus.QUEUED, StepStatus.RETRYING],
                bundle__status=BundleStatus.RUNNING,
            )
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("next_attempt_at", "id")[:limit]
        )
        for step in due:
            step.next_attempt_at = now + EXTERNAL_LEASE
        BundleStep.objects.bulk_update(due, ["next_attempt_at"])
    for step in due:
        report.called += 1
        bundle = Bundle.objects.select_related("definition", "applicant").get(pk=step.bundle_id)
        spec = _step_specs(bundle.definition)[step.key]
        adapter = adapter_for(spec["adapter"])
        data = {
            t: _resolve(s, form=bundle.form_data, outputs=bundle.outputs, applicant=bundle.applicant)
            for t, s in (spec.get("inputs") or {}).items()
        }
        try:
            outputs, error, retryable = adapter.call(f"{bundle.number}:{step.key}", data), "", False
        except ExternalError as exc:
            outputs, error, retryable = None, exc.message, exc.retryable
        except Exception as exc:
            outputs, error, retryable = None, f"{adapter.label}接口异常：{exc}", True
        with transaction.atomic():
            step = BundleStep.objects.select_for_update().get(pk=step.pk)
            if step.status not in (StepStatus.QUEUED, StepStatus.RETRYING):
                continue  # withdrawn meanwhile
            step.attempts += 1
            if outputs is not None:
                step.status, step.outputs, step.completed_at, step.last_error = (
                    StepStatus.COMPLETED,
                    outputs,
                    _now(),
                    "",
                )
                b = Bundle.objects.select_for_update().get(pk=step.bundle_id)
                b.outputs = {**b.outputs, step.key: outputs}
                b.needs_advance = True
                b.save(update_fields=["outputs", "needs_advance"])
                _event(b, "complete", f"“{step.name}”已完成。", step.key)
                report.completed += 1
            elif retryable and step.attempts < settings.BUNDLE_EXTERNAL_ATTEMPTS:
                step.status, step.last_error = StepStatus.RETRYING, error[:500]
                step.next_attempt_at = _now() + _backoff(step.attempts)
                _event(
                    bundle,
                    "retry",
                    f"“{step.name}”第 {step.attempts} 次尝试未成功：{error}，稍后自动重试。",
                    step.key,
                )
                report.retrying += 1
            else:
                step.status, step.last_error = StepStatus.FAILED, error[:500]
                Bundle.objects.filter(pk=step.bundle_id).update(needs_advance=True)
                _event(bundle, "fail", f"“{step.name}”失败：{error}", step.key)
                report.failed += 1
            step.save()
        if outputs is not None:
            _advance_quietly(step.bundle_id)
    return report


def bundles_advance_due(*, everything: bool = False, limit: int = 200) -> int:
    """The worker's step: advances bundles marked for it (or, ``everything``, every running one)."""
    qs = Bundle.objects.filter(status__in=[BundleStatus.RUNNING, BundleStatus.PAUSED])
    if not everything:
        qs = qs.filter(needs_advance=True)
    ids = list(qs.order_by("submitted_at").values_list("pk", flat=True)[:limit])
    for pk in ids:
        _advance_quietly(pk)
    return len(ids)


# --- Withdrawing --------------------------------------------------------------------------------------


def bundle_withdraw(*, actor, number: str, reason: str) -> Bundle:
    """The applicant withdraws: every step not finished is withdrawn or cancelled; finished ones stay."""
    from tongban.cases import services as case_services

    reason = (reason or "").strip() or "申请人撤回“一件事”申请"
    with transaction.atomic():
        bundle = Bundle.objects.select_for_update().filter(number=number).first()
        if bundle is None or bundle.applicant_id != getattr(actor, "pk", None):
            raise NotFound(codes.NOT_FOUND, f"找不到“一件事”申请 {number}。")
        if bundle.status in FINAL_BUNDLE_STATUSES:
            raise Conflict(codes.NOT_WITHDRAWABLE, f"该申请已{BundleStatus(bundle.status).label}，不能撤回。")
        for step in bundle.steps.select_for_update(of=("self",)).select_related("case"):
            if step.status == StepStatus.IN_PROGRESS and step.case is not None:
                if step.case.status not in CASE_DONE | CASE_REFUSED | {CaseStatus.WITHDRAWN}:
                    case_services.case_withdraw(actor=actor, number=step.case.number, reason=reason)
                step.status = StepStatus.CANCELLED
            elif step.status in OPEN_STEP_STATUSES:
                step.status = StepStatus.CANCELLED
            else:
                continue
            step.save(update_fields=["status"])
        bundle.status, bundle.completed_at = BundleStatus.WITHDRAWN, _now()
        bundle.save(update_fields=["status", "completed_at"])
        _event(bundle, "withdraw", f"申请人撤回：{reason}")
        audit.record(actor=actor, action="bundle.withdraw", target=bundle, data={})
    return bundle
