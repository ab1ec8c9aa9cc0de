"""Periodic housekeeping of the exchange: the retention policy (``retention.prune``) and the sweep
of files left by crashes (``files.sweep``). Run by the worker every
``TONGBAN_EXCHANGE_MAINTENANCE_SECONDS``, by the Celery task ``tongban.exchange.maintain``, and
step by step by ``tongban federation prune`` / ``tongban federation sweep-files``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tongban.exchange.files import SweepReport, sweep
from tongban.exchange.retention import PruneReport, prune


@dataclass
class MaintenanceReport:
    pruned: PruneReport = field(default_factory=PruneReport)
    swept: SweepReport = field(default_factory=SweepReport)

    @property
    def did_work(self) -> bool:
        return self.pruned.did_work or self.swept.did_work

    def summary(self) -> str:
        return f"{self.pruned}; {self.swept}"


def run_maintenance() -> MaintenanceReport:
    return MaintenanceReport(pruned=prune(), swept=sweep())
