"""Normalisation that keeps offsets: every full-width variant maps to one half-width character, so a
match found in the normalised text slices the original text at the same place."""

from __future__ import annotations

import re

_FULL = "（）．：，；０１２３４５６７８９％　∶"
_HALF = "().:,;0123456789% :"
_TABLE = str.maketrans(_FULL, _HALF)

SENTENCE_END = "。；;！!？?"
CJK_LOW, CJK_HIGH = "\u4e00", "\u9fff"


_NEEDS = re.compile(f"[{re.escape(_FULL)}]")


def normalise(text: str) -> str:
    return text.translate(_TABLE) if _NEEDS.search(text) else text


def is_cjk(char: str) -> bool:
    return CJK_LOW <= char <= CJK_HIGH


def lines_of(text: str) -> list[str]:
    """Non-empty lines, stripped of surrounding spaces (including full-width ones)."""
    out = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip(" \t\u3000\ufeff")
        if line:
            out.append(line)
    return out
