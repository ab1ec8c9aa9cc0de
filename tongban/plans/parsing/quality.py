"""Passages that look broken: the preview reports them instead of silently keeping or merging them.

- unbalanced brackets or quotes inside one paragraph (``(业创新中心。(池温泉…``);
- an enumeration broken off (``、等``, ``、、``);
- a word printed twice in a row (``将军岭将军岭``);
- a passage of another paragraph pasted in, cut in the middle of a word: it appears elsewhere
  preceded by a character of the same word, here preceded by punctuation. A column that repeats a
  task's wording (专栏8 and tasks 55–58) starts and ends at clause boundaries and is not reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tongban.plans.parsing.model import GARBLED, REPEATED, WARNING, Problem
from tongban.plans.parsing.text import is_cjk, normalise

K = 8  # characters a shared passage starts with
MIN_REPEAT = 12  # in a paragraph already looking garbled
MIN_STANDALONE = 40  # anywhere else
MAX_PLACES = 12  # a passage starting with a phrase found more often than this is not checked
_IMMEDIATE_REPEAT = re.compile(r"([\u4e00-\u9fff]{3,})\1")
_BROKEN_LIST = re.compile(r"、[、,。等]|[,;]、")
_OPENERS = "(“《"


@dataclass
class Block:
    location: str  # "专栏6", "任务(49)", "第三部分（四）"
    text: str


def _excerpt(text: str, start: int, end: int, pad: int = 6) -> str:
    left = "…" if start - pad > 0 else ""
    right = "…" if end + pad < len(text) else ""
    return f"{left}{text[max(0, start - pad) : end + pad]}{right}"


def _bracket_issue(norm: str) -> int | None:
    """Offset of the first unmatched bracket or quote, or ``None``."""
    for opener, closer in (("(", ")"), ("“", "”"), ("《", "》")):
        depth, first_open = 0, None
        for i, char in enumerate(norm):
            if char == opener:
                if depth == 0:
                    first_open = i
                depth += 1
            elif char == closer:
                if depth == 0:
                    return i
                depth -= 1
        if depth:
            return first_open
    return None


def garbled_problems(blocks: list[Block]) -> list[Problem]:
    problems = []
    for block in blocks:
        norm = normalise(block.text)
        reasons, where = [], None
        at = _bracket_issue(norm)
        if at is not None:
            reasons.append("括号或引号不成对")
            where = at
        m = _BROKEN_LIST.search(norm)
        if m:
            reasons.append(f"列举中断（“{block.text[m.start() : m.end()]}”）")
            where = m.start() if where is None else where
        m = _IMMEDIATE_REPEAT.search(norm)
        if m:
            reasons.append(f"词语重复（“{m.group(0)}”）")
            where = m.start() if where is None else where
        if reasons:
            problems.append(
                Problem(
                    kind=GARBLED,
                    severity=WARNING,
                    location=block.location,
                    message=f"{block.location}疑似文字错乱：{'；'.join(reasons)}。请核对原文。",
                    excerpt=_excerpt(block.text, where or 0, (where or 0) + 12),
                )
            )
    return problems


def repeated_problems(blocks: list[Block], *, suspects: set[str] = frozenset()) -> list[Problem]:
    """Passages that also appear elsewhere, where this copy starts after punctuation but the other
    copy continues a word there (a fragment pasted by mistake).

    In a block already suspected of being garbled (``suspects``: locations), a fragment of
    :data:`MIN_REPEAT` characters is enough. Elsewhere the fragment must be :data:`MIN_STANDALONE`
    characters long and cut in the middle of a word at both ends: columns legitimately repeat the
    wording of tasks, and short noun phrases recur in any plan.
    """
    norms = [normalise(b.text) for b in blocks]
    index: dict[str, list[tuple[int, int]]] = {}
    for bi, norm in enumerate(norms):
        for i in range(1, len(norm) - K + 1):
            if is_cjk(norm[i - 1]):
                index.setdefault(norm[i : i + K], []).append((bi, i))
    problems: list[Problem] = []
    for bi, norm in enumerate(norms):
        suspect = blocks[bi].location in suspects
        hit = None
        for i in range(0, len(norm) - K + 1):
            if (i and (is_cjk(norm[i - 1]) or norm[i - 1].isalnum())) or not is_cjk(norm[i]):
                continue
            places = index.get(norm[i : i + K], ())
            if len(places) > MAX_PLACES:
                continue  # a stock phrase (长三角一体化发展…), not a pasted fragment
            for bj, j in places:
                other = norms[bj]
                length = K
                while (
                    i + length < len(norm)
                    and j + length < len(other)
                    and norm[i + length] == other[j + length]
                ):
                    length += 1
                if bj == bi and abs(j - i) < length:
                    continue
                end_cut = (
                    i + length < len(norm)
                    and j + length < len(other)
                    and is_cjk(norm[i + length - 1])
                    and is_cjk(norm[i + length])
                    and is_cjk(other[j + length])
                )
                if (suspect and length >= MIN_REPEAT) or (length >= MIN_STANDALONE and end_cut):
                    hit = (i, bj, length)
                    break
            if hit:
                break
        if hit:
            i, bj, length = hit
            text = blocks[bi].text
            problems.append(
                Problem(
                    kind=REPEATED,
                    severity=WARNING,
                    location=blocks[bi].location,
                    message=(
                        f"{blocks[bi].location}含有与{blocks[bj].location}重复的片段（{length} 字），"
                        "且从词语中间截断，疑似误粘贴。请核对原文。"
                    ),
                    excerpt=_excerpt(text, i, i + min(length, 24), pad=4),
                )
            )
    return problems
