"""Demo data of plan supervision: the Hefei plan (seed 001) as ``hefei-yrd-2020``, nine responsible
units of 合肥 with a reporter each, an integration-office account, and the tasks assigned by area.

Idempotent: a second run imports nothing (the plan exists), reuses the units and accounts, and assigns
only parts whose tasks have no lead yet. Passwords are kept with the other demo accounts'
(``var/demo-accounts.json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PLAN_CODE = "hefei-yrd-2020"
SEED = Path(__file__).parent / "data" / "hefei-yrd-plan-2020.txt"
CITY = "340100"

# (username, unit). The office (推进办) sits at the 发改委: task (204) of the plan says so.
UNITS = (
    ("fgw", "合肥市发展和改革委员会"),
    ("kjj", "合肥市科学技术局"),
    ("jxj", "合肥市经济和信息化局"),
    ("jtj", "合肥市交通运输局"),
    ("swj", "合肥市商务局"),
    ("jrj", "合肥市地方金融监督管理局"),
    ("sjj", "合肥市数据资源局"),
    ("nyj", "合肥市农业农村局"),
    ("sthjj", "合肥市生态环境局"),
    ("rsj", "合肥市人力资源和社会保障局"),
)
# Part number → (lead, co-responsible units), by username of the unit.
BY_AREA = {
    2: ("kjj", ("fgw",)),  # 科创一体化
    3: ("jxj", ("fgw", "kjj")),  # 产业一体化
    4: ("jtj", ("fgw",)),  # 交通一体化
    5: ("fgw", ("jxj",)),  # 能源一体化
    6: ("sjj", ("jxj",)),  # 信息一体化
    7: ("swj", ()),  # 商务一体化
    8: ("jrj", ()),  # 金融一体化
    9: ("sjj", ("swj",)),  # 营商环境一体化
    10: ("nyj", ("jtj",)),  # 城乡融合一体化
    11: ("sthjj", ("fgw",)),  # 环保一体化
    12: ("rsj", ()),  # 人力资源和社会保障一体化
    13: ("fgw", ("rsj", "sjj")),  # 公共服务一体化
    14: ("fgw", ()),  # 建立一体化发展推进机制
}


@dataclass(frozen=True)
class PlanDemoAccount:
    username: str
    role: str
    password: str
    note: str


def _uscc(index: int) -> str:
    from stdnum.cn import uscc

    body = f"11{CITY}P{index:07d}X"  # 11 = 机关; a 9-character organisation code
    return body + uscc.calc_check_digit(body)


def plan_demo_units() -> dict:
    """The demo's responsible units, created once (an existing organisation of the same name is used)."""
    from tongban.regions.models import Organisation, Region

    region = Region.objects.filter(code=CITY).first()
    if region is None:
        raise SystemExit("没有合肥市（340100）的行政区划：请先加载参考数据（tongban catalogue load）。")
    units = {}
    for index, (key, name) in enumerate(UNITS, start=1):
        org = Organisation.objects.filter(name=name).order_by("pk").first()
        if org is None:
            org, _ = Organisation.objects.get_or_create(
                uscc=_uscc(index), defaults={"name": name, "kind": "unit", "region": region}
            )
        units[key] = org
    return units


def plan_demo_prepare() -> list[PlanDemoAccount]:
    from django.conf import settings

    from tongban.accounts import services as accounts
    from tongban.accounts.models import User
    from tongban.demo import _passwords
    from tongban.plans.assignment import assignment_set_for_part
    from tongban.plans.importing import plan_import_save
    from tongban.plans.models import Plan, PlanTask
    from tongban.plans.selectors import plan_parts

    units = plan_demo_units()
    plan = Plan.objects.filter(code=PLAN_CODE).first()
    if plan is None:
        plan = plan_import_save(
            actor=None, content=SEED.read_bytes(), filename=SEED.name, code=PLAN_CODE, frequency="quarterly"
        ).plan
    pw = _passwords(settings.VAR_DIR / "demo-accounts.json", ["planoffice", "planreporter"])
    if not User.objects.filter(username="planoffice").exists():
        accounts.staff_create(
            username="planoffice",
            password=pw["planoffice"],
            real_name="吴推进",
            organisation=units["fgw"],
            roles=["plan_office"],
        )
    for key, org in units.items():
        username = f"plan-{key}"
        if not User.objects.filter(username=username).exists():
            accounts.staff_create(
                username=username,
                password=pw["planreporter"],
                real_name=f"{org.name[3:7]}填报员",
                organisation=org,
                roles=["plan_reporter"],
            )
    for part in plan_parts(plan):
        area = BY_AREA.get(part.number)
        if area is None or not part.task_count:
            continue
        unassigned = PlanTask.objects.filter(part=part, removed_at__isnull=True).exclude(
            assignments__role="lead"
        )
        if unassigned.exists():
            lead, co = area
            assignment_set_for_part(actor=None, part=part, lead=units[lead], co=[units[c] for c in co])
    from tongban.plans.demo_tracking import plan_demo_reports

    plan_demo_reports(plan)  # reports, reviews and indicator values over the past periods (once)
    return [
        PlanDemoAccount("planoffice", f"推进办（{units['fgw'].name}）", pw["planoffice"], "导入方案、分配责任单位"),
        PlanDemoAccount(
            "plan-kjj", f"责任单位填报（{units['kjj'].name}；其他单位为 plan-jtj 等，同一密码）",
            pw["planreporter"], "填报本单位任务进展",
        ),
    ]  # fmt: skip
