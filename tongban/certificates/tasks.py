"""The certificates' periodic step, for nodes that run Celery (the embedded worker calls the same
function every ``TONGBAN_CERT_STATUS_SYNC_SECONDS``; see ``tongban/exchange/worker.py``)."""

from __future__ import annotations

import logging

from tongban.config.celery import app
from tongban.core.context import Origin, acting_from

logger = logging.getLogger(__name__)


def status_list_sync_step() -> dict:
    """Re-signs this node's status list when due and sends it to the others when it changed. A node
    without a key or trust list yet has nothing to send: that is logged, not raised."""
    from tongban.certificates.services import status_list_broadcast
    from tongban.core.errors import TongbanError
    from tongban.exchange.envelope import TrustListError

    with acting_from(Origin(channel="task", address="status_list_sync")):
        try:
            result = status_list_broadcast()
        except (TongbanError, TrustListError) as exc:
            logger.warning("certificates: status list not sent: %s", exc)
            return {"ok": False, "error": str(exc)}
    if result.sent_to:
        logger.info("certificates: status list sent to %d nodes", len(result.sent_to))
    return {"ok": True, "published": result.published, "sent_to": len(result.sent_to)}


@app.task(name="tongban.certificates.sync_status_list", soft_time_limit=120)
def sync_status_list() -> dict:
    return status_list_sync_step()
