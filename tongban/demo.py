"""``tongban demo``: a ready node with the reference catalogue and demo accounts, on :8000.

Idempotent: a second run migrates nothing new, reloads the catalogue without duplicates, reuses the
accounts and their passwords (kept in ``var/demo-accounts.json``, outside git), and starts serving.
"""

from __future__ import annotations

import argparse
import json
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    password: str
    note: str


def _passwords(path: Path, names: list[str]) -> dict[str, str]:
    stored = json.loads(path.read_text()) if path.exists() else {}
    changed = False
    for name in names:
        if name not in stored:
            stored[name] = "Tb-" + secrets.token_urlsafe(9)
            changed = True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored, indent=2, ensure_ascii=False))
        path.chmod(0o600)
    return stored


def demo_accounts_ensure() -> list[DemoAccount]:
    """Creates (once) a citizen, an enterprise, a window clerk, reviewers and an administrator."""
    from django.conf import settings
    from stdnum.cn import ric, uscc

    from tongban.accounts import services as accounts
    from tongban.accounts.models import User
    from tongban.regions.models import Organisation

    node = settings.NODE_CODE
    # stdnum computes a check digit over a number that has a placeholder in the last position.
    names = ["citizen", "enterprise", "clerk", "reviewer", "admin"]
    pw = _passwords(settings.VAR_DIR / "demo-accounts.json", names)
    authorities = list(
        Organisation.objects.filter(kind="authority", region__code__startswith=node[:4]).order_by("name")
    )
    window = (
        Organisation.objects.filter(kind="window", region__code__startswith=node[:4]).order_by("name").first()
    )
    market = next((o for o in authorities if "市场监督" in o.name), authorities[0] if authorities else None)
    if market is None or window is None:
        raise SystemExit(
            f"节点 {node} 的目录中没有审批部门或综合服务窗口：请先加载参考数据（tongban catalogue load）。"
        )

    def exists(username: str) -> bool:
        return User.objects.filter(username=username).exists()

    from tongban.accounts.realname import get_verifier
    from tongban.regions.models import Region

    def acceptable(code: str) -> bool:
        # A district created after 1990 cannot be a 1990 birthplace: the verifier refuses such numbers.
        return all(
            get_verifier()
            .verify(name="演示", id_number=f"{code}{b}" + ric.calc_check_digit(f"{code}{b}0"))
            .ok
            for b in ("19900307123", "19900615234", "19920920345")
        )

    districts = Region.objects.filter(parent_id=node, level="district").order_by("code")
    home = next((d.code for d in districts if acceptable(d.code)), node)
    body = f"{home}19900307123"
    if not exists("citizen"):
        accounts.citizen_register(
            username="citizen",
            password=pw["citizen"],
            real_name="张晓明",
            id_number=body + ric.calc_check_digit(body + "0"),
            phone="13855110000",
            email="citizen@example.invalid",
        )
    if not exists("enterprise"):
        code = "91" + node + "MA2T0A015"
        rep = f"{home}19900615234"
        agent = f"{home}19920920345"
        accounts.enterprise_register(
            username="enterprise",
            password=pw["enterprise"],
            enterprise_name=f"{settings.NODE_NAME}通办示范科技有限公司",
            uscc=code + uscc.calc_check_digit(code),
            legal_rep_name="王建国",
            legal_rep_id_number=rep + ric.calc_check_digit(rep + "0"),
            agent_name="李娜",
            agent_id_number=agent + ric.calc_check_digit(agent + "0"),
            phone="13955120000",
        )
    staff = (
        ("clerk", "陈窗口", window, ["window_clerk"]),
        ("reviewer", "刘审批", market, ["reviewer"]),
        ("admin", "周管理", window, ["admin", "supervisor"]),
    )
    for username, real_name, organisation, roles in staff:
        if not exists(username):
            accounts.staff_create(
                username=username,
                password=pw[username],
                real_name=real_name,
                organisation=organisation,
                roles=roles,
            )
    # One reviewer per other authority of the node's city, sharing the reviewer's password, so every
    # local item can be worked in the demo.
    for i, org in enumerate(o for o in authorities if o != market):
        username = f"reviewer{i + 2}"
        if not exists(username):
            accounts.staff_create(
                username=username,
                password=pw["reviewer"],
                real_name=f"审批员{i + 2}",
                organisation=org,
                roles=["reviewer"],
            )
    return [
        DemoAccount("citizen", "自然人（张晓明）", pw["citizen"], "申请、查看我的办件"),
        DemoAccount(
            "enterprise",
            f"法人（{settings.NODE_NAME}通办示范科技有限公司）",
            pw["enterprise"],
            "以企业身份申请",
        ),
        DemoAccount("clerk", f"窗口人员（{window.name}）", pw["clerk"], "窗口代收"),
        DemoAccount("reviewer", f"审批人员（{market.name}）", pw["reviewer"], "受理、补正、办结"),
        DemoAccount("admin", "管理员", pw["admin"], "后台 /admin/ 与全部办件"),
    ]


def demo_prepare(*, cities: set[str] | None = None, certificates: bool = True) -> list[DemoAccount]:
    """Migrates, loads the reference catalogue (all six cities, or only ``cities`` for a federation
    node) and ensures the demo accounts."""
    from django.core.management import call_command

    from tongban.catalogue.loader import reference_data_load

    call_command("migrate", verbosity=0, interactive=False)
    reference_data_load(cities=cities)
    from tongban.bundles.definitions import reference_bundles_load

    reference_bundles_load(cities=cities)
    accounts = demo_accounts_ensure()
    from tongban.plans.demo import CITY as PLAN_CITY
    from tongban.plans.demo import plan_demo_prepare

    if cities is None or PLAN_CITY in cities:  # the Hefei plan (seed 001) is the 合肥 node's
        accounts += [DemoAccount(a.username, a.role, a.password, a.note) for a in plan_demo_prepare()]
        from tongban.proposals.demo import proposals_demo_prepare

        accounts += [DemoAccount(a.username, a.role, a.password, a.note) for a in proposals_demo_prepare()]
    if certificates:  # a federation node issues only once its key is in the trust list
        demo_certificates_ensure()
        from tongban.demo_activity import demo_activity_ensure

        demo_activity_ensure()  # its approvals issue certificates too
    return accounts


def demo_certificates_ensure() -> None:
    """The node's signing key (made once), and a few certificates this city issued to the demo
    citizen and enterprise, so 我的证照 and 免提交 have something to show. Issued once."""
    from django.conf import settings

    from tongban.accounts.models import User
    from tongban.certificates.models import Certificate
    from tongban.certificates.services import certificate_issue
    from tongban.exchange.keys import node_key_init
    from tongban.regions.models import Organisation

    node_key_init()
    authorities = Organisation.objects.filter(
        kind="authority", region__code__startswith=settings.NODE_CODE[:4]
    )

    def authority(*words: str):
        return next((o for o in authorities.order_by("name") if all(w in o.name for w in words)), None)

    citizen = User.objects.filter(username="citizen").first()
    enterprise = User.objects.filter(username="enterprise").select_related("enterprise").first()
    wanted = []
    if citizen is not None:
        person = {"holder_name": citizen.real_name, "holder_id_type": "ric", "holder_id": citizen.id_number}
        wanted += [
            (
                "sbk",
                authority("人力资源"),
                person,
                {"card_kind": "第三代社会保障卡", "issuing_region": settings.NODE_NAME},
            ),
            ("jszz", authority("公安"), person, {"vehicle_class": "C1", "first_issued_on": "2014-05-20"}),
            # 电子身份证 and 户籍证明: what 一件事 and 免提交 use instead of identity papers.
            ("sfz", authority("公安局"), person, {"address": f"{settings.NODE_NAME}政务服务示范园区1号"}),
            (
                "hkb",
                authority("公安局"),
                person,
                {"household_address": f"{settings.NODE_NAME}政务服务示范园区1号"},
            ),
        ]
    if enterprise is not None:
        ent = enterprise.enterprise
        wanted.append(
            (
                "yyzz",
                authority("市场监督"),
                {
                    "holder_name": ent.name,
                    "holder_id_type": "uscc",
                    "holder_id": ent.uscc,
                    "number": ent.uscc,
                },
                {
                    "name": ent.name,
                    "enterprise_type": "有限责任公司（自然人投资或控股）",
                    "legal_representative": ent.legal_rep_name,
                    "registered_capital": "100万元",
                    "established_on": "2025-03-18",
                    "operating_period": "长期",
                    "address": f"{settings.NODE_NAME}政务服务示范园区1号",
                    "business_scope": "软件开发；信息技术咨询服务。",
                },
            )
        )
    for type_key, issuer, holder, data in wanted:
        if issuer is None:
            continue
        from tongban.core import pii

        held = Certificate.objects.filter(
            type__key=type_key, holder_id_hash=pii.lookup_hash(holder["holder_id"], purpose="id_number")
        )
        if not held.exists():
            certificate_issue(type_key=type_key, issuer=issuer, data=data, **holder)


def print_banner(accounts: list[DemoAccount], url: str) -> None:
    print()
    print(f"  通办 Tongban 演示节点已就绪：{url}")
    print(f"  接口文档：{url}api/v1/docs    后台：{url}admin/")
    print()
    print("  演示账户（密码保存在 var/demo-accounts.json）：")
    width = max([len(a.username) for a in accounts] + [9])
    for a in accounts:
        print(f"    {a.username:<{width}} {a.password:<16} {a.role}：{a.note}")
    print(f"    {'reviewerN':<{width}} {'与 reviewer 同密码':<13} 本市其他审批部门")
    print()
    print("  按 Ctrl-C 停止。")
    print(flush=True)


def demo_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tongban demo", description="准备并运行演示节点")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--prepare-only", action="store_true", help="只准备数据，不启动服务")
    args = parser.parse_args(argv)
    import django

    django.setup()
    accounts = demo_prepare()
    url = f"http://127.0.0.1:{args.port}/"
    print_banner(accounts, url)
    if args.prepare_only:
        return 0
    from tongban.server import serve

    serve(host="127.0.0.1", port=args.port, workers=2, threads=4)
    return 0
