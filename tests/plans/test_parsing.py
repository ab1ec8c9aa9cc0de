"""The structure parser on seed 001 and on synthetic plans of other shapes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.plans.import_fixtures import (
    SEED,
    SEED_TARGETS,
    SEED_TASKS_PER_PART,
    dot_plan,
    paren_plan,
    section_plan,
)
from tongban.plans.parsing import clause_target, paragraph_targets, parse_plan
from tongban.plans.parsing.deadlines import find_deadline
from tongban.plans.parsing.numerals import cn_to_int


def seed():
    return parse_plan(SEED.read_text(encoding="utf-8"), source_name=SEED.name)


def test_seed_structure_counts_parts_tasks_and_columns():
    plan = seed()
    assert len(plan.parts) == 14
    assert len(plan.tasks) == 210
    assert plan.tasks_per_part() == SEED_TASKS_PER_PART
    assert len(plan.columns) == 19
    assert [t.number for t in plan.tasks] == list(range(1, 211))
    assert plan.parts[1].title == "科创一体化" and plan.parts[-1].title == "建立一体化发展推进机制"


def test_seed_interpretation_after_part_14_is_trailing_text_not_counted():
    plan = seed()
    assert plan.trailing_text.startswith(
        "关于《合肥市推动长三角地区更高质量一体化发展重点工作推进方案》的相关解读"
    )
    assert "210条重点工作" in plan.trailing_text
    kinds = [p.kind for p in plan.problems]
    assert "trailing_text" in kinds
    # The interpretation's "1.科创一体化…" must not have become tasks or parts.
    assert all("起草过程" not in p.title for p in plan.parts)


def test_seed_title_issuer_and_years():
    plan = seed()
    assert plan.title == "合肥市推动长三角地区更高质量一体化发展重点工作推进方案"
    assert plan.issuer == "中共合肥市委 合肥市人民政府"
    assert (plan.start_year, plan.end_year) == (2019, 2025)


def test_seed_targets_of_the_goals_section():
    plan = seed()
    found = [
        {k: v for k, v in t.as_dict().items() if k in ("indicator", "comparator", "value", "unit", "year")}
        for t in plan.quantitative_targets
    ]
    assert found == SEED_TARGETS
    about = next(t for t in plan.quantitative_targets if t.comparator == "about")
    assert about.tolerance == Decimal("4.5")
    qualitative = {t.indicator: t.requirement for t in plan.qualitative_targets}
    assert qualitative == {"细颗粒物(PM2.5)平均浓度": "达到省考核要求", "单位GDP能耗下降": "完成省控目标"}


def test_seed_goal_paragraphs_keep_their_qualitative_text():
    plan = seed()
    titles = [g.title for g in plan.goals]
    assert "一体化体制机制运行有效" in titles
    institutional = next(g for g in plan.goals if g.title == "一体化体制机制运行有效")
    assert institutional.targets == [] and "行政壁垒" in institutional.text


def test_seed_deadlines_inside_tasks():
    plan = seed()
    by_number = {t.number: t for t in plan.tasks}
    assert by_number[55].deadline == date(2019, 12, 31) and "2019年底前" in by_number[55].deadline_text
    assert by_number[177].deadline == date(2020, 12, 31) and by_number[177].deadline_text == "到2020年"
    # 《合肥港总体规划(2016-2040)》 is a title, not a deadline.
    assert by_number[65].deadline is None


def test_seed_garbled_and_repeated_passages_in_columns_6_and_15_are_reported():
    plan = seed()
    garbled = {p.location for p in plan.problems if p.kind == "garbled"}
    repeated = {p.location for p in plan.problems if p.kind == "repeated"}
    assert garbled == {"专栏6", "专栏15"}
    assert repeated == {"专栏6", "专栏15"}
    # Columns that legitimately repeat task wording (专栏8 and tasks 55–58) are not reported.
    assert not any(p.location == "专栏8" for p in plan.problems)
    # Nothing is merged away: the garbled text is kept as printed.
    assert "将军岭将军岭" in plan.columns[14].body
    assert not plan.has_errors


def test_seed_task_text_keeps_sentences_after_the_task_and_sections_keep_their_intro():
    plan = seed()
    task17 = next(t for t in plan.tasks if t.number == 17)
    assert task17.text.endswith("优化创新创业生态环境。")
    industry = plan.parts[2].sections[0]
    assert industry.title == "打造先进制造业集群"
    assert industry.body.startswith("充分整合集聚长三角地区")


def test_sections_are_the_tasks_when_there_are_no_numbered_tasks():
    plan = parse_plan(section_plan(28))
    assert plan.task_style == "section"
    assert len(plan.parts) == 3
    assert [t.number for t in plan.tasks] == list(range(1, 29))
    assert plan.tasks_per_part() == [3, 22, 3]
    assert plan.tasks[-1].label == "（二十八）"
    assert plan.tasks[5].deadline == date(2024, 12, 31)
    targets = [(t.indicator, t.comparator, t.value, t.unit) for t in plan.quantitative_targets]
    assert targets == [
        ("示范区地区生产总值", "at_least", Decimal("1200"), "亿元"),
        ("常住人口城镇化率", "at_least", Decimal("70"), "%"),
    ]
    assert plan.qualitative_targets[0].requirement == "完成省控目标"


def test_dot_tasks_and_a_list_of_examples_inside_a_task():
    plan = parse_plan(dot_plan())
    assert plan.task_style == "dot"
    assert [t.number for t in plan.tasks] == [1, 2, 3, 4, 5, 6]
    assert plan.tasks_per_part() == [0, 4, 2]
    assert "1.随机抽取检查对象 2.随机选派执法人员" in plan.tasks[2].text
    assert plan.tasks[0].deadline == date(2023, 6, 30)
    (first, second) = plan.quantitative_targets
    assert (first.comparator, first.value, first.unit) == ("at_most", Decimal("1"), "个工作日")
    assert (second.comparator, second.value, second.tolerance) == ("about", Decimal("95"), Decimal("4.75"))


def test_a_number_inside_a_quotation_does_not_start_a_task():
    plan = parse_plan(paren_plan())
    assert [t.number for t in plan.tasks] == [1, 2, 3, 4, 5, 6]
    assert "“(1)号工程”" in plan.tasks[0].text
    assert plan.tasks_per_part() == [0, 3, 2, 1]
    assert len(plan.columns) == 1 and plan.columns[0].title == "科创平台建设工程"


def test_numbering_gap_is_a_warning_and_duplicate_an_error():
    gap = parse_plan(paren_plan(tasks={3: ""}))
    assert [t.number for t in gap.tasks] == [1, 2, 4, 5, 6]
    assert [p.kind for p in gap.problems if p.kind == "gap"] == ["gap"]
    assert not gap.has_errors
    text = paren_plan().replace("(2)引进高层次人才。", "(2)引进高层次人才。(2)引进高层次人才。")
    dup = parse_plan(text)
    assert any(p.kind == "duplicate" and p.severity == "error" for p in dup.problems)
    assert dup.has_errors


def test_numbering_restarting_in_each_section_is_numbered_in_order():
    text = "\n".join(["一、任务", "(一)甲。(1)甲一。(2)甲二。", "(二)乙。(1)乙一。(2)乙二。(3)乙三。"])
    plan = parse_plan(text)
    assert [t.number for t in plan.tasks] == [1, 2, 3, 4, 5]
    assert [t.label for t in plan.tasks] == ["(1)", "(2)", "(1)", "(2)", "(3)"]


def test_comparators_from_the_wording():
    def target(text):
        return clause_target(text, year=2025)

    assert (target("研发投入强度达到3.4%以上").comparator, target("研发投入强度达到3.4%以上").value) == (
        "at_least",
        Decimal("3.4"),
    )
    ratio = target("城乡居民收入差距控制在1.75:1以内")
    assert (ratio.comparator, ratio.value, ratio.unit) == ("at_most", Decimal("1.75"), ":1")
    assert target("PM2.5浓度下降到35微克/立方米以下").comparator == "at_most"
    about = target("5G网络覆盖率达到90%左右")
    assert (about.comparator, about.tolerance) == ("about", Decimal("4.5"))
    assert target("高技术产业产值占规上工业总产值比重达到30%").comparator == "at_least"
    assert target("森林覆盖率保持在30%").comparator == "equal"
    assert target("细颗粒物平均浓度达到省考核要求").comparator == "qualitative"
    assert target("一体化发展体制机制全面建立") is None
    # Full-width digits and punctuation are understood.
    assert target("全市常住人口城镇化率达到８０％以上").value == Decimal("80")


def test_paragraph_year_applies_to_clauses_without_their_own():
    targets = paragraph_targets("到2030年，研发投入强度达到4%以上，城镇化率达到85%。", year=2025)
    assert [t.year for t in targets] == [2030, 2030]


def test_deadlines_and_numerals():
    assert find_deadline("力争2022年6月底前完成") == (date(2022, 6, 30), "力争2022年6月底前")
    assert find_deadline("编制《规划(2019—2035年)》") is None
    assert find_deadline("2019年建成数据库") == (date(2019, 12, 31), "2019年")
    assert find_deadline("与2018年相比") is None
    assert [cn_to_int(x) for x in ("一", "十", "十四", "二十八")] == [1, 10, 14, 28]


def test_text_without_structure_has_no_parts():
    plan = parse_plan("这是一份普通的通知。\n请各单位按时报送材料。")
    assert plan.parts == [] and plan.tasks == []
