"""Celery tasks of the exchange, for nodes with a broker. They take no arguments, call the same
functions as the embedded worker (``worker.py``) and are safe to run twice or concurrently: the relay
claims messages (``SKIP LOCKED`` on PostgreSQL) and the inbox applies each message once.

A poke after a commit queues ``relay_outbox`` / ``apply_inbox`` at once; the beat schedule
(``tongban/config/celery.py``) runs them every few seconds for retries and lost pokes.
"""

from __future__ import annotations

import logging

from tongban.config.celery import app
from tongban.core.context import Origin, acting_from

logger = logging.getLogger(__name__)

# Rounds of one run before it hands over to the next (queued by itself when work remains).
MAX_ROUNDS = 50


@app.task(name="tongban.exchange.relay_outbox", soft_time_limit=600)
def relay_outbox() -> dict:
    """Delivers due outbox messages until nothing more is due."""
    from tongban.exchange.relay import deliver_due

    totals = {"delivered": 0, "retrying": 0, "parked": 0}
    with acting_from(Origin(channel="task", address="relay_outbox")):
        for _ in range(MAX_ROUNDS):
            report = deliver_due()
            if report.error_code:
                logger.warning("relay cannot send: %s", report.error)
            totals["delivered"] += report.delivered
            totals["retrying"] += report.retrying
            totals["parked"] += report.parked
            if not report.delivered:
                break
        else:
            relay_outbox.apply_async(retry=False)
    return totals


@app.task(name="tongban.exchange.apply_inbox", soft_time_limit=600)
def apply_inbox() -> int:
    """Applies due inbox messages until nothing more is due."""
    from tongban.exchange.inbox import apply_pending

    with acting_from(Origin(channel="task", address="apply_inbox")):
        return apply_pending()


@app.task(name="tongban.exchange.refresh_trust_list", soft_time_limit=120)
def refresh_trust_list() -> dict:
    """Fetches the trust list from TONGBAN_TRUST_LIST_URL and installs it if newer."""
    from django.conf import settings

    from tongban.exchange.trust import trust_list_refresh

    if not settings.TRUST_LIST_URL:
        return {"ok": False, "error_code": "TRUST_LIST_URL_MISSING"}
    with acting_from(Origin(channel="task", address="refresh_trust_list")):
        result = trust_list_refresh()
    if not result.ok:
        logger.warning("trust list refresh failed, keeping version %s: %s", result.version, result.error)
    return {
        "ok": result.ok,
        "installed": result.installed,
        "version": result.version,
        "error_code": result.error_code,
    }


@app.task(name="tongban.exchange.maintain", soft_time_limit=1800)
def maintain() -> dict:
    """The retention policy and the sweep of files left by crashes (``maintenance.py``). Safe to
    run concurrently or twice: both only remove what is past its time."""
    from tongban.exchange.maintenance import run_maintenance

    with acting_from(Origin(channel="task", address="maintain")):
        report = run_maintenance()
    return {
        "pruned": vars(report.pruned),
        "swept": {**vars(report.swept), "errors": report.swept.errors[:20]},
    }
