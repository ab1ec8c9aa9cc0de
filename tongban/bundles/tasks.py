"""The bundles' background steps: for the embedded worker (registered in ``apps.py``) and Celery."""

from __future__ import annotations

from tongban.config.celery import app
from tongban.core.context import Origin, acting_from


def external_step() -> dict:
    from tongban.bundles.services import external_steps_run

    with acting_from(Origin(channel="task", address="bundles.external")):
        report = external_steps_run()
    return report.__dict__


def advance_step() -> int:
    from tongban.bundles.services import bundles_advance_due

    with acting_from(Origin(channel="task", address="bundles.advance")):
        return bundles_advance_due()


def sweep_step() -> int:
    from tongban.bundles.services import bundles_advance_due

    with acting_from(Origin(channel="task", address="bundles.sweep")):
        return bundles_advance_due(everything=True)


@app.task(name="tongban.bundles.run", soft_time_limit=120)
def run() -> dict:
    """Outside parties due now and bundles marked for another look."""
    return {"external": external_step(), "advanced": advance_step()}


@app.task(name="tongban.bundles.sweep", soft_time_limit=300)
def sweep() -> int:
    return sweep_step()
