"""A small plan built directly with the ORM (the importer is another engineer's): two areas, six
numbered tasks, three indicators, three responsible units with their reporters, the office and a
supervisor. Monthly reporting from 2024 to 2026 (years the holiday calendar knows)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from tests import factories as f
from tongban.plans.constants import AssignmentRole, Comparator, ReportingFrequency, SectionLevel
from tongban.plans.models import Indicator, Plan, PlanSection, PlanTask, TaskAssignment

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: dt.date | str, hour: int = 10) -> dt.datetime:
    """An aware datetime on ``day`` (Shanghai time)."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def build_plan(
    *, code: str = "hf-test", frequency: str = ReportingFrequency.MONTHLY, start=2024, end=2026
) -> dict:
    plan = Plan.objects.create(
        code=code, title="合肥市推进方案（测试）", frequency=frequency, start_year=start, end_year=end
    )
    part_a = PlanSection.objects.create(
        plan=plan, level=SectionLevel.PART, number=2, label="二、", title="科创一体化", position=1
    )
    sec_a = PlanSection.objects.create(
        plan=plan,
        parent=part_a,
        level=SectionLevel.SECTION,
        number=1,
        label="（一）",
        title="联合提升原始创新能力",
        position=2,
    )
    part_b = PlanSection.objects.create(
        plan=plan, level=SectionLevel.PART, number=9, label="九、", title="营商环境一体化", position=3
    )
    sec_b = PlanSection.objects.create(
        plan=plan,
        parent=part_b,
        level=SectionLevel.SECTION,
        number=1,
        label="（一）",
        title="优化市场准入环境",
        position=4,
    )
    texts = {
        1: ("推动合肥、张江两大综合性国家科学中心联动发展。", part_a, sec_a, dt.date(2026, 12, 31)),
        2: ("创建量子信息科学国家实验室。", part_a, sec_a, dt.date(2025, 12, 31)),
        3: ("打造重大科技基础设施集群。", part_a, sec_a, None),
        4: ("推进长三角“一网通办”，实现更多事项跨省通办。", part_b, sec_b, dt.date(2026, 12, 31)),
        5: ("推进电子证照互认共享。", part_b, sec_b, dt.date(2024, 12, 31)),
        6: ("企业开办时间压缩至3个工作日以内。", part_b, sec_b, dt.date(2026, 6, 30)),
    }
    tasks = {}
    for n, (text, part, sec, deadline) in texts.items():
        tasks[n] = PlanTask.objects.create(
            plan=plan, part=part, section=sec, number=n, text=text, deadline=deadline, position=10 + n
        )
    f.region()
    dev = f.organisation("合肥市发展和改革委员会", kind="unit")
    sci = f.organisation("合肥市科学技术局", kind="unit")
    data = f.organisation("合肥市数据资源局", kind="unit")
    for n, lead, co in [
        (1, sci, [dev]),
        (2, sci, []),
        (3, sci, [dev]),
        (4, data, [dev]),
        (5, data, []),
        (6, dev, [data]),
    ]:
        TaskAssignment.objects.create(task=tasks[n], organisation=lead, role=AssignmentRole.LEAD)
        for c in co:
            TaskAssignment.objects.create(task=tasks[n], organisation=c, role=AssignmentRole.CO)
    indicators = {
        "rd": Indicator.objects.create(
            plan=plan,
            section=part_a,
            name="全社会研发投入强度",
            comparator=Comparator.AT_LEAST,
            value=Decimal("3.4"),
            unit="%",
            year=2025,
            position=1,
            source_text="研发投入强度达到3.4%以上",
        ),
        "gap": Indicator.objects.create(
            plan=plan,
            section=part_b,
            name="城乡居民收入比",
            comparator=Comparator.AT_MOST,
            value=Decimal("1.75"),
            unit="",
            year=2025,
            position=2,
            source_text="控制在1.75:1以内",
        ),
        "5g": Indicator.objects.create(
            plan=plan,
            section=part_b,
            name="5G网络覆盖率",
            comparator=Comparator.ABOUT,
            value=Decimal("90"),
            tolerance=Decimal("2"),
            unit="%",
            year=2025,
            position=3,
            source_text="90%左右",
        ),
        "qual": Indicator.objects.create(
            plan=plan,
            section=part_b,
            name="一体化体制机制",
            comparator=Comparator.QUALITATIVE,
            position=4,
            source_text="一体化体制机制运行有效",
        ),
    }
    return {
        "plan": plan,
        "parts": {"science": part_a, "business": part_b},
        "tasks": tasks,
        "units": {"dev": dev, "sci": sci, "data": data},
        "indicators": indicators,
        "office": f.staff(dev, roles=("plan_office",)),
        "supervisor": f.staff(dev, roles=("supervisor",)),
        "reporters": {
            "dev": f.staff(dev, roles=("plan_reporter",)),
            "sci": f.staff(sci, roles=("plan_reporter",)),
            "data": f.staff(data, roles=("plan_reporter",)),
        },
    }


def tracking_world(settings, tmp_path) -> dict:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return build_plan()
