"""Who is acting and from where, for the audit log.

The request middleware, the CLI and background tasks set it; services read it when they write an
audit entry, so no view has to thread the client address through every call.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    channel: str  # "web", "api", "cli", "task", "test"
    address: str = ""  # client IP for web/api; host or task name otherwise


_SYSTEM = Origin(channel="system")
_origin: ContextVar[Origin | None] = ContextVar("tongban_origin", default=None)


def current_origin() -> Origin:
    return _origin.get() or _SYSTEM


@contextlib.contextmanager
def acting_from(origin: Origin):
    token = _origin.set(origin)
    try:
        yield origin
    finally:
        _origin.reset(token)
