"""Line breaking for Chinese text on a fixed grid: characters are set one pitch apart, runs of Latin
letters and digits stay together, closing punctuation never starts a line and opening punctuation
never ends one (避头尾), and every line but a paragraph's last is justified to the full measure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

NO_LINE_START = set("，。、；：？！）》」』”’〕】…—·%‰℃,.;:?!)]}>")
NO_LINE_END = set("（《「『“‘〔【([{<")

Width = Callable[[str, str], float]  # (text, role) → natural width at the paragraph's size


@dataclass
class Line:
    pieces: list[tuple[str, str]]  # (text, role), consecutive pieces of one role merged
    natural: float  # width with the paragraph's char spacing
    chars: int
    last: bool  # a paragraph's last line is not justified

    @property
    def text(self) -> str:
        return "".join(t for t, _ in self.pieces)


def _atoms(runs) -> list[list[tuple[str, str]]]:
    """Unbreakable atoms: one CJK character, or a run of Latin letters/digits, or a space."""
    atoms: list[list[tuple[str, str]]] = []
    for text, role in runs:
        for ch in text:
            word = ch.isascii() and (ch.isalnum() or ch in ".%+-/:'&_")
            prev = atoms[-1][-1] if atoms else None
            if (
                word
                and prev is not None
                and prev[1] == role
                and prev[0].isascii()
                and (prev[0].isalnum() or prev[0] in ".%+-/:'&_")
            ):
                atoms[-1].append((ch, role))
            else:
                atoms.append([(ch, role)])
    return atoms


def _groups(runs) -> list[list[tuple[str, str]]]:
    groups: list[list[tuple[str, str]]] = []
    glue_next = False
    for atom in _atoms(runs):
        first = atom[0][0]
        if groups and (glue_next or first in NO_LINE_START):
            groups[-1].extend(atom)
        else:
            groups.append(list(atom))
        glue_next = atom[-1][0] in NO_LINE_END
    return groups


def _merge(chars: list[tuple[str, str]]) -> list[tuple[str, str]]:
    pieces: list[tuple[str, str]] = []
    for ch, role in chars:
        if pieces and pieces[-1][1] == role:
            pieces[-1] = (pieces[-1][0] + ch, role)
        else:
            pieces.append((ch, role))
    return pieces


def break_lines(runs, *, width: Width, spacing: float, first: float, rest: float) -> list[Line]:
    """Break ``runs`` ((text, role) pairs) into lines ``first`` (first line) and ``rest`` wide.

    ``width(text, role)`` is the text's natural width; ``spacing`` is added after every character."""
    lines: list[Line] = []
    current: list[tuple[str, str]] = []
    used = 0.0

    def measure(chars) -> float:
        return sum(width(c, r) + spacing for c, r in chars)

    def flush(last: bool) -> None:
        nonlocal current, used
        while current and current[-1][0] == " ":
            current.pop()
        if current or last:
            lines.append(Line(_merge(current), measure(current) - spacing, len(current), last))
        current, used = [], 0.0

    for group in _groups(runs):
        avail = first if not lines else rest
        w = measure(group)
        if current and used + w - spacing > avail + 0.01:
            flush(last=False)
            avail = rest
        if not current and group[0][0] == " ":
            continue
        if not current and w - spacing > avail + 0.01:  # an over-long word: split it by characters
            for ch in group:
                cw = measure([ch])
                if current and used + cw - spacing > (first if not lines else rest) + 0.01:
                    flush(last=False)
                current.append(ch)
                used += cw
            continue
        current.extend(group)
        used += w
    flush(last=True)
    return lines
