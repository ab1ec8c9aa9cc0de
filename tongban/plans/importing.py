"""Importing a plan document: preview (nothing saved) and save (a new plan or a re-import).

A re-import of an amended text updates the plan in place: tasks are matched by their number (their
reports and assignments stay), a task the new text no longer has gets ``removed_at`` (never deleted),
one that comes back is restored; sections and indicators follow the same rule, columns are replaced.
Every import adds a :class:`PlanImport` row and bumps ``Plan.version``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core import audit
from tongban.core.errors import Conflict, Forbidden, InvalidInput
from tongban.plans import error_codes as codes
from tongban.plans.access import can_manage_plans
from tongban.plans.constants import ReportingFrequency, SectionLevel
from tongban.plans.models import Indicator, Plan, PlanColumn, PlanImport, PlanSection, PlanTask
from tongban.plans.parsing import ParsedPlan, parse_plan
from tongban.plans.readers import detect_kind, read_text

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass
class Preview:
    parsed: ParsedPlan
    source_name: str
    source_sha256: str
    kind: str
    text: str

    @property
    def can_save(self) -> bool:
        return not self.parsed.has_errors

    def summary(self) -> dict:
        return {
            "source_name": self.source_name,
            "source_sha256": self.source_sha256,
            "kind": self.kind,
            "can_save": self.can_save,
            **self.parsed.summary(),
        }


@dataclass
class ImportResult:
    plan: Plan
    version: int
    unchanged: bool = False
    created: list[int] = field(default_factory=list)  # task numbers
    updated: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    restored: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "code": self.plan.code,
            "version": self.version,
            "unchanged": self.unchanged,
            "created": len(self.created),
            "updated": self.updated,
            "removed": self.removed,
            "restored": self.restored,
        }


def plan_import_preview(*, content: bytes, filename: str) -> Preview:
    """Reads and parses a plan document. Raises ``InvalidInput`` for an unsupported or encrypted file,
    a PDF without text, or a document without recognisable parts and tasks."""
    kind = detect_kind(content, filename) if content else "text"
    text = read_text(content, filename)
    parsed = parse_plan(text, source_name=filename)
    if not parsed.parts or not parsed.tasks:
        raise InvalidInput(
            codes.NO_STRUCTURE,
            _("未能识别方案结构：需要“一、”这样的部分标题，以及“(1)”“1.”或“（一）”这样编号的任务。"),
            details={"parts": len(parsed.parts), "tasks": len(parsed.tasks)},
        )
    return Preview(
        parsed=parsed,
        source_name=filename[:255],
        source_sha256=hashlib.sha256(content).hexdigest(),
        kind=kind,
        text=text,
    )


def _check_code(code: str) -> str:
    if not CODE_RE.match(code or ""):
        raise InvalidInput(
            codes.CODE_INVALID, _("方案编码只能由小写字母、数字和连字符组成，最长 64 个字符。")
        )
    return code


def default_code(filename: str, sha256: str) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", filename.rsplit(".", 1)[0].lower()).strip("-")[:48]
    return stem if CODE_RE.match(stem) else f"plan-{sha256[:8]}"


def plan_import_save(
    *,
    actor,
    content: bytes,
    filename: str,
    code: str | None = None,
    title: str | None = None,
    frequency: str = ReportingFrequency.QUARTERLY,
    plan: Plan | None = None,
) -> ImportResult:
    """Saves a plan from its document: a new plan (``plan`` None), or a re-import of ``plan``.

    ``actor`` None is the system (the command line, the demo); a user must be the integration office.
    Nothing is saved if the document is unusable or its preview reports errors.
    """
    if actor is not None and not can_manage_plans(actor):
        raise Forbidden(codes.FORBIDDEN, _("只有推进办可以导入方案。"))
    if frequency not in ReportingFrequency.values:
        raise InvalidInput(codes.FREQUENCY_INVALID, _("报送周期只能是按月（monthly）或按季度（quarterly）。"))
    preview = plan_import_preview(content=content, filename=filename)
    parsed = preview.parsed
    if parsed.has_errors:
        raise InvalidInput(
            codes.IMPORT_HAS_ERRORS,
            _("方案文件有错误，未保存：")
            + "；".join(p.message for p in parsed.problems if p.severity == "error"),
            details={"problems": [p.as_dict() for p in parsed.problems if p.severity == "error"]},
        )
    with transaction.atomic():
        if plan is None:
            code = _check_code(code or default_code(filename, preview.source_sha256))
            if Plan.objects.filter(code=code).exists():
                raise Conflict(codes.CODE_TAKEN, _("方案编码 %(code)s 已被使用。") % {"code": code})
            start = parsed.start_year or parsed.end_year or timezone.localdate().year
            plan = Plan.objects.create(
                code=code,
                title=(title or parsed.title or filename)[:255],
                issuer=parsed.issuer[:255],
                frequency=frequency,
                start_year=start,
                end_year=parsed.end_year or start,
                source_name=preview.source_name,
                source_sha256=preview.source_sha256,
                source_text=preview.text,
                import_problems=[p.as_dict() for p in parsed.problems],
                created_by=actor if actor is not None and actor.pk else None,
            )
            result = ImportResult(plan=plan, version=1)
            action = "plan.imported"
        else:
            plan = Plan.objects.select_for_update().get(pk=plan.pk)
            if plan.source_sha256 == preview.source_sha256:
                return ImportResult(plan=plan, version=plan.version, unchanged=True)
            plan.version += 1
            plan.title = (title or plan.title)[:255]
            plan.frequency = frequency
            plan.issuer = parsed.issuer[:255] or plan.issuer
            if parsed.end_year:
                plan.end_year = parsed.end_year
            plan.source_name = preview.source_name
            plan.source_sha256 = preview.source_sha256
            plan.source_text = preview.text
            plan.import_problems = [p.as_dict() for p in parsed.problems]
            plan.save()
            result = ImportResult(plan=plan, version=plan.version)
            action = "plan.reimported"
        sections = _sync_sections(plan, parsed)
        _sync_tasks(plan, parsed, sections, result)
        _sync_columns(plan, parsed, sections)
        indicators = _sync_indicators(plan, parsed, sections)
        _drop_unused_sections(plan, sections)
        summary = {
            "parts": len(parsed.parts),
            "sections": len(parsed.sections),
            "tasks": len(parsed.tasks),
            "tasks_per_part": parsed.tasks_per_part(),
            "columns": len(parsed.columns),
            "indicators": indicators,
            "created": result.created,
            "updated": result.updated,
            "removed": result.removed,
            "restored": result.restored,
            "problems": [p.as_dict() for p in parsed.problems],
        }
        PlanImport.objects.create(
            plan=plan,
            version=plan.version,
            source_name=preview.source_name,
            source_sha256=preview.source_sha256,
            summary=summary,
            imported_by=actor if actor is not None and actor.pk else None,
        )
        audit.record(
            actor=actor,
            action=action,
            target=plan,
            data={
                "code": plan.code,
                "version": plan.version,
                "tasks": len(parsed.tasks),
                "created": len(result.created),
                "updated": len(result.updated),
                "removed": len(result.removed),
                "restored": len(result.restored),
                "sha256": preview.source_sha256,
            },
        )
    return result


# --- synchronisation -------------------------------------------------------------------------------


def _key(level: int, part: int, number: int) -> tuple[int, int, int]:
    return (level, part, number)


def _sync_sections(plan: Plan, parsed: ParsedPlan) -> dict:
    """Parts and sections, matched by their numbers. Returns {key: PlanSection} of the new text,
    plus the left-over rows under ``"_left"``."""
    existing: dict[tuple, list[PlanSection]] = {}
    parts_by_id = {}
    rows = list(PlanSection.objects.filter(plan=plan).order_by("level", "position"))
    for row in rows:
        if row.level == SectionLevel.PART:
            parts_by_id[row.pk] = row
            existing.setdefault(_key(1, row.number, 0), []).append(row)
    for row in rows:
        if row.level == SectionLevel.SECTION:
            parent = parts_by_id.get(row.parent_id)
            existing.setdefault(_key(2, parent.number if parent else 0, row.number), []).append(row)
    result: dict = {}
    new_parts, update = [], []
    for part in parsed.parts:
        key = _key(1, part.number, 0)
        row = (
            existing.get(key, []).pop(0)
            if existing.get(key)
            else PlanSection(plan=plan, level=SectionLevel.PART)
        )
        before = _section_state(row)
        row.number, row.label, row.title, row.body = part.number, part.label[:16], part.title[:255], part.body
        row.position, row.parent, row.removed_at = part.position, None, None
        if not row.pk:
            new_parts.append(row)
        elif _section_state(row) != before:
            update.append(row)
        result.setdefault(key, row)
    PlanSection.objects.bulk_create(new_parts)
    new_sections = []
    for section in parsed.sections:
        key = _key(2, section.part_number, section.number)
        row = (
            existing.get(key, []).pop(0)
            if existing.get(key)
            else PlanSection(plan=plan, level=SectionLevel.SECTION)
        )
        before = _section_state(row)
        row.number, row.label, row.title, row.body = (
            section.number,
            section.label[:16],
            section.title[:255],
            section.body,
        )
        row.position, row.removed_at = section.position, None
        row.parent = result[_key(1, section.part_number, 0)]
        if not row.pk:
            new_sections.append(row)
        elif _section_state(row) != before:
            update.append(row)
        result.setdefault(key, row)
    PlanSection.objects.bulk_create(new_sections)
    if update:
        PlanSection.objects.bulk_update(
            update, ["number", "label", "title", "body", "position", "parent", "removed_at"]
        )
    result["_left"] = [row for rows_ in existing.values() for row in rows_]
    return result


def _section_state(row: PlanSection) -> tuple:
    return (row.number, row.label, row.title, row.body, row.position, row.parent_id, row.removed_at)


def _task_state(row: PlanTask) -> tuple:
    return (
        row.label,
        row.text,
        row.part_id,
        row.section_id,
        row.deadline,
        row.deadline_text,
        row.position,
        row.removed_at,
    )


def _indicator_state(row: Indicator) -> tuple:
    return (
        row.section_id, row.comparator, row.value, row.tolerance, row.unit, row.year, row.source_text,
        row.position, row.removed_at,
    )  # fmt: skip


def _sync_tasks(plan: Plan, parsed: ParsedPlan, sections: dict, result: ImportResult) -> None:
    existing = {t.number: t for t in PlanTask.objects.filter(plan=plan)}
    now = timezone.now()
    new, update = [], []
    for task in parsed.tasks:
        part = sections[_key(1, task.part_number, 0)]
        section = (
            sections.get(_key(2, task.part_number, task.section_number)) if task.section_number else None
        )
        row = existing.pop(task.number, None)
        if row is None:
            row = PlanTask(plan=plan, number=task.number)
            result.created.append(task.number)
        elif row.removed_at is not None:
            result.restored.append(task.number)
        elif (row.text, row.part_id, row.section_id, row.deadline) != (
            task.text,
            part.pk,
            section.pk if section else None,
            task.deadline,
        ):
            result.updated.append(task.number)
        before = _task_state(row)
        row.label, row.text, row.part, row.section = task.label[:16], task.text, part, section
        row.deadline, row.deadline_text = task.deadline, task.deadline_text[:64]
        # Ordered by number (which follows the document): removing a task does not move the others.
        row.position, row.removed_at = task.number, None
        if not row.pk:
            new.append(row)
        elif _task_state(row) != before:  # unchanged rows are not written: a re-import touches few
            update.append(row)
    for row in existing.values():
        if row.removed_at is None:
            row.removed_at = now
            result.removed.append(row.number)
            update.append(row)
    PlanTask.objects.bulk_create(new)
    if update:
        PlanTask.objects.bulk_update(
            update,
            [
                "label",
                "text",
                "part",
                "section",
                "deadline",
                "deadline_text",
                "position",
                "removed_at",
                "updated_at",
            ],
        )
    result.removed.sort()


def _sync_columns(plan: Plan, parsed: ParsedPlan, sections: dict) -> None:
    PlanColumn.objects.filter(plan=plan).delete()  # nothing points at a column
    PlanColumn.objects.bulk_create(
        PlanColumn(
            plan=plan,
            part=sections[_key(1, c.part_number, 0)],
            number=c.number,
            title=c.title[:255],
            body=c.body,
            position=c.position,
        )
        for c in parsed.columns
    )


def _sync_indicators(plan: Plan, parsed: ParsedPlan, sections: dict) -> int:
    existing: dict[str, list[Indicator]] = {}
    for row in Indicator.objects.filter(plan=plan).order_by("position"):
        existing.setdefault(row.name, []).append(row)
    new, update, position = [], [], 0
    for goal in parsed.goals:
        holder = (
            sections.get(_key(2, goal.part_number, goal.section_number))
            if goal.section_number
            else sections.get(_key(1, goal.part_number, 0))
        )
        for target in goal.targets:
            position += 1
            rows = existing.get(target.indicator)
            row = rows.pop(0) if rows else Indicator(plan=plan, name=target.indicator)
            before = _indicator_state(row)
            row.section, row.comparator, row.value = holder, target.comparator, target.value
            row.tolerance, row.unit, row.year = target.tolerance, target.unit, target.year
            row.source_text = target.source_text if target.quantitative else target.requirement
            row.position, row.removed_at = position, None
            if not row.pk:
                new.append(row)
            elif _indicator_state(row) != before:
                update.append(row)
    now = timezone.now()
    for rows in existing.values():
        for row in rows:
            if row.removed_at is None:
                row.removed_at = now
                update.append(row)
    Indicator.objects.bulk_create(new)
    if update:
        Indicator.objects.bulk_update(
            update,
            [
                "section",
                "comparator",
                "value",
                "tolerance",
                "unit",
                "year",
                "source_text",
                "position",
                "removed_at",
            ],
        )
    return position


def _drop_unused_sections(plan: Plan, sections: dict) -> None:
    """Sections the new text no longer has: deleted if nothing points at them, else marked removed."""
    left = sections["_left"]
    if not left:
        return
    ids = {row.pk for row in left}
    used = set(PlanTask.objects.filter(plan=plan, section_id__in=ids).values_list("section_id", flat=True))
    used |= set(PlanTask.objects.filter(plan=plan, part_id__in=ids).values_list("part_id", flat=True))
    used |= {row.parent_id for row in left if row.pk in used and row.parent_id in ids}
    now = timezone.now()
    keep = [row for row in left if row.pk in used]
    for row in keep:
        row.removed_at = row.removed_at or now
    if keep:
        PlanSection.objects.bulk_update(keep, ["removed_at"])
    drop = [row.pk for row in left if row.pk not in used]
    # Sections before parts: a part's children go first.
    PlanSection.objects.filter(pk__in=drop, level=SectionLevel.SECTION).delete()
    PlanSection.objects.filter(pk__in=drop, level=SectionLevel.PART).delete()
