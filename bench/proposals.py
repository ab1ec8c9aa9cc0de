"""Proposal handling: the similar-case search (类案参考) over 20,000 past proposals.

In one run (``python -m bench.proposals``, or :func:`main` from ``bench/run_all.py``), for each
database (PostgreSQL, the production store, and the embedded SQLite):

1. 20,000 synthetic proposals are written (titles and texts combined from about 60 topics of Yangtze
   River Delta integration, each with its own words, plus shared official phrasing), half of them
   with a sent reply, and indexed as the services index them (``similar.term_counts``).
2. The first search of a fresh process builds its in-memory index from the index rows: reported
   as the cold start, not as a query.
3. 300 searches with the title and text of other proposals as the draft page makes them
   (``selectors.similar_cases``: segmentation, BM25 over the index, and reading the top 5 proposals
   with their replies): p50, p95 and max, target p95 ≤ 100 ms.
4. A new proposal is registered through the service and the next search must find it (the
   incremental catch-up): its time is reported.

Each database runs in its own child process (fresh Django set-up; PostgreSQL database
``tongban_proposalbench`` created afresh, or ``TONGBAN_PROPOSALBENCH_PG_URL``). Results go to
``docs/benchmarks-proposals.md`` with the machine. Letter generation is benchmarked with the letters.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DB_URL = os.environ.get(
    "TONGBAN_PROPOSALBENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/tongban_proposalbench"
)
DOC = REPO / "docs" / "benchmarks-proposals.md"
N_PROPOSALS = 20_000
N_QUERIES = 300
TARGET_P95_MS = 100.0

_SUBJECTS = (
    "跨省通办 综合服务专窗 一网通办 政务服务 事项清单",
    "异地就医 门诊费用 直接结算 医保 备案",
    "电子证照 互认共享 社会保障卡 营业执照 数据核验",
    "城际铁路 公交一卡通 交通出行 轨道交通 通勤",
    "水环境 跨界河流 联防联治 生态补偿 巢湖流域",
    "人才公寓 职称互认 高层次人才 引才 人才驿站",
    "教师互派 结对办学 优质教育 学位 招生",
    "旅游年卡 文旅融合 精品线路 景区 民宿",
    "数据共享 信息系统 数据目录 交换平台 数据壁垒",
    "养老服务 养老补贴 异地养老 护理 康养",
    "住房公积金 异地贷款 转移接续 租房提取 缴存",
    "企业开办 营商环境 一件事 印章刻制 税务登记",
    "绿色农产品 生产基地 冷链物流 农业合作 品牌",
    "应急联动 物资储备 突发事件 防汛 演练",
    "港口物流 集装箱 航线 内河航运 多式联运",
    "科技创新券 研发投入 中试基地 成果转化 孵化器",
    "医联体 检查结果互认 专科联盟 远程医疗 三甲医院",
    "老工业区 城市更新 工业遗产 产业转型 厂房",
    "物联网 产业联盟 G60科创走廊 示范园 智能制造",
    "新能源汽车 零部件 产业链 整车 电池",
    "光伏 储能 绿色能源 碳达峰 节能改造",
    "托育 婴幼儿 普惠托育 早教 托位",
    "老旧小区 加装电梯 物业管理 停车位 改造",
    "垃圾分类 资源回收 环卫 餐厨垃圾 清运",
    "农村供水 水厂 管网 饮水安全 乡村振兴",
    "快递物流 末端配送 驿站 冷链 仓储",
    "跨境电商 外贸 海关 口岸 通关便利",
    "知识产权 专利 商标 保护中心 维权",
    "金融服务 普惠金融 小微企业 贷款 融资担保",
    "公共文化 图书馆 博物馆 文化馆 演出",
    "体育场馆 全民健身 赛事 体育公园 健身步道",
    "食品安全 市场监管 抽检 餐饮 冷链食品",
    "社区治理 网格化 志愿服务 邻里中心 居委会",
    "残疾人 无障碍 康复 就业帮扶 补贴",
    "退役军人 优抚 安置 就业创业 服务站",
    "农民工 欠薪 劳动保障 技能培训 就业",
    "大学生 就业见习 创业孵化 实习 人才市场",
    "中医药 传承创新 中药材 名医工作室 康养",
    "数字经济 算力 数据中心 5G基站 工业互联网",
    "预制菜 食品产业 农产品加工 品牌 园区",
)
_SHARED = (
    "建议加强长三角区域合作，推动一体化高质量发展。",
    "建议借鉴沪苏浙先进经验，完善工作机制。",
    "目前仍存在政策衔接不畅、标准不统一等问题。",
    "建议加大资金投入，强化要素保障。",
    "希望有关部门统筹协调，形成工作合力。",
    "建议建立常态化沟通机制，定期会商。",
)


def _synthetic(rng: random.Random, i: int) -> tuple[str, str, str]:
    words = _SUBJECTS[i % len(_SUBJECTS)].split()
    other = _SUBJECTS[rng.randrange(len(_SUBJECTS))].split()
    pick = rng.sample(words, 3)
    title = f"关于推进{pick[0]}和{pick[1]}工作的{'建议' if i % 2 else '提案'}"
    sentences = [
        f"当前{pick[0]}方面群众反映较多，{pick[1]}与{pick[2]}衔接不够。",
        f"建议进一步完善{words[rng.randrange(5)]}相关政策，扩大{words[rng.randrange(5)]}覆盖范围。",
        f"同时推动{other[rng.randrange(5)]}与{pick[2]}协同发展。",
        *rng.sample(_SHARED, 2),
    ]
    rng.shuffle(sentences)
    reply = f"您提出的“{title}”收悉。{pick[0]}工作已纳入年度计划，{pick[1]}已完成试点，下一步将推广{pick[2]}经验。"
    return title, "".join(sentences), reply


# --- In the child process -----------------------------------------------------------------------------


def _setup(db: str, work: Path) -> None:
    if db == "postgres":
        from bench.env import ensure_database, server_env

        ensure_database(DB_URL, rebuild=True)
        os.environ.update(server_env(DB_URL, work))
    else:
        os.environ.update(
            DJANGO_SETTINGS_MODULE="tongban.config.settings",
            DATABASE_URL=f"sqlite:///{work / 'bench.sqlite3'}",
            TONGBAN_VAR_DIR=str(work),
            TONGBAN_LOG_LEVEL="WARNING",
        )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _populate(n: int) -> tuple[list[tuple[str, str]], float]:
    from django.db import transaction
    from django.utils import timezone

    from tongban.proposals import similar
    from tongban.proposals.constants import ProposalKind, ProposalStatus, ReplyPurpose, ReplyStatus
    from tongban.proposals.models import Jurisdiction, Proposal, Reply, SearchDocument
    from tongban.regions.models import Organisation, Region

    start = time.perf_counter()
    rng = random.Random(20_000)
    region, _ = Region.objects.get_or_create(code="340102", defaults={"name": "瑶海区", "level": "district"})
    from stdnum.cn import uscc

    body = "11340102MB0000001"
    unit = Organisation.objects.create(
        name="瑶海区发展和改革委员会", uscc=body + uscc.calc_check_digit(body), kind="unit", region=region
    )
    j = Jurisdiction.objects.create(code="bench", name="基准测试规则")
    now = timezone.now()
    texts = []
    for first in range(0, n, 1000):
        with transaction.atomic():
            rows, replies, bodies = [], [], {}
            for i in range(first, min(first + 1000, n)):
                title, text, reply = _synthetic(rng, i)
                texts.append((title, text))
                rows.append(
                    Proposal(
                        jurisdiction=j,
                        kind=ProposalKind.values[i % 2],
                        session=f"第{i // 500 + 1}次会议",
                        serial=i % 500 + 1,
                        title=title,
                        text=text,
                        proposer_name="演示代表",
                        status=ProposalStatus.CLOSED if i % 2 == 0 else ProposalStatus.HANDLING,
                        lead_unit=unit,
                        registered_at=now,
                    )
                )
                bodies[i] = reply
            created = Proposal.objects.bulk_create(rows)
            docs = []
            for offset, p in enumerate(created):
                i = first + offset
                texts_of = [p.text]
                if i % 2 == 0:
                    replies.append(
                        Reply(
                            proposal=p,
                            organisation=unit,
                            purpose=ReplyPurpose.FIRST,
                            status=ReplyStatus.SENT,
                            version=1,
                            reply_class="ABCD"[i % 4],
                            body=bodies[i],
                            sent_at=now,
                            document_number=f"瑶发改案〔2025〕{i + 1}号",
                            doc_year=2025,
                            doc_seq=i + 1,
                        )
                    )
                    texts_of.append(bodies[i])
                counts = similar.term_counts(title=p.title, texts=texts_of)
                docs.append(SearchDocument(proposal=p, terms=dict(counts), length=sum(counts.values())))
            Reply.objects.bulk_create(replies)
            SearchDocument.objects.bulk_create(docs)
    return texts, time.perf_counter() - start


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def child(db: str) -> dict:
    work = Path(tempfile.mkdtemp(prefix="tongban-proposalbench-"))
    _setup(db, work)
    from bench.machine import load_average
    from tongban.proposals import selectors, services, similar
    from tongban.proposals.models import Proposal

    before = load_average()
    _texts, populate_s = _populate(N_PROPOSALS)
    similar.index_reset()
    t = time.perf_counter()
    similar.search("长三角", k=5)
    cold_s = time.perf_counter() - t

    rng = random.Random(7)
    probes = (
        list(Proposal.objects.order_by("?")[:N_QUERIES])
        if db == "postgres"
        else [
            Proposal.objects.get(pk=pk)
            for pk in rng.sample(list(Proposal.objects.values_list("pk", flat=True)), N_QUERIES)
        ]
    )
    for p in probes[:10]:  # warm-up: jieba's own caches, the database's
        selectors.similar_cases(None, p, k=5)
    times, search_only = [], []
    hits_same_topic = 0
    for p in probes:
        t = time.perf_counter()
        rows = selectors.similar_cases(None, p, k=5)
        times.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        similar.search(p.text, title=p.title, k=5, exclude=p.pk)
        search_only.append((time.perf_counter() - t) * 1000)
        if rows and rows[0]["proposal"].title.split("和")[0][4:] in p.title:
            hits_same_topic += 1

    from tongban.accounts.services import staff_create

    office = staff_create(
        username="bench-office",
        password="Bench-Password-2026!",
        real_name="基准",
        organisation=None,
        roles=["proposal_office"],
    )
    fresh = services.proposal_register(
        actor=office,
        kind="cppcc_proposal",
        session="基准新会议",
        serial=1,
        title="关于月球车充电桩建设的提案",
        text="建议在月球基地建设月球车充电桩和维修站。",
        proposer_name="新代表",
        jurisdiction="bench",
    )
    t = time.perf_counter()
    found = similar.search("月球车充电桩", k=1)
    catch_up_ms = (time.perf_counter() - t) * 1000
    from django.db import connection

    machine = None
    if db == "postgres":
        from bench.machine import machine_info

        machine = machine_info()
    return {
        "db": db,
        "vendor": connection.vendor,
        "proposals": N_PROPOSALS,
        "queries": N_QUERIES,
        "populate_s": round(populate_s, 1),
        "cold_build_s": round(cold_s, 2),
        "p50_ms": round(_percentile(times, 0.50), 1),
        "p95_ms": round(_percentile(times, 0.95), 1),
        "max_ms": round(max(times), 1),
        "search_only_p95_ms": round(_percentile(search_only, 0.95), 1),
        "top1_same_topic": round(hits_same_topic / len(probes), 3),
        "catch_up_ms": round(catch_up_ms, 1),
        "catch_up_found": bool(found and found[0].proposal_id == fresh.pk),
        "load_average_before": before,
        "load_average_after": load_average(),
        "machine": machine,
    }


def table(results: list[dict]) -> str:
    lines = [
        "| database | proposals | p50 | p95 | max | search only p95 | target p95 | met | cold build | new proposal found (ms) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for r in results:
        met = "yes" if r["p95_ms"] <= TARGET_P95_MS else "**no**"
        lines.append(
            f"| {r['db']} | {r['proposals']:,} | {r['p50_ms']} ms | {r['p95_ms']} ms | {r['max_ms']} ms | "
            f"{r['search_only_p95_ms']} ms | ≤ {TARGET_P95_MS:g} ms | {met} | {r['cold_build_s']} s | "
            f"{r['catch_up_ms']} ({'yes' if r['catch_up_found'] else 'NO'}) |"
        )
    return "\n".join(lines)


def write_doc(results: list[dict]) -> None:
    m = next((r["machine"] for r in results if r.get("machine")), None)
    machine = ""
    if m:
        machine = (
            "## Machine\n\n"
            f"- CPU: {m['cpu_model']}, {m['cores']} cores; memory {m['memory_gib']} GiB; Linux {m['kernel']}\n"
            f"- {m['postgresql']}; settings {m['postgresql_settings']}\n"
            f"- Python {m['python']}, Django {m['django']}; run {m['date']}\n"
        )
    loads = "; ".join(f"{r['db']}: {r['load_average_before']} / {r['load_average_after']}" for r in results)
    DOC.write_text(
        "# Benchmarks: proposal handling (similar-case search)\n\n"
        "Written by `python -m bench.proposals` (see its docstring for what is measured and how).\n\n"
        f"{table(results)}\n\n"
        f"- Each query is the title and text of one of {N_QUERIES} random proposals, answered as the draft page "
        "answers it (`selectors.similar_cases`: jieba segmentation, BM25 over the in-process index, reading the "
        "top 5 proposals and their replies); *search only* leaves out the reading of the rows.\n"
        "- *Cold build*: the first search of a process reads every index row and builds the index; it is not a "
        "query and is not counted in the percentiles.\n"
        "- *New proposal found*: a proposal registered through the service after the index was built, found by the "
        "next search of the same process (which reads the rows written since).\n"
        f"- Share of queries whose best hit is on the same synthetic topic: "
        + ", ".join(f"{r['db']} {r['top1_same_topic']:.0%}" for r in results)
        + ".\n"
        f"- Load average before / after: {loads} (the machine is shared; other processes were running).\n\n"
        f"{machine}",
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> list[dict]:
    """Runs each database's benchmark in a child process, prints the markdown table, writes the docs page."""
    argv = sys.argv[1:] if argv is None else argv
    dbs = ["postgres", "sqlite"]
    if "--db" in argv:
        dbs = [argv[argv.index("--db") + 1]]
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    results = []
    for db in dbs:
        proc = subprocess.run(
            [sys.executable, "-m", "bench.proposals", "--child", db],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        )
        if proc.returncode:
            raise RuntimeError(f"bench.proposals ({db}) failed:\n{proc.stderr[-4000:]}")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(table(results))
    if "--no-docs" not in argv:
        write_doc(results)
    return results


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(sys.argv[2]), ensure_ascii=False, default=str))
    else:
        main()
