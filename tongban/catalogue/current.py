"""Items that take applications, kept per process while the catalogue does not change.

Every application reads its item, the item's authority and region, and its materials: two queries
and sixteen model instances that are the same for thousands of applications. This process keeps
them by implementation code together with the catalogue's *generation* (migration 0005: a value
that triggers change on any write to items, materials or organisations). Each application still
asks the database for the generation, one single-row read, so a withdrawn item is refused, and a
changed material list applies, from the first application after the change commits: exactly as
fresh as reading the item itself.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection

from tongban.catalogue.models import ServiceItem

_ITEMS: dict[Hashable, tuple[int, ServiceItem | None]] = {}
_MAX_ITEMS = 4096
_pinned: ContextVar[int | None] = ContextVar("catalogue_generation_pinned", default=None)


def _generation_read() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM catalogue_generation WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else None


def catalogue_generation() -> int | None:
    """The catalogue's current generation, or ``None`` when the table has no row (nothing is kept)."""
    pinned = _pinned.get()
    return pinned if pinned is not None else _generation_read()


@contextmanager
def generation_pinned() -> Iterator[None]:
    """Inside the block the generation is read once: for one operation that looks at several items
    (a bundle submission reads every step's item), so it costs one read, as one item does. A change
    committed meanwhile applies from the next operation, as it would had the change come a moment
    later."""
    if _pinned.get() is not None:
        yield
        return
    token = _pinned.set(_generation_read())
    try:
        yield
    finally:
        _pinned.reset(token)


def current_item(key: Hashable, read: Callable[[Hashable], ServiceItem | None]) -> ServiceItem | None:
    """The item ``read(key)`` returns (for applications: by implementation code), with its
    materials, from this process's copy when the catalogue has not changed since it was read. Each
    caller gets its own shallow copy (the request threads of a process share the kept one). ``None``
    (no such published item) is kept too: publishing one changes the generation."""
    generation = catalogue_generation()
    kept = _ITEMS.get(key)
    if generation is not None and kept is not None and kept[0] == generation:
        return copy.copy(kept[1])
    from tongban.catalogue.selectors import item_materials

    item = read(key)
    if item is not None:
        item_materials(item)  # read now, so that the kept object carries them
    if generation is not None:
        if len(_ITEMS) >= _MAX_ITEMS:
            _ITEMS.clear()
        _ITEMS[key] = (generation, item)
        item = copy.copy(item)
    return item


def current_items_clear() -> None:
    _ITEMS.clear()
