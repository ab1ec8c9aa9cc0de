"""Reads of a plan's structure: plan lists, one plan with its parts, sections, tasks (and their
units), columns and indicators, and the tasks of a unit. Reporting reads live in another module."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet

from tongban.core.errors import NotFound
from tongban.plans import error_codes as codes
from tongban.plans.access import can_manage_plans, can_view_all_plans
from tongban.plans.constants import AssignmentRole, SectionLevel
from tongban.plans.models import (
    AssignmentEvent,
    Indicator,
    Plan,
    PlanColumn,
    PlanSection,
    PlanTask,
    TaskAssignment,
)


def plans_visible_to(user) -> QuerySet[Plan]:
    """The office and supervisors see every plan; a unit's staff the plans with tasks of their unit."""
    plans = Plan.objects.annotate(
        task_count=Count("tasks", filter=Q(tasks__removed_at__isnull=True), distinct=True)
    ).order_by("-created_at")
    if can_view_all_plans(user):
        return plans
    org_id = getattr(user, "organisation_id", None)
    if not org_id:
        return plans.none()
    return plans.filter(tasks__assignments__organisation_id=org_id).distinct()


def plan_for(user, code: str) -> Plan:
    plan = plans_visible_to(user).filter(code=code).first()
    if plan is None:
        raise NotFound(codes.NOT_FOUND, "没有找到该方案，或您无权查看。")
    return plan


def plan_by_code(code: str) -> Plan:
    plan = Plan.objects.filter(code=code).first()
    if plan is None:
        raise NotFound(codes.NOT_FOUND, "没有找到该方案。")
    return plan


def _live_tasks() -> QuerySet[PlanTask]:
    return (
        PlanTask.objects.filter(removed_at__isnull=True)
        .order_by("position")
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=TaskAssignment.objects.select_related("organisation").order_by(
                    "role", "organisation__name"
                ),
            )
        )
    )


@dataclass
class SectionNode:
    section: PlanSection
    tasks: list[PlanTask] = field(default_factory=list)


@dataclass
class PartNode:
    part: PlanSection
    tasks: list[PlanTask] = field(default_factory=list)  # tasks directly under the part
    sections: list[SectionNode] = field(default_factory=list)
    columns: list[PlanColumn] = field(default_factory=list)

    @property
    def task_count(self) -> int:
        return len(self.tasks) + sum(len(s.tasks) for s in self.sections)


@dataclass
class PlanStructure:
    plan: Plan
    parts: list[PartNode]
    indicators: list[Indicator]
    removed_tasks: list[PlanTask]

    @property
    def task_count(self) -> int:
        return sum(p.task_count for p in self.parts)

    @property
    def column_count(self) -> int:
        return sum(len(p.columns) for p in self.parts)


def _with_units(tasks):
    """Each task's lead unit and co-responsible units as names (``lead_name``, ``co_names``), from
    the prefetched assignments: the pages print them for hundreds of tasks."""
    for task in tasks:
        assignments = task.assignments.all()
        task.lead_name = next((a.organisation.name for a in assignments if a.role == AssignmentRole.LEAD), "")
        task.co_names = [a.organisation.name for a in assignments if a.role == AssignmentRole.CO]
        yield task


def plan_structure(plan: Plan) -> PlanStructure:
    """The plan as a tree, in a fixed number of queries whatever its size."""
    sections = list(PlanSection.objects.filter(plan=plan, removed_at__isnull=True).order_by("position"))
    parts = {s.pk: PartNode(part=s) for s in sections if s.level == SectionLevel.PART}
    nodes = {}
    for s in sections:
        if s.level == SectionLevel.SECTION and s.parent_id in parts:
            nodes[s.pk] = SectionNode(section=s)
            parts[s.parent_id].sections.append(nodes[s.pk])
    for task in _with_units(_live_tasks().filter(plan=plan)):
        if task.section_id in nodes:
            nodes[task.section_id].tasks.append(task)
        elif task.part_id in parts:
            parts[task.part_id].tasks.append(task)
    for column in PlanColumn.objects.filter(plan=plan).order_by("position"):
        if column.part_id in parts:
            parts[column.part_id].columns.append(column)
    indicators = list(Indicator.objects.filter(plan=plan, removed_at__isnull=True).order_by("position"))
    removed = list(PlanTask.objects.filter(plan=plan, removed_at__isnull=False).order_by("number"))
    return PlanStructure(plan=plan, parts=list(parts.values()), indicators=indicators, removed_tasks=removed)


def plan_parts(plan: Plan) -> list[PlanSection]:
    return list(
        PlanSection.objects.filter(plan=plan, level=SectionLevel.PART, removed_at__isnull=True)
        .annotate(task_count=Count("part_tasks", filter=Q(part_tasks__removed_at__isnull=True)))
        .order_by("position")
    )


def plan_tasks(plan: Plan) -> list[PlanTask]:
    return list(_with_units(_live_tasks().filter(plan=plan).select_related("part", "section")))


def task_for(plan: Plan, number: int) -> PlanTask:
    task = PlanTask.objects.filter(plan=plan, number=number).select_related("plan", "part").first()
    if task is None:
        raise NotFound(codes.TASK_NOT_FOUND, f"方案中没有第 {number} 项任务。")
    return task


def part_for(plan: Plan, number: int) -> PlanSection:
    part = PlanSection.objects.filter(
        plan=plan, level=SectionLevel.PART, number=number, removed_at__isnull=True
    ).first()
    if part is None:
        raise NotFound(codes.NOT_FOUND, f"方案中没有第 {number} 部分。")
    return part


def tasks_of_unit(
    organisation_id: int, *, plan: Plan | None = None, role: str | None = None
) -> QuerySet[PlanTask]:
    """The live tasks a unit is responsible for (lead or co, or only ``role``)."""
    filters = Q(assignments__organisation_id=organisation_id)
    if role:
        filters &= Q(assignments__role=role)
    tasks = _live_tasks().filter(filters).select_related("plan", "part", "section").distinct()
    return tasks.filter(plan=plan) if plan is not None else tasks


def lead_of(task: PlanTask):
    """The task's lead assignment (uses prefetched assignments when present)."""
    return next((a for a in task.assignments.all() if a.role == AssignmentRole.LEAD), None)


def assignment_history(task: PlanTask) -> QuerySet[AssignmentEvent]:
    return AssignmentEvent.objects.filter(task=task).select_related(
        "organisation", "previous_organisation", "actor"
    )


def can_import(user) -> bool:
    return can_manage_plans(user)
