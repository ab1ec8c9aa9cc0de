"""The structure parser: plain text of a plan → :class:`ParsedPlan` (ADR 0005).

Lines are classified as part headings (一、), section headings ((一) or （一）), column headings
(专栏N) or body text. Numbered tasks are found inside the paragraphs by following the expected
sequence: a marker ``(n)`` (or ``n.``) starts a task only if ``n`` is the next number, or a small jump
after a sentence end (reported as a gap), or a repeat after a sentence end (reported as a duplicate).
A "(1)" inside a list of examples in the middle of a sentence is therefore just text. The style with
the most tasks wins; if no numbered tasks exist, the sections themselves are the tasks.

A part numbering that goes backwards (一、 after 十四、) ends the plan: what follows (an official
interpretation, an annex) is trailing text, reported in the preview and never counted.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from tongban.plans.parsing.deadlines import find_deadline
from tongban.plans.parsing.model import (
    DUPLICATE,
    ERROR,
    GAP,
    LEADING_TEXT,
    TRAILING_TEXT,
    WARNING,
    Goal,
    ParsedColumn,
    ParsedPart,
    ParsedPlan,
    ParsedSection,
    ParsedTask,
    Problem,
)
from tongban.plans.parsing.numerals import cn_to_int
from tongban.plans.parsing.quality import Block, garbled_problems, repeated_problems
from tongban.plans.parsing.targets import YEAR, paragraph_targets
from tongban.plans.parsing.text import SENTENCE_END, lines_of, normalise

_CN = "一二三四五六七八九十百零〇两"
PART_RE = re.compile(rf"^([{_CN}]{{1,4}})、\s*(.+)$")
SECTION_RE = re.compile(rf"^\(([{_CN}]{{1,4}})\)\s*(.*)$")
COLUMN_RE = re.compile(r"^专栏\s*(\d{1,3})\s*[:.、]?\s*(.*)$")
TASK_STYLES = {
    "paren": re.compile(r"\((\d{1,3})\)"),
    "dot": re.compile(r"(?<![\d.])(\d{1,3})\.(?!\d)"),
}
MAX_GAP = 3  # a jump of up to this many numbers after a sentence end is a gap, not text
MAX_TITLE = 40
GOAL_TITLE = re.compile(r"目标")
_ISSUER = re.compile(r"(?:委|政府|办公厅|办公室|委员会|人民政府)$")
_TITLE_END = ("方案", "计划", "意见", "纲要", "规划", "通知")
_PUBLISHED_TITLE = re.compile(r".*(?:发布|印发|公布|出台)了?《?([\u4e00-\u9fff]{6,60}?(?:方案|计划|意见))")
_QUOTED_TITLE = re.compile(r"《([^《》]{6,60}?(?:方案|计划|意见))》")


@dataclass
class _Para:
    text: str
    norm: str
    part: ParsedPart
    section: ParsedSection | None
    tasks: list[tuple[int, int, int, str]] = field(default_factory=list)  # (start, end, n, label)


def _part_number(norm: str) -> tuple[int, str] | None:
    m = PART_RE.match(norm)
    if not m:
        return None
    number = cn_to_int(m[1])
    title = m[2].split("。", 1)[0]
    if number is None or len(title) > MAX_TITLE:
        return None
    return number, title


def _plan_end(lines: list[str]) -> tuple[int, list[int]]:
    """Where the plan ends (a part numbering that goes backwards) and the part heading lines."""
    heads: list[int] = []
    last = 0
    for i, line in enumerate(lines):
        found = _part_number(normalise(line))
        if not found:
            continue
        number = found[0]
        if not heads and number <= MAX_GAP:
            heads.append(i)
            last = number
        elif heads and last < number <= last + 1 + MAX_GAP:
            heads.append(i)
            last = number
        elif heads and number <= last:
            end = i
            # The trailing document's own title lines (关于《…》的相关解读) go with it.
            while end - 1 > heads[-1] and _title_like(lines[end - 1]):
                end -= 1
            return end, heads
    return len(lines), heads


def _title_like(line: str) -> bool:
    norm = normalise(line)
    return (
        len(norm) <= 80
        and not any(c in norm for c in SENTENCE_END)
        and not SECTION_RE.match(norm)
        and not COLUMN_RE.match(norm)
        and not TASK_STYLES["paren"].search(norm)
    )


def _split_title(text: str, limit: int = 60) -> tuple[str, str]:
    """``"联合提升原始创新能力。(1)推动…"`` → (title, rest)."""
    norm = normalise(text)
    cut = len(norm)
    stop = norm.find("。")
    if 0 <= stop < cut:
        cut = stop
    marker = TASK_STYLES["paren"].search(norm)
    if marker and marker.start() < cut:
        cut = marker.start()
    if cut > limit:
        return "", text
    rest = text[cut + 1 :] if cut < len(norm) and norm[cut] == "。" else text[cut:]
    return text[:cut].strip(), rest.strip()


def _boundary(norm: str, start: int) -> bool:
    before = norm[:start].rstrip()
    return not before or before[-1] in SENTENCE_END + ":"


def _problem(kind: str, severity: str, location: str, message: str, excerpt: str = "") -> Problem:
    return Problem(kind=kind, severity=severity, location=location, message=message, excerpt=excerpt)


def _find_tasks(
    paras: list[_Para], style: str
) -> tuple[list[list[tuple[int, int, int, str]]], list[Problem], bool]:
    """Markers accepted as tasks in each paragraph, the numbering problems, and whether the
    numbering restarts (per section or part)."""
    pattern = TASK_STYLES[style]
    found: list[list[tuple[int, int, int, str]]] = [[] for _ in paras]
    problems: list[Problem] = []
    expected, seen, restarted = 1, set(), False
    last_owner = None
    for pi, para in enumerate(paras):
        owner = (para.part.number, para.section.number if para.section else None)
        first_in_owner = owner != last_owner and not any(
            found[k] for k in range(pi) if _owner(paras[k]) == owner
        )
        for m in pattern.finditer(para.norm):
            n = int(m.group(1))
            label = para.text[m.start() : m.end()]
            at_boundary = _boundary(para.norm, m.start())
            where = f"任务{label}"
            if n == expected:
                pass
            elif at_boundary and n == 1 and expected > 1 and first_in_owner:
                restarted = True
                seen = set()
            elif at_boundary and expected < n <= expected + MAX_GAP:
                missing = "、".join(str(k) for k in range(expected, n))
                problems.append(
                    _problem(GAP, WARNING, where, f"任务编号不连续：{label}之前缺少第 {missing} 项。")
                )
            elif at_boundary and n in seen and n == expected - 1:
                problems.append(
                    _problem(
                        DUPLICATE,
                        ERROR,
                        where,
                        f"任务编号{label}重复出现，无法按编号更新任务。请修正文件后重新导入。",
                        para.text[m.start() : m.start() + 30],
                    )
                )
            else:
                continue
            found[pi].append((m.start(), m.end(), n, label))
            seen.add(n)
            expected = n + 1
            first_in_owner = False
        last_owner = owner
    return found, problems, restarted


def _owner(para: _Para) -> tuple[int, int | None]:
    return (para.part.number, para.section.number if para.section else None)


def parse_plan(text: str, *, source_name: str = "") -> ParsedPlan:
    lines = lines_of(text)
    end, part_heads = _plan_end(lines)
    plan = ParsedPlan()
    if end < len(lines):
        plan.trailing_text = "\n".join(lines[end:])
        plan.problems.append(
            _problem(
                TRAILING_TEXT,
                WARNING,
                "方案正文之后",
                f"方案正文之后还有 {len(lines) - end} 行其他内容（以“{lines[end][:30]}”开头），"
                "编号重新开始，不属于方案，未计入。",
                lines[end][:60],
            )
        )
    head_set = set(part_heads)
    leading: list[str] = []
    paras: list[_Para] = []
    part: ParsedPart | None = None
    section: ParsedSection | None = None
    column: ParsedColumn | None = None
    position = 0
    last_column = 0
    for i, line in enumerate(lines[:end]):
        norm = normalise(line)
        if i in head_set:
            position += 1  # positions count headings only: an amended paragraph shifts nothing
            number, title = _part_number(norm)  # type: ignore[misc]
            if plan.parts and number != plan.parts[-1].number + 1:
                plan.problems.append(
                    _problem(GAP, WARNING, f"第{number}部分", f"部分编号不连续：“{line[:12]}”之前有缺号。")
                )
            part = ParsedPart(
                number=number, label=line[: line.index("、") + 1], title=title, position=position
            )
            plan.parts.append(part)
            section, column = None, None
            rest = line[line.index("、") + 1 :].strip()[len(title) :].lstrip("。").strip()
            if rest:
                paras.append(_Para(rest, normalise(rest), part, None))
            continue
        if part is None:
            leading.append(line)
            continue
        m = SECTION_RE.match(norm)
        if m and cn_to_int(m[1]) is not None:
            number = cn_to_int(m[1])
            position += 1
            previous = part.sections[-1].number if part.sections else 0
            label = line[: m.end(1) + 1]
            if part.sections and number <= previous:
                plan.problems.append(
                    _problem(
                        DUPLICATE,
                        WARNING,
                        f"{part.label}{label}",
                        f"{part.label}中的条目编号{label}重复或倒序。",
                    )
                )
            elif part.sections and number > previous + 1:
                plan.problems.append(
                    _problem(
                        GAP,
                        WARNING,
                        f"{part.label}{label}",
                        f"{part.label}中的条目编号不连续：{label}之前有缺号。",
                    )
                )
            title, rest = _split_title(line[m.end(1) + 1 :])
            section = ParsedSection(
                part_number=part.number,
                number=number,
                label=label,
                title=title or rest[:20],
                position=position,
            )
            part.sections.append(section)
            column = None
            if rest:
                paras.append(_Para(rest, normalise(rest), part, section))
            continue
        m = COLUMN_RE.match(norm)
        if m:
            number = int(m[1])
            position += 1
            if last_column and number != last_column + 1:
                kind = DUPLICATE if number <= last_column else GAP
                plan.problems.append(
                    _problem(
                        kind,
                        WARNING,
                        f"专栏{number}",
                        f"专栏编号不连续或重复：专栏{last_column}之后是专栏{number}。",
                    )
                )
            last_column = number
            column = ParsedColumn(
                number=number,
                title=line[m.start(2) :].strip(),
                body="",
                part_number=part.number,
                section_number=section.number if section else None,
                position=position,
            )
            plan.columns.append(column)
            continue
        if column is not None:
            if not column.title and len(line) <= MAX_TITLE and "。" not in line:
                column.title = line
            else:
                column.body = f"{column.body}\n{line}" if column.body else line
            continue
        paras.append(_Para(line, norm, part, section))
    plan.leading_text = "\n".join(leading)
    if plan.leading_text:
        plan.problems.append(
            _problem(
                LEADING_TEXT,
                WARNING,
                "方案正文之前",
                f"第一部分之前有 {len(leading)} 行文字（来源、印发机关或前言），未计入任务。",
                leading[0][:60],
            )
        )
    _tasks(plan, paras)
    _goals(plan, paras)
    _meta(plan, leading, source_name)
    blocks = [Block(_task_location(t), t.text) for t in plan.tasks] if plan.task_style != "section" else []
    blocks += [Block(f"专栏{c.number}", c.body) for c in plan.columns]
    blocks += [Block(f"{_part_label(plan, s.part_number)}{s.label}", s.body) for s in plan.sections if s.body]
    garbled = garbled_problems(blocks)
    plan.problems += garbled + repeated_problems(blocks, suspects={p.location for p in garbled})
    return plan


def _part_label(plan: ParsedPlan, number: int) -> str:
    return next((p.label for p in plan.parts if p.number == number), "")


def _task_location(task: ParsedTask) -> str:
    return f"任务{task.label}"


def _append(text: str, more: str) -> str:
    return f"{text}\n{more}" if text else more


def _tasks(plan: ParsedPlan, paras: list[_Para]) -> None:
    best: tuple[int, str, list, list, bool] | None = None
    for style in TASK_STYLES:
        found, problems, restarted = _find_tasks(paras, style)
        count = sum(len(f) for f in found)
        if count and (best is None or count > best[0]):
            best = (count, style, found, problems, restarted)
    position = 0
    if best is not None:
        _, style, found, problems, restarted = best
        plan.task_style = style
        plan.problems += problems
        ordinal = 0
        for para, markers in zip(paras, found, strict=True):
            owner = para.section or para.part
            if not markers:
                owner.body = _append(owner.body, para.text)
                continue
            intro = para.text[: markers[0][0]].strip()
            if intro:
                owner.body = _append(owner.body, intro)
            for k, (_start, stop, n, label) in enumerate(markers):
                ordinal += 1
                position += 1
                text = para.text[stop : markers[k + 1][0] if k + 1 < len(markers) else len(para.text)].strip()
                plan.tasks.append(
                    ParsedTask(
                        number=ordinal if restarted else n,
                        label=label,
                        text=text,
                        part_number=para.part.number,
                        section_number=para.section.number if para.section else None,
                        position=position,
                    )
                )
    else:
        for para in paras:
            owner = para.section or para.part
            owner.body = _append(owner.body, para.text)
        sections = plan.sections
        numbers = [s.number for s in sections]
        unique = len(set(numbers)) == len(numbers)
        if sections:
            plan.task_style = "section"
        for k, s in enumerate(sections, start=1):
            plan.tasks.append(
                ParsedTask(
                    number=s.number if unique else k,
                    label=s.label,
                    text=f"{s.title}。{s.body}".strip("。") if s.body else s.title,
                    part_number=s.part_number,
                    section_number=s.number,
                    position=k,
                )
            )
    for task in plan.tasks:
        found_deadline = find_deadline(task.text)
        if found_deadline:
            task.deadline, task.deadline_text = found_deadline


def _goals(plan: ParsedPlan, paras: list[_Para]) -> None:
    for para in paras:
        holder = para.section or para.part
        if not GOAL_TITLE.search(holder.title) or para.tasks:
            continue
        first = next(p for p in paras if (p.section or p.part) is holder)
        opened = YEAR.search(first.norm)
        year = int(opened.group(1)) if opened else None
        head = para.text.split("。", 1)[0]
        plan.goals.append(
            Goal(
                title=head if len(head) <= 30 and len(head) < len(para.text) else "",
                text=para.text,
                part_number=para.part.number,
                section_number=para.section.number if para.section else None,
                targets=paragraph_targets(para.text, year=year),
            )
        )


def _meta(plan: ParsedPlan, leading: list[str], source_name: str) -> None:
    title = ""
    for line in leading:
        if len(line) <= 60 and line.endswith(_TITLE_END) and not any(c in line for c in ",，。:："):
            title = line
            break
    if not title:
        for line in leading:
            m = _PUBLISHED_TITLE.match(normalise(line))
            if m:
                title = line[m.start(1) : m.end(1)]
                break
    if not title and plan.trailing_text:
        m = _QUOTED_TITLE.search(plan.trailing_text)
        if m:
            title = m.group(1)
    if not title and source_name:
        title = source_name.rsplit(".", 1)[0]
    plan.title = title
    for line in leading:
        if len(line) <= 40 and all(_ISSUER.search(w) for w in line.split()):
            plan.issuer = line
            break
    years = Counter(t.year for t in plan.quantitative_targets if t.year)
    deadline_years = [t.deadline.year for t in plan.tasks if t.deadline]
    if years:
        plan.end_year = years.most_common(1)[0][0]
    elif deadline_years:
        plan.end_year = max(deadline_years)
    if deadline_years:
        plan.start_year = min(deadline_years)
    elif plan.end_year:
        plan.start_year = plan.end_year
