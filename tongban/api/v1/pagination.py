from __future__ import annotations

from tongban.core.errors import InvalidInput

MAX_PAGE_SIZE = 100


def paginate(qs, *, page: int, page_size: int) -> tuple[list, bool]:
    """One page and whether another follows. No COUNT(*): on a queue of a million cases it would
    cost more than the page itself."""
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput("INVALID_PAGE", f"页码须≥1，每页条数须在 1 到 {MAX_PAGE_SIZE} 之间。")
    start = (page - 1) * page_size
    rows = list(qs[start : start + page_size + 1])
    return rows[:page_size], len(rows) > page_size
