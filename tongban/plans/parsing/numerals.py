"""Chinese numerals of headings: 一 … 九十九 (and 一百 … for long plans)."""

from __future__ import annotations

DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
CHARS = "零〇一二两三四五六七八九十百"


def cn_to_int(text: str) -> int | None:
    """``"二十八"`` → 28; ``None`` if ``text`` is not a Chinese numeral."""
    if not text or any(c not in CHARS for c in text):
        return None
    total, current = 0, 0
    for char in text:
        if char == "百":
            total += (current or 1) * 100
            current = 0
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = current * 10 + DIGITS[char] if current else DIGITS[char]
    return total + current
