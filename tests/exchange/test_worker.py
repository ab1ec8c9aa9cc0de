"""The embedded worker (``tongban worker``): a cycle delivers and applies until nothing is due, a
commit wakes a waiting worker at once, and the process stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import transaction

from tests.exchange import kit
from tongban.exchange import handlers, outbox, relay, worker
from tongban.exchange.models import InboxMessage, InboxState, OutboxMessage, OutboxState
from tongban.exchange.transport import default_transport

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def node(settings, live_server, monkeypatch, tmp_path):
    """This database as 上海 behind the live server; the worker's relay sends as 合肥."""
    settings.ROOT_URLCONF = "tests.exchange.kit"
    settings.NODE_CODE = kit.SHANGHAI
    settings.VAR_DIR = tmp_path
    settings.TRUST_LIST_URL = ""
    monkeypatch.setattr(relay, "local_identity", kit.hefei_identity)
    yield kit.install_trust(settings, endpoints={kit.SHANGHAI: live_server.url})
    # The relay's pooled keep-alive connections hold a live-server thread (and its database
    # connection) open: close them so the test database can be dropped.
    default_transport().close()


def send(key: str = "", **payload) -> OutboxMessage:
    with transaction.atomic():
        return outbox.enqueue(recipient=kit.SHANGHAI, type="test.note", payload=payload, ordering_key=key)


@pytest.mark.django_db(transaction=True)
def test_a_cycle_delivers_and_applies_until_nothing_is_due(node):
    seen = []
    with handlers.override("test.note", lambda payload, *, sender, envelope_id: seen.append(payload["step"])):
        messages = [send("C1", step=i) for i in (1, 2, 3)]
        report = worker.Worker().run_once()
    # One case's messages leave one per round, each applied on arrival: three rounds, one cycle.
    assert (report.delivered, report.applied, report.parked) == (3, 3, 0)
    assert seen == [1, 2, 3]
    assert {OutboxMessage.objects.get(pk=m.pk).state for m in messages} == {OutboxState.DELIVERED}
    assert {m.state for m in InboxMessage.objects.all()} == {InboxState.APPLIED}
    assert worker.Worker().run_once().did_work is False


@pytest.mark.django_db(transaction=True)
def test_tongban_worker_once(node, capsys):
    send()
    with handlers.override("test.note", lambda payload, *, sender, envelope_id: None):
        assert worker.main(["--once"]) == 0
    assert "已送达 1，已处理 1" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_tongban_worker_once_says_why_it_does_not_send(node, capsys):
    from tongban.exchange.trust_models import TrustListState

    TrustListState.objects.all().delete()
    message = send()
    assert worker.main(["--once"]) == 0
    assert "暂停发送：TRUST_LIST_MISSING" in capsys.readouterr().out
    assert OutboxMessage.objects.get(pk=message.pk).attempts == 0


@pytest.mark.parametrize("argv", [["--interval-ms", "0"], ["--interval-ms", "soon"], ["--bogus"]])
def test_tongban_worker_refuses_bad_arguments(argv, capsys):
    assert worker.main(argv) == 2


@pytest.mark.django_db(transaction=True)
def test_background_worker_delivers_as_soon_as_a_change_commits(node):
    applied = threading.Event()
    with handlers.override("test.note", lambda payload, *, sender, envelope_id: applied.set()):
        # Idle, it would look again only after a minute: only the poke after commit can wake it.
        background, thread = worker.start_in_background(interval_ms=60_000)
        try:
            time.sleep(0.3)  # let it finish its first (empty) cycle and start waiting
            message = send()
            assert applied.wait(20), "the committed message was not delivered and applied"
        finally:
            background.stop()
            thread.join(20)
    assert not thread.is_alive()
    assert OutboxMessage.objects.get(pk=message.pk).state == OutboxState.DELIVERED
    assert InboxMessage.objects.get(pk=message.pk).state == InboxState.APPLIED


def test_worker_process_wakes_on_a_poke_from_another_process_and_stops_on_sigterm(tmp_path, settings):
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)  # its own SQLite database in its own var directory
    env.update(TONGBAN_VAR_DIR=str(tmp_path), TONGBAN_LOG_LEVEL="DEBUG", PYTHONUNBUFFERED="1")
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tongban.cli", "worker", "--interval-ms", "60000"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:

        def wait_for(text: str, timeout: float = 90) -> None:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if text in log.read_text(errors="replace"):
                    return
                if process.poll() is not None:
                    break
                time.sleep(0.05)
            raise AssertionError(f"worker never logged {text!r}:\n{log.read_text(errors='replace')}")

        wait_for("worker started")
        settings.VAR_DIR = tmp_path
        sockets = tmp_path / "run" / "exchange-worker"
        deadline = time.monotonic() + 20
        while not any(sockets.glob("*.sock")) and time.monotonic() < deadline:
            time.sleep(0.05)
        worker.poke()  # what a web process does after a commit
        wait_for("worker: poked")
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        wait_for("worker stopped")
        assert not any(sockets.glob("*.sock"))  # it cleaned up after itself
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_periodic_jobs_run_when_due_and_a_failing_one_never_stops_the_worker():
    from tongban.exchange.worker import _PERIODIC, Worker, register_periodic

    calls = []
    register_periodic("test.ok", lambda: 3600.0, lambda: calls.append("ok"))
    register_periodic("test.broken", lambda: 3600.0, lambda: 1 / 0)
    try:
        worker = Worker(interval_ms=10)
        ran = worker.run_periodic_jobs()
        assert {"test.ok", "test.broken"} <= set(ran) and calls == ["ok"]
        assert "test.ok" not in worker.run_periodic_jobs()  # not due again for an hour
    finally:
        _PERIODIC.pop("test.ok", None)
        _PERIODIC.pop("test.broken", None)
    # The apps' own steps are registered.
    assert {"certificates.status_list", "bundles.external", "bundles.advance", "bundles.sweep"} <= set(
        _PERIODIC
    )
