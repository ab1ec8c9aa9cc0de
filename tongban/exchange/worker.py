"""The embedded worker: ``tongban worker [--once] [--interval-ms N]``.

A node without a message broker runs this process next to its web server. Each cycle it refreshes the
trust list when due (every :data:`TRUST_REFRESH_SECONDS`, when ``TONGBAN_TRUST_LIST_URL`` is set),
then delivers due outbox messages and applies due inbox messages until nothing more is due, then
sleeps until poked or ``TONGBAN_WORKER_INTERVAL_MS`` has passed (retries after a backoff are found
by that periodic look). SIGTERM / SIGINT stop it after the current batch; a second one stops it at once.

Poking (:func:`poke`) is how a committed change gets delivered within milliseconds instead of at the
next look: every waiting worker of this node listens on its own Unix datagram socket in
``<TONGBAN_VAR_DIR>/run/exchange-worker/``; ``poke`` sends one byte to each (web processes call it
after a commit that queued or received a message) and sets an in-process event for a worker thread
in the same process. Where sockets are not available the worker just looks every interval.

With a broker (``CELERY_BROKER_URL``) the same functions run as Celery tasks instead
(``tongban.exchange.tasks``); this loop is then not needed, though running it does no harm.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import logging
import os
import select
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

TRUST_REFRESH_SECONDS = 300
# A cycle stops after this many rounds even if work keeps appearing, so signals and the trust list
# refresh are looked at regularly.
MAX_ROUNDS_PER_CYCLE = 50
ERROR_PAUSE_SECONDS = 5.0

_local_wake = threading.Event()
_waker_numbers = itertools.count(1)


# --- Poking ---------------------------------------------------------------------------------------


def wake_dir() -> Path:
    from django.conf import settings

    return Path(settings.VAR_DIR) / "run" / "exchange-worker"


def poke() -> None:
    """Wakes this node's waiting workers (this process's and other processes'). Never raises or blocks."""
    _local_wake.set()
    try:
        entries = list(os.scandir(wake_dir()))
    except OSError:
        return
    if not entries or not hasattr(socket, "AF_UNIX"):
        return
    try:
        sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    except OSError:
        return
    with sender:
        sender.setblocking(False)
        for entry in entries:
            if not entry.name.endswith(".sock"):
                continue
            try:
                sender.sendto(b"!", entry.path)
            except BlockingIOError:
                pass  # its queue is full: it has been poked already
            except (ConnectionRefusedError, FileNotFoundError):
                with contextlib.suppress(OSError):  # left behind by a worker that died
                    os.unlink(entry.path)
            except OSError:
                pass


class Waker:
    """What a worker waits on: its socket (pokes from any process) or the in-process event."""

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._path: Path | None = None
        if not hasattr(socket, "AF_UNIX"):
            return
        directory = wake_dir()
        path = directory / f"{os.getpid()}-{next(_waker_numbers)}.sock"
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.bind(str(path))
            sock.setblocking(False)
        except OSError as exc:  # e.g. a path longer than sockaddr_un allows
            logger.info("worker wake-up socket unavailable (%s); looking for work every interval", exc)
            return
        self._sock, self._path = sock, path

    def wait(self, timeout: float) -> bool:
        """Waits up to ``timeout`` seconds for a poke; True if poked. Clears what it consumed, so a
        poke arriving after this returns wakes the next wait."""
        if self._sock is None:
            poked = _local_wake.wait(timeout)
            _local_wake.clear()
            return poked
        if _local_wake.is_set():
            _local_wake.clear()
            self._drain()
            return True
        try:
            ready, _, _ = select.select([self._sock], [], [], timeout)
        except (OSError, ValueError):
            ready = []
        _local_wake.clear()
        self._drain()
        return bool(ready)

    def _drain(self) -> None:
        if self._sock is None:
            return
        while True:
            try:
                self._sock.recv(64)
            except OSError:
                return

    def wake(self) -> None:
        """Ends the current wait of this worker (used to stop it)."""
        _local_wake.set()
        if self._sock is not None and self._path is not None:
            with contextlib.suppress(OSError):
                self._sock.sendto(b"!", str(self._path))

    @property
    def listening(self) -> bool:
        """Whether pokes from other processes reach this waker (else only in-process ones)."""
        return self._sock is not None

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._path is not None:
            with contextlib.suppress(OSError):
                self._path.unlink()
            self._path = None


# --- The loop -------------------------------------------------------------------------------------


@dataclass
class CycleReport:
    delivered: int = 0
    parked: int = 0
    retrying: int = 0
    applied: int = 0
    rounds: int = 0
    trust_refreshed: bool = False
    relay_error: str = ""

    @property
    def did_work(self) -> bool:
        return bool(self.delivered or self.applied or self.parked or self.retrying)


@dataclass(frozen=True)
class PeriodicJob:
    """Other apps' background steps the worker runs between deliveries: ``fn()`` every ``every()``
    seconds (read each time, so a setting can say how often). A job that fails is logged and tried
    again at its next turn; it never stops the worker."""

    name: str
    every: Callable[[], float]
    fn: Callable[[], object]


_PERIODIC: dict[str, PeriodicJob] = {}


def register_periodic(name: str, every: Callable[[], float], fn: Callable[[], object]) -> None:
    """Registers (or replaces) a periodic job; apps call it from ``AppConfig.ready()``."""
    _PERIODIC[name] = PeriodicJob(name, every, fn)


class Worker:
    def __init__(
        self, *, interval_ms: int | None = None, trust_refresh_seconds: float = TRUST_REFRESH_SECONDS
    ):
        from django.conf import settings

        self.interval = (interval_ms if interval_ms is not None else settings.WORKER_INTERVAL_MS) / 1000
        self.trust_refresh_seconds = trust_refresh_seconds
        self._next_trust_refresh = 0.0
        # The first maintenance runs a little after start, not in the middle of a restart's backlog.
        self._next_maintenance = time.monotonic() + 60.0
        self._stopping = threading.Event()
        self._waker: Waker | None = None
        self._relay = None  # a relay.Relay while run_forever runs
        self._next_periodic: dict[str, float] = {}

    # Stopping ----------------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        """Asks the loop to stop after the batch it is working on."""
        self._stopping.set()
        if self._waker is not None:
            self._waker.wake()

    def _on_signal(self, signum, frame) -> None:
        logger.info("worker: %s received, stopping after the current batch", signal.Signals(signum).name)
        self.stop()
        # A second signal stops at once.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    # Work --------------------------------------------------------------------------------------

    def refresh_trust_list_if_due(self) -> bool:
        from django.conf import settings

        if not settings.TRUST_LIST_URL or time.monotonic() < self._next_trust_refresh:
            return False
        from tongban.exchange.trust import trust_list_refresh

        self._next_trust_refresh = time.monotonic() + self.trust_refresh_seconds
        result = trust_list_refresh()
        if result.installed:
            logger.info("worker: trust list version %s installed", result.version)
        elif not result.ok:
            logger.warning(
                "worker: trust list refresh failed, keeping version %s: %s", result.version, result.error
            )
        return True

    def run_once(self) -> CycleReport:
        """One cycle: trust list when due, then deliver and apply until nothing more is due.

        Inside :meth:`run_forever` the requests to other nodes run in the background (a
        :class:`~tongban.exchange.relay.Relay` kept between cycles): a cycle starts them and records
        those that have finished, never waiting for one. Called on its own (``tongban worker
        --once``), a cycle waits for its requests.
        """
        from django.db import close_old_connections

        from tongban.core.context import Origin, acting_from
        from tongban.exchange.inbox import apply_pending
        from tongban.exchange.relay import SLOW_SECONDS, deliver_due

        close_old_connections()
        report = CycleReport()
        with acting_from(Origin(channel="task", address="worker")):
            report.trust_refreshed = self.refresh_trust_list_if_due()
            while report.rounds < MAX_ROUNDS_PER_CYCLE and not self.stopping:
                report.rounds += 1
                relay = self._relay.step(settle=SLOW_SECONDS) if self._relay is not None else deliver_due()
                applied = apply_pending()
                report.delivered += relay.delivered
                report.parked += relay.parked
                report.retrying += relay.retrying
                report.applied += applied
                report.relay_error = relay.error_code
                if not relay.delivered and not relay.claimed and not applied:
                    break
            self.maintain_if_due()
            self.run_periodic_jobs()
        if report.did_work:
            logger.info(
                "worker: delivered %d, applied %d, retrying %d, parked %d",
                report.delivered,
                report.applied,
                report.retrying,
                report.parked,
            )
        return report

    def _finish_staged_files(self) -> None:
        """At start: files whose rows committed just before this node's last crash, moved into place
        now rather than at the first maintenance (docs/exchange.md, "Files carried by messages")."""
        from tongban.exchange.files import finish_staged

        try:
            report = finish_staged()
        except Exception:
            logger.exception("worker: could not look at staged files; the maintenance will")
            return
        if report.promoted:
            logger.warning("worker: %d file(s) committed before a crash moved into place", report.promoted)

    def run_periodic_jobs(self) -> list[str]:
        """Runs the registered jobs that are due; returns their names."""
        ran = []
        now = time.monotonic()
        for job in list(_PERIODIC.values()):
            if now < self._next_periodic.get(job.name, 0.0) or self.stopping:
                continue
            self._next_periodic[job.name] = now + max(0.1, float(job.every()))
            try:
                job.fn()
            except Exception:
                logger.exception("worker: periodic job %s failed; trying again at its next turn", job.name)
            ran.append(job.name)
        return ran

    def maintain_if_due(self) -> bool:
        """Every ``TONGBAN_EXCHANGE_MAINTENANCE_SECONDS``: the retention policy and the sweep of
        orphan files (``tongban.exchange.maintenance``). Never raises: it is tried again next time."""
        from tongban.exchange.conf import setting

        interval = setting("EXCHANGE_MAINTENANCE_SECONDS")
        if interval <= 0 or time.monotonic() < self._next_maintenance:
            return False
        self._next_maintenance = time.monotonic() + interval
        from tongban.exchange.maintenance import run_maintenance

        try:
            result = run_maintenance()
        except Exception:
            logger.exception("worker: maintenance failed; trying again in %d s", interval)
            return False
        if result.did_work:
            logger.info("worker: maintenance: %s", result.summary())
        return True

    def run_forever(self, *, install_signal_handlers: bool = True) -> None:
        if install_signal_handlers and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
        from django.conf import settings

        from tongban.exchange.relay import Relay

        self._waker = Waker()
        waker = self._waker
        # A finished request ends the wait, so its outcome is recorded and the next batch starts.
        self._relay = Relay(on_done=waker.wake)
        self._finish_staged_files()
        last_relay_error = ""
        try:
            while not self.stopping:
                try:
                    report = self.run_once()
                except Exception:
                    logger.exception("worker: cycle failed; trying again in %.0f s", ERROR_PAUSE_SECONDS)
                    self._waker.wait(ERROR_PAUSE_SECONDS)
                    continue
                if report.relay_error and report.relay_error != last_relay_error:
                    logger.warning("worker: not sending: %s", report.relay_error)
                last_relay_error = report.relay_error
                if self.stopping:
                    break
                # Work may remain when a cycle hit its round limit: look again at once.
                if report.rounds < MAX_ROUNDS_PER_CYCLE and self._waker.wait(self.interval):
                    logger.debug("worker: poked")
        finally:
            from django.db import connections

            # Requests in flight: their outcomes are recorded if they end within one timeout; if not,
            # their messages fall due again when their claim's lease ends.
            try:
                self._relay.close(wait=settings.EXCHANGE_TIMEOUT_SECONDS + 1)
            except Exception:
                logger.exception("worker: could not record the last requests")
            self._relay = None
            self._waker.close()
            self._waker = None
            connections.close_all()  # this thread's connections: a stopped worker holds none open
            logger.info("worker stopped")


def start_in_background(*, interval_ms: int | None = None) -> tuple[Worker, threading.Thread]:
    """Runs a worker in a daemon thread of this process (single-process embedded mode); call
    ``worker.stop()`` then ``thread.join()`` to end it."""
    worker = Worker(interval_ms=interval_ms)
    thread = threading.Thread(
        target=worker.run_forever,
        kwargs={"install_signal_handlers": False},
        name="tongban-worker",
        daemon=True,
    )
    thread.start()
    return worker, thread


def main(argv: list[str]) -> int:
    """``tongban worker [--once] [--interval-ms N]``; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="tongban worker", description="节点后台任务：投递发件箱、处理收件箱、更新信任列表。"
    )
    parser.add_argument("--once", action="store_true", help="处理完当前到期的工作后退出")
    parser.add_argument("--interval-ms", type=int, default=None, help="空闲时查看新工作的间隔（毫秒）")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.interval_ms is not None and args.interval_ms <= 0:
        parser.print_usage()
        print("tongban worker: --interval-ms 应为正整数。")
        return 2

    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
    worker = Worker(interval_ms=args.interval_ms)
    if args.once:
        report = worker.run_once()
        summary = f"已送达 {report.delivered}，已处理 {report.applied}，待重试 {report.retrying}，已搁置 {report.parked}"
        if report.relay_error:
            summary += f"；暂停发送：{report.relay_error}"
        print(summary)
        return 0
    logger.info("worker started (interval %d ms)", int(worker.interval * 1000))
    worker.run_forever()
    return 0
