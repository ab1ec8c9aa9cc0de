"""Bundle definitions: checked whole before they are saved, so a running bundle never meets a cycle,
a step that names nothing, or a mapping to a field that does not exist.

A step is a service item (its 基本编码 at a city; the item may be another node's) or an outside party
(``adapter``). ``after`` lists the steps it waits for. ``inputs`` maps each field of the step's own
form to a source: ``form.<field>`` (the bundle's one form), ``step.<key>.<output>`` (what an earlier
step produced), ``applicant.name`` / ``applicant.phone`` or ``const:<text>``. ``certificates`` maps a
material of the item to ``step.<key>.certificate``: the certificate an earlier step issued stands in
for it (免提交), and ``applicant.<type>`` names the applicant's own valid certificate of that type (their
电子身份证 ``sfz``, 户籍证明 ``hkb``…): after real-name authentication they do not hand in identity
papers again. The one declaration signed at submission is the consent for both.

Outputs: an item step produces ``case_number`` and, when its item issues a certificate, ``certificate``
(the identifier) and ``certificate_number`` (e.g. the new 统一社会信用代码); an outside party produces
what its adapter declares.
"""

from __future__ import annotations

import graphlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import transaction

from tongban.bundles import error_codes as codes
from tongban.bundles.constants import OnFailure, StepKind
from tongban.bundles.external import adapter_for
from tongban.core.errors import FieldError, InvalidInput

if TYPE_CHECKING:
    from tongban.bundles.models import BundleDefinition

DATA_FILE = Path(__file__).resolve().parent / "data" / "bundles.json"
ITEM_OUTPUTS = ("case_number",)
CERTIFICATE_OUTPUTS = ("certificate", "certificate_number")
SOURCE_SCOPES = ("form.", "step.", "applicant.", "const:")
APPLICANT_FIELDS = ("name", "phone")


def _step_item_read(key: tuple) -> object:
    from tongban.catalogue.models import ServiceItem

    _, basic_code, city_code = key
    return (
        ServiceItem.objects.filter(basic_code=basic_code, city_code=city_code, status="published")
        .select_related("authority")
        .prefetch_related("materials")
        .order_by("-version")
        .first()
    )


def step_item(step: dict):
    """The published item (newest version) a step names, with its materials, or None. Kept per
    process while the catalogue does not change (``catalogue.current``): a withdrawn item stops a
    step from the next submission on. Wrap several look-ups in ``generation_pinned()`` to check the
    catalogue once for all of them."""
    from tongban.catalogue.current import current_item

    return current_item(("bundle-step", step.get("item"), step.get("city")), _step_item_read)


_definitions: dict[int, BundleDefinition] = {}


def definition_current(key: str) -> BundleDefinition | None:
    """The published version of a definition, or None. Which version is published is asked each
    time (one indexed look-up of its id); the version itself is kept per process, since a saved
    version never changes: a changed definition is a new version (``definition_save``)."""
    from django.db import connections, router

    from tongban.bundles.models import BundleDefinition

    connection = connections[router.db_for_read(BundleDefinition)]
    q = connection.ops.quote_name
    # Asked on every submission: a fixed statement, not a query built each time.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {q('id')} FROM {q(BundleDefinition._meta.db_table)} "
            f"WHERE {q('key')} = %s AND {q('published')} ORDER BY {q('version')} DESC LIMIT 1",
            [key],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    pk = row[0]
    definition = _definitions.get(pk)
    if definition is None:
        definition = _definitions[pk] = BundleDefinition.objects.get(pk=pk)
    return definition


def caches_clear() -> None:
    _definitions.clear()


def step_outputs(step: dict, item=None) -> tuple[str, ...]:
    if step.get("kind") == StepKind.EXTERNAL:
        adapter = adapter_for(step.get("adapter", ""))
        return adapter.outputs if adapter else ()
    item = item if item is not None else step_item(step)
    if item is None:
        return ()
    return ITEM_OUTPUTS + (CERTIFICATE_OUTPUTS if item.issues_certificate else ())


def definition_check(doc: dict) -> list[FieldError]:
    """Every problem of a definition, each with where it is. Empty when the definition is sound."""
    errors: list[FieldError] = []

    def bad(where: str, message: str) -> None:
        errors.append(FieldError(where, message, codes.DEFINITION_INVALID))

    for name in ("key", "name", "city_code", "target_workdays", "on_failure", "form_schema", "steps"):
        if name not in doc:
            bad(name, f"缺少“{name}”。")
    if errors:
        return errors
    if doc["on_failure"] not in OnFailure.values:
        bad("on_failure", "应为 continue 或 pause。")
    form_fields = set((doc["form_schema"] or {}).get("properties", {}))
    steps = doc["steps"]
    if not isinstance(steps, list) or not steps:
        bad("steps", "至少需要一个环节。")
        return errors
    by_key: dict[str, dict] = {}
    for n, step in enumerate(steps):
        key = step.get("key")
        if not key or key in by_key:
            bad(f"steps[{n}].key", f"环节标识“{key}”为空或重复。")
            continue
        by_key[key] = step

    graph = {}
    for key, step in by_key.items():
        after = step.get("after", [])
        for dep in after:
            if dep not in by_key:
                bad(f"steps.{key}.after", f"环节“{key}”等待的环节“{dep}”不存在。")
        graph[key] = [d for d in after if d in by_key]
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        cycle = " → ".join(exc.args[1])
        bad("steps", f"环节之间有循环依赖：{cycle}。")
        return errors

    ancestors: dict[str, set[str]] = {}
    for key in order:
        ancestors[key] = set(graph[key]).union(*(ancestors[d] for d in graph[key])) if graph[key] else set()

    items = {}
    for key in order:
        step = by_key[key]
        where = f"steps.{key}"
        if step.get("kind") == StepKind.EXTERNAL:
            adapter = adapter_for(step.get("adapter", ""))
            if adapter is None:
                bad(where, f"环节“{key}”的外部机构“{step.get('adapter')}”没有接入。")
                continue
            targets, required = set(adapter.inputs), set(adapter.required)
        elif step.get("kind") == StepKind.ITEM:
            item = step_item(step)
            if item is None:
                bad(
                    where,
                    f"环节“{key}”的事项（基本编码 {step.get('item')}，{step.get('city')}）不存在或未发布。",
                )
                continue
            items[key] = item
            schema = item.form_schema or {}
            targets, required = set(schema.get("properties", {})), set(schema.get("required", []))
            materials = {m.code: m for m in item.materials.all()}
            for material, source in (step.get("certificates") or {}).items():
                if material not in materials or not materials[material].certificate_type:
                    bad(f"{where}.certificates", f"事项“{item.name}”没有可用证照代替的材料“{material}”。")
                    continue
                if source.startswith("applicant."):
                    if source[10:] != materials[material].certificate_type:
                        bad(
                            f"{where}.certificates",
                            f"材料“{material}”只接受 {materials[material].certificate_type} 类证照。",
                        )
                    continue
                parts = source.split(".")
                source_item = items.get(parts[1]) if len(parts) == 3 else None
                if parts[0] != "step" or parts[2] != "certificate" or parts[1] not in ancestors[key]:
                    bad(
                        f"{where}.certificates",
                        f"材料“{material}”的来源“{source}”应为前序环节的 certificate。",
                    )
                elif (
                    source_item is not None
                    and source_item.issues_certificate != materials[material].certificate_type
                ):
                    bad(
                        f"{where}.certificates",
                        f"前序环节“{parts[1]}”签发的证照不是材料“{material}”接受的类型。",
                    )
        else:
            bad(where, f"环节“{key}”的类型应为 item 或 external。")
            continue
        inputs = step.get("inputs") or {}
        for target, source in inputs.items():
            if target not in targets:
                bad(f"{where}.inputs.{target}", f"环节“{key}”没有字段“{target}”。")
            if not isinstance(source, str) or not source.startswith(SOURCE_SCOPES):
                bad(
                    f"{where}.inputs.{target}",
                    f"来源“{source}”应以 form.、step.、applicant. 或 const: 开头。",
                )
                continue
            if source.startswith("form.") and source[5:] not in form_fields:
                bad(f"{where}.inputs.{target}", f"申请表没有字段“{source[5:]}”。")
            elif source.startswith("applicant.") and source[10:] not in APPLICANT_FIELDS:
                bad(f"{where}.inputs.{target}", f"申请人没有“{source[10:]}”。")
            elif source.startswith("step."):
                parts = source.split(".")
                if len(parts) != 3 or parts[1] not in ancestors[key]:
                    bad(f"{where}.inputs.{target}", f"“{source}”不是环节“{key}”之前的环节。")
                elif parts[2] not in step_outputs(by_key[parts[1]], items.get(parts[1])):
                    bad(f"{where}.inputs.{target}", f"环节“{parts[1]}”不产生“{parts[2]}”。")
        for target in sorted(required - set(inputs)):
            bad(f"{where}.inputs", f"环节“{key}”的必填字段“{target}”没有来源。")
    return errors


def definition_save(doc: dict):
    """Checks and saves a definition as a new version (or returns the current one when nothing
    changed). Raises ``InvalidInput`` listing every problem; nothing is saved then."""
    from tongban.bundles.models import BundleDefinition

    errors = definition_check(doc)
    if errors:
        raise InvalidInput(
            codes.DEFINITION_INVALID,
            f"“{doc.get('name', doc.get('key'))}”的定义有误：{errors[0].message}",
            errors=errors,
        )
    fields = {
        "name": doc["name"],
        "description": doc.get("description", ""),
        "city_code": doc["city_code"],
        "target_workdays": doc["target_workdays"],
        "on_failure": doc["on_failure"],
        "form_schema": doc["form_schema"],
        "steps": doc["steps"],
    }
    with transaction.atomic():
        current = (
            BundleDefinition.objects.select_for_update().filter(key=doc["key"]).order_by("-version").first()
        )
        if current is not None and all(getattr(current, k) == v for k, v in fields.items()):
            return current
        BundleDefinition.objects.filter(key=doc["key"]).update(published=False)
        return BundleDefinition.objects.create(
            key=doc["key"], version=(current.version + 1) if current else 1, published=True, **fields
        )


def reference_bundles_load(*, cities: set[str] | None = None) -> list:
    """Saves the reference bundles (``data/bundles.json``) whose city is loaded here."""
    doc = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return [definition_save(b) for b in doc["bundles"] if cities is None or b["city_code"] in cities]
