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

from django.db import connection

from tongban.catalogue.models import ServiceItem

_ITEMS: dict[str, tuple[int, ServiceItem]] = {}
_MAX_ITEMS = 4096


def catalogue_generation() -> int | None:
    """The catalogue's current generation, or ``None`` when the table has no row (nothing is kept)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM catalogue_generation WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else None


def current_item(implementation_code: str, read) -> ServiceItem:
    """The item ``read(implementation_code)`` returns, with its materials, from this process's copy
    when the catalogue has not changed since it was read. Each caller gets its own shallow copy (the
    request threads of a process share the kept one)."""
    generation = catalogue_generation()
    kept = _ITEMS.get(implementation_code)
    if generation is not None and kept is not None and kept[0] == generation:
        return copy.copy(kept[1])
    from tongban.catalogue.selectors import item_materials

    item = read(implementation_code)
    item_materials(item)  # read now, so that the kept object carries them
    if generation is not None:
        if len(_ITEMS) >= _MAX_ITEMS:
            _ITEMS.clear()
        _ITEMS[implementation_code] = (generation, item)
        item = copy.copy(item)
    return item


def current_items_clear() -> None:
    _ITEMS.clear()
