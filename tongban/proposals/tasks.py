"""Proposal handling's background work: for the embedded worker (registered in ``apps.py``) and
Celery. Each step takes no arguments, calls a service and is safe to re-run."""

from __future__ import annotations

from tongban.config.celery import app
from tongban.core.context import Origin, acting_from


def deadlines_step() -> dict:
    """Transfer windows that passed (视为签收), provisional deadlines now known, reminders before
    deadlines and overdue marks after them."""
    from tongban.proposals import services

    with acting_from(Origin(channel="task", address="proposals.deadlines")):
        deemed = services.assignments_deem_accepted()
        confirmed = services.deadlines_refresh()
        report = services.reminders_send()
    return {"deemed_accepted": deemed, "deadlines_confirmed": confirmed, **report}


def search_compact_step() -> int:
    from tongban.proposals import similar

    with acting_from(Origin(channel="task", address="proposals.search")):
        return similar.compact()


@app.task(name="tongban.proposals.deadlines", soft_time_limit=300)
def deadlines() -> dict:
    return deadlines_step()


@app.task(name="tongban.proposals.search_compact", soft_time_limit=300)
def search_compact() -> int:
    return search_compact_step()
