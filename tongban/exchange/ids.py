"""Message ids: UUIDv7 (RFC 9562 §5.7), unique and ordered by creation time.

Layout: 48 bits Unix time in milliseconds, 4 bits version (7), 12 bits ``rand_a``, 2 bits variant
(``10``), 62 bits ``rand_b``. Within one process ids are strictly increasing (RFC 9562 §6.2, method 2,
"monotonic random"): the 74 random bits of an id made in the same millisecond as the previous one (or
after the clock stepped back) are the previous ones plus a random increment, so ids sort in the
order they were made and stay unguessable. A child process after ``fork`` starts afresh.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
import uuid
from datetime import UTC, datetime

_RAND_BITS = 74
_RAND_MAX = (1 << _RAND_BITS) - 1
_TS_MAX = (1 << 48) - 1

_lock = threading.Lock()
_last_ms = -1
_last_rand = 0


def _reset_after_fork() -> None:
    global _lock, _last_ms, _last_rand
    _lock = threading.Lock()
    _last_ms, _last_rand = -1, 0


os.register_at_fork(after_in_child=_reset_after_fork)


def _next() -> tuple[int, int]:
    global _last_ms, _last_rand
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms > _last_ms:
            # A fresh millisecond: random bits, with the top one clear so the counter has room to grow.
            ms, rand = now_ms, secrets.randbits(_RAND_BITS - 1)
        else:
            ms, rand = _last_ms, _last_rand + 1 + secrets.randbits(32)
            if rand > _RAND_MAX:  # counter exhausted within this millisecond: borrow the next one
                ms, rand = _last_ms + 1, secrets.randbits(_RAND_BITS - 1)
        _last_ms, _last_rand = ms, rand
        return ms & _TS_MAX, rand


def uuid7() -> str:
    """A new UUIDv7 in its canonical text form (lowercase, hyphenated), e.g.
    ``0193a1c2-7f3e-7b6a-9c1d-2e4f5a6b7c8d``."""
    ms, rand = _next()
    rand_a = rand >> 62  # 12 bits
    rand_b = rand & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))


def uuid7_time(value: str) -> datetime:
    """The creation time (millisecond precision, UTC) carried in a UUIDv7."""
    parsed = uuid.UUID(value)
    if parsed.version != 7:
        raise ValueError(f"{value} is not a UUIDv7")
    return datetime.fromtimestamp((parsed.int >> 80) / 1000, tz=UTC)
