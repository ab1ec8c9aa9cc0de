"""Targets of development goals: indicator, comparator, value, unit, year (ADR 0005).

The comparator comes from the wording around the figure:

- 以上, 及以上, 不低于, 不少于, 超过, 突破 → ``at_least``;
- 以内, 以下, 控制在, 不高于, 不超过, 低于 → ``at_most``;
- 左右 → ``about``, with a tolerance of :data:`ABOUT_TOLERANCE` of the value (90%左右 → ±4.5);
- a plain 达到 X / 提高到 X (a level to reach) → ``at_least``: reaching more is not a failure;
- 保持在 X, 稳定在 X, 为 X → ``equal`` (a level to hold).

A clause with no figure whose requirement is a 要求/目标/任务 (达到省考核要求, 完成省控目标) is a
qualitative target, kept as text.
"""

from __future__ import annotations

import re
from decimal import Decimal

from tongban.plans.constants import Comparator
from tongban.plans.parsing.model import Target
from tongban.plans.parsing.text import normalise

ABOUT_TOLERANCE = Decimal("0.05")  # 左右: ±5 % of the value

_VERBS_AT_LEAST = ("不低于", "不少于", "超过", "突破", "高于")
_VERBS_AT_MOST = ("控制在", "不高于", "不超过", "低于", "降低到", "降至", "下降到", "减少到")
_VERBS_EQUAL = ("保持在", "稳定在", "维持在")
_VERBS_REACH = ("达到", "提高到", "提升到", "提高至", "提升至", "增加到", "增长到", "达")
_VERBS_CHANGE = ("增长", "下降", "提高", "减少")  # by X (年均增长7%): at least that change
VERBS = sorted(
    _VERBS_AT_LEAST + _VERBS_AT_MOST + _VERBS_EQUAL + _VERBS_REACH + _VERBS_CHANGE, key=len, reverse=True
)
_SUFFIX_AT_LEAST = ("及以上", "以上")
_SUFFIX_AT_MOST = ("以内", "以下")

_VERB_RE = "|".join(map(re.escape, VERBS))
QUANT = re.compile(
    rf"^(?P<name>.+?)(?:要|将|力争|基本|稳定)?(?P<verb>{_VERB_RE})"
    r"(?P<value>\d+(?:\.\d+)?)(?P<ratio>:\d+(?:\.\d+)?)?"
    r"(?P<unit>[^\d,;。]*?)(?P<suffix>及以上|以上|以内|以下|左右)?$"
)
QUALITATIVE = re.compile(r"^(?P<name>.+?)(?P<verb>达到|完成|实现|符合)(?P<req>[^\d]*(?:要求|目标|任务))$")
YEAR = re.compile(r"(?:到|至|于)?(20\d\d)年")
_PREFIXES = ("全市", "我市", "全省", "全区", "全县", "全域")
_CLAUSE_SPLIT = re.compile(r"[,;。]")


def _indicator_name(name: str) -> str:
    name = YEAR.sub("", name).strip(" ,:")
    for prefix in _PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix) + 1:
            name = name[len(prefix) :]
    return name.strip()


def _comparator(verb: str, suffix: str) -> str:
    if suffix in _SUFFIX_AT_LEAST:
        return Comparator.AT_LEAST.value
    if suffix in _SUFFIX_AT_MOST:
        return Comparator.AT_MOST.value
    if suffix == "左右":
        return Comparator.ABOUT.value
    if verb in _VERBS_AT_MOST:
        return Comparator.AT_MOST.value
    if verb in _VERBS_EQUAL or verb == "为":
        return Comparator.EQUAL.value
    return Comparator.AT_LEAST.value  # 达到 X, 不低于 X, 增长 X


def clause_target(clause: str, *, year: int | None) -> Target | None:
    """The target stated by one clause (between commas), or ``None`` if it states none."""
    original = clause.strip()
    norm = normalise(original)
    own_year = YEAR.search(norm)
    if own_year:
        year = int(own_year.group(1))
    body = YEAR.sub("", norm, count=1).strip(" ,") if own_year and own_year.start() == 0 else norm
    match = QUANT.match(body)
    if match:
        name = _indicator_name(match["name"])
        if not name:
            return None
        value = Decimal(match["value"])
        unit = match["unit"].strip()
        if match["ratio"]:
            unit = match["ratio"] + unit  # 1.75:1 → value 1.75, unit ":1"
        comparator = _comparator(match["verb"], match["suffix"] or "")
        tolerance = None
        if comparator == Comparator.ABOUT:
            tolerance = (value * ABOUT_TOLERANCE).normalize()
        if match["verb"] in _VERBS_CHANGE:
            name = f"{name}{match['verb']}"
        return Target(
            indicator=name[:255],
            comparator=comparator,
            value=value,
            unit=unit[:32],
            year=year,
            tolerance=tolerance,
            source_text=original,
        )
    match = QUALITATIVE.match(body)
    if match:
        name = _indicator_name(match["name"])
        if name:
            return Target(
                indicator=name[:255],
                comparator=Comparator.QUALITATIVE.value,
                value=None,
                unit="",
                year=year,
                requirement=f"{match['verb']}{match['req']}",
                source_text=original,
            )
    return None


def paragraph_targets(paragraph: str, *, year: int | None = None) -> list[Target]:
    """Every target of a goals paragraph. A sentence's year (到2025年) applies to its clauses; a
    sentence without one keeps ``year`` (the year the goals section opened with)."""
    targets: list[Target] = []
    for sentence in re.split(r"(?<=[。;；])", paragraph):
        norm = normalise(sentence)
        found = YEAR.search(norm)
        sentence_year = int(found.group(1)) if found else year
        # Split on commas outside brackets only: 细颗粒物(PM2.5,…) stays one clause.
        for clause in _clauses(sentence):
            target = clause_target(clause, year=sentence_year)
            if target is not None:
                targets.append(target)
    return targets


def _clauses(sentence: str) -> list[str]:
    out, depth, start = [], 0, 0
    norm = normalise(sentence)
    for i, char in enumerate(norm):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char in ",;。" and depth == 0:
            out.append(sentence[start:i])
            start = i + 1
    out.append(sentence[start:])
    return [c.strip() for c in out if c.strip()]
