"""Shared fixtures and builders of the plan-import tests: real .docx, .pdf, .html and .xlsx bytes, the
seed plan, small synthetic plans, the office and responsible units.

Test modules load it with ``pytest_plugins = ("tests.plans.import_fixtures",)``.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests import factories

SEED = Path(__file__).resolve().parents[2] / "tongban" / "plans" / "data" / "hefei-yrd-plan-2020.txt"
PASSWORD = "Tongban-2026!"

# Seed 001: what its structure must be (the interpretation after part 十四 is not counted).
SEED_TASKS_PER_PART = [0, 31, 23, 20, 9, 14, 17, 10, 18, 12, 12, 11, 25, 8]
SEED_TARGETS = [
    {"indicator": "研发投入强度", "comparator": "at_least", "value": 3.4, "unit": "%", "year": 2025},
    {"indicator": "高技术产业产值占规上工业总产值比重", "comparator": "at_least", "value": 30, "unit": "%", "year": 2025},
    {"indicator": "铁路网密度", "comparator": "at_least", "value": 700, "unit": "公里/万平方公里", "year": 2025},
    {"indicator": "高速公路密度", "comparator": "at_least", "value": 5.65, "unit": "公里/百平方公里", "year": 2025},
    {"indicator": "5G网络覆盖率", "comparator": "about", "value": 90, "unit": "%", "year": 2025},
    {"indicator": "城乡居民收入差距", "comparator": "at_most", "value": 1.75, "unit": ":1", "year": 2025},
    {"indicator": "常住人口城镇化率", "comparator": "at_least", "value": 80, "unit": "%", "year": 2025},
    {"indicator": "空气质量优良天数比例", "comparator": "at_least", "value": 80, "unit": "%", "year": 2025},
    {"indicator": "人均公共财政支出", "comparator": "at_least", "value": 1.61, "unit": "万元", "year": 2025},
    {"indicator": "劳动年龄人口平均受教育年限", "comparator": "at_least", "value": 12.1, "unit": "年", "year": 2025},
    {"indicator": "人均期望寿命", "comparator": "at_least", "value": 79, "unit": "岁", "year": 2025},
]  # fmt: skip

_CN = "一二三四五六七八九十"


def cn(n: int) -> str:
    """1 → 一, 14 → 十四, 28 → 二十八."""
    if n < 10:
        return _CN[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN[tens - 1]) + "十" + (_CN[ones - 1] if ones else "")


def seed_bytes() -> bytes:
    return SEED.read_bytes()


def section_plan(count: int = 28) -> str:
    """A plan whose lowest level is （一）…（二十八）, numbered across parts, full-width brackets."""
    lines = ["关于推进示范区高质量发展的实施意见", "XX市人民政府", "一、总体要求"]
    lines += [
        "（一）指导思想。坚持新发展理念，推动示范区高质量发展。",
        "（二）基本原则。坚持改革创新、开放合作。",
        "（三）主要目标。到2025年，示范区地区生产总值达到1200亿元，常住人口城镇化率达到70%以上，"
        "单位GDP能耗下降完成省控目标。",
        "二、重点任务",
    ]
    for n in range(4, count - 2):
        lines.append(f"（{cn(n)}）推进第{n}项重点工作。加快建设相关平台，2024年底前完成阶段目标。")
    lines.append("三、保障措施")
    for n in range(count - 2, count + 1):
        lines.append(f"（{cn(n)}）强化保障第{n}项。落实责任。")
    return "\n".join(lines)


def dot_plan() -> str:
    """A plan with ``1.`` tasks; a list of examples inside task 3 must not start tasks."""
    return "\n".join(
        [
            "某区优化营商环境三年行动方案",
            "一、工作目标",
            "到2024年，企业开办时间控制在1个工作日以内，政务服务事项网上可办率达到95%左右。",
            "二、主要任务",
            "（一）提升开办便利度",
            "1.推行企业开办一网通办，2023年6月底前实现全程网办。",
            "2.压缩审批时限，推行告知承诺制。",
            "（二）优化监管",
            "3.推行“双随机、一公开”监管，抽查方式包括：1.随机抽取检查对象 2.随机选派执法人员。",
            "4.建立信用分级分类监管制度。",
            "三、保障措施",
            "5.加强组织领导，明确责任分工。",
            "6.强化督查考核。",
        ]
    )


def paren_plan(*, tasks: dict[int, str] | None = None) -> str:
    """A small plan with (n) tasks inline in paragraphs; ``tasks`` replaces or drops (empty) texts."""
    texts = {
        1: "建设科创平台，“(1)号工程”同步推进。",
        2: "引进高层次人才。",
        3: "到2020年建成人才公寓。",
        4: "完善综合交通网络。",
        5: "推进轨道交通建设，确保2021年底前开通。",
        6: "加强督查考核。",
    }
    texts.update(tasks or {})

    def run(numbers):
        return "".join(f"({n}){texts[n]}" for n in numbers if texts.get(n))

    return "\n".join(
        [
            "一、发展目标",
            "到2025年，研发投入强度达到3%以上。",
            "二、科创",
            f"(一)创新平台。{run([1, 2, 3])}",
            "专栏1 科创平台建设工程",
            "建设一批科创平台。",
            "三、交通",
            f"(一)交通网络。{run([4, 5])}",
            "四、保障",
            f"(一)组织保障。{run([6])}",
        ]
    )


# --- real files --------------------------------------------------------------------------------------


def docx_bytes(lines: list[str], *, table: list[list[str]] | None = None, table_after: int = 0) -> bytes:
    import docx

    document = docx.Document()
    for i, line in enumerate(lines):
        document.add_paragraph(line)
        if table and i == table_after:
            t = document.add_table(rows=len(table), cols=len(table[0]))
            for r, row in enumerate(table):
                for c, value in enumerate(row):
                    t.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_bytes(lines: list[str], *, encrypt: str | None = None) -> bytes:
    """A PDF with a real text layer (reportlab, the STSong-Light CID font)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    if encrypt:
        from reportlab.lib import pdfencrypt

        c.setEncrypt(pdfencrypt.StandardEncryption(encrypt, canPrint=0))
    y = 800
    for line in lines:
        c.setFont("STSong-Light", 10)
        while line:
            c.drawString(40, y, line[:48])
            line = line[48:]
            y -= 14
            if y < 40:
                c.showPage()
                y = 800
    c.save()
    return out.getvalue()


def scanned_pdf_bytes() -> bytes:
    """A PDF with only graphics (like a scan): no text layer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    c.rect(50, 50, 400, 600, fill=1)
    c.showPage()
    c.save()
    return out.getvalue()


def html_bytes(lines: list[str], *, encoding: str = "utf-8") -> bytes:
    body = "".join(f"<p>{line}</p>" for line in lines)
    page = (
        f'<!DOCTYPE html><html><head><meta charset="{encoding}"><title>方案</title>'
        f"<style>p {{ margin: 0 }}</style><script>var x = '(1)';</script></head>"
        f"<body><div class='nav'>首页 &gt; 政策文件</div>{body}</body></html>"
    )
    return page.encode(encoding)


def xlsx_bytes(
    rows: list[list], *, header=("任务序号", "所属部分", "任务内容", "牵头单位", "配合单位")
) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    if header:
        sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- people and units ---------------------------------------------------------------------------------


@pytest.fixture
def city(db):
    return factories.region("340100", "合肥市", "city", parent="340000")


@pytest.fixture
def units(city):
    """Three responsible units (kind ``unit``) with valid 统一社会信用代码."""
    return {
        key: factories.organisation(name, kind="unit")
        for key, name in (
            ("kjj", "合肥市科学技术局"),
            ("jtj", "合肥市交通运输局"),
            ("fgw", "合肥市发展和改革委员会"),
        )
    }


@pytest.fixture
def office(units):
    return factories.staff(units["fgw"], roles=("plan_office",), username="office")


@pytest.fixture
def reporter(units):
    return factories.staff(units["kjj"], roles=("plan_reporter",), username="reporter")


@pytest.fixture
def supervisor(units):
    return factories.staff(units["fgw"], roles=("supervisor",), username="supervisor")


@pytest.fixture
def seed_plan(db):
    from tongban.plans.importing import plan_import_save

    return plan_import_save(actor=None, content=seed_bytes(), filename=SEED.name, code="hefei-yrd-2020").plan
