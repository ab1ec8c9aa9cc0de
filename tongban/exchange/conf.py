"""Settings of the exchange that ``tongban/config/settings.py`` does not define (yet).

Each is read from Django's settings when it is defined there (tests override them with
``settings.X = …``), else from the environment variable named below, else the default. Every one is
described here, where it is read.
"""

from __future__ import annotations

import os

from django.conf import settings

_DEFAULTS: dict[str, tuple[str, int]] = {
    # TONGBAN_EXCHANGE_RELAY_THREADS: requests in flight at once, each to a different recipient. A
    # recipient that hangs holds one of them until the request times out, never the others.
    "EXCHANGE_RELAY_THREADS": ("TONGBAN_EXCHANGE_RELAY_THREADS", 8),
    # TONGBAN_EXCHANGE_CONNECT_TIMEOUT_SECONDS: how long to wait for a connection to a recipient
    # (the whole request is bounded by TONGBAN_EXCHANGE_TIMEOUT_SECONDS).
    "EXCHANGE_CONNECT_TIMEOUT_SECONDS": ("TONGBAN_EXCHANGE_CONNECT_TIMEOUT_SECONDS", 5),
    # --- Retention (docs/exchange.md, "Retention") ---
    # TONGBAN_EXCHANGE_KEEP_DAYS: delivered outbox messages and applied inbox messages are deleted
    # this many days after delivery / application (their payloads are the bulk of the tables).
    # 0 keeps them for ever.
    "EXCHANGE_KEEP_DAYS": ("TONGBAN_EXCHANGE_KEEP_DAYS", 30),
    # TONGBAN_EXCHANGE_KEEP_REFUSED_DAYS: refused envelopes (headers only) are kept this long; 0: for ever.
    "EXCHANGE_KEEP_REFUSED_DAYS": ("TONGBAN_EXCHANGE_KEEP_REFUSED_DAYS", 90),
    # TONGBAN_EXCHANGE_KEEP_LOG_DAYS: the message log (one row per message: id, nodes, type, case,
    # seq, times, state; no payload, no signature) is kept this long after the message is pruned,
    # so `tongban federation messages --case` still answers for a case of the last years. 0: for ever.
    "EXCHANGE_KEEP_LOG_DAYS": ("TONGBAN_EXCHANGE_KEEP_LOG_DAYS", 3 * 366),
    # TONGBAN_EXCHANGE_MAINTENANCE_SECONDS: how often the worker prunes and sweeps files.
    "EXCHANGE_MAINTENANCE_SECONDS": ("TONGBAN_EXCHANGE_MAINTENANCE_SECONDS", 3600),
    # TONGBAN_ORPHAN_FILE_GRACE_SECONDS: a stored file no row refers to is deleted by the sweeper
    # once it is this old (a transaction that wrote it may still be about to commit before that).
    "ORPHAN_FILE_GRACE_SECONDS": ("TONGBAN_ORPHAN_FILE_GRACE_SECONDS", 6 * 3600),
}


def setting(name: str) -> int:
    """The value of one of the settings above."""
    if hasattr(settings, name):
        return int(getattr(settings, name))
    variable, default = _DEFAULTS[name]
    text = os.environ.get(variable, "").strip()
    return int(text) if text else default
