"""``tongban serve`` as an operator runs it: gunicorn workers forked from a process that migrated."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=20) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def empty_postgres_database():
    """A database of its own on the suite's PostgreSQL server, dropped afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("runs in the PostgreSQL suite: the node's production database")
    import psycopg

    params = connection.settings_dict
    name = f"{params['NAME']}_serve_{os.getpid()}"
    admin = psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        user=params["USER"],
        password=params["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    user = params["USER"]
    auth = f"{user}:{params['PASSWORD']}@" if params["PASSWORD"] else f"{user}@"
    try:
        yield f"postgres://{auth}{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _backends(url: str) -> int:
    """Client connections to the database at ``url``, not counting the one asking."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as own:
        return own.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]


def test_workers_forked_after_migrating_each_open_their_own_database_connection(
    empty_postgres_database, tmp_path
):
    """The serving process migrates, then forks its workers: a connection it left open would be
    shared by every worker, and their queries would mix on one socket (answers read by the wrong
    process, "server closed the connection unexpectedly"). Many requests at once must all succeed."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": empty_postgres_database,
        "TONGBAN_VAR_DIR": str(tmp_path),
        "TONGBAN_LOG_LEVEL": "WARNING",
    }
    # Migrated first, as a node that restarts finds its database: then `--migrate` has nothing to do.
    subprocess.run(
        [sys.executable, "-m", "tongban.cli", "migrate"], cwd=REPO, env=env, check=True, capture_output=True
    )
    log = tmp_path / "serve.log"
    argv = ["serve", "--migrate", "--port", str(port), "--workers", "3", "--threads", "1"]
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "tongban.cli", *argv],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        deadline = time.monotonic() + 120
        while log.read_text(errors="replace").count("Booting worker") < 3:
            assert server.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, f"no workers:\n{log.read_text(errors='replace')}"
            time.sleep(0.1)
        # Migrated, workers forked, no request yet: nobody may hold a connection (a worker would
        # share one the serving process kept).
        assert _backends(empty_postgres_database) == 0
        while True:
            assert server.poll() is None, log.read_text(errors="replace")
            try:
                if _get(url) == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"not ready:\n{log.read_text(errors='replace')}"
            time.sleep(0.2)
        with ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(_get, [url] * 600))
        assert statuses.count(200) == len(statuses), (
            f"{len(statuses) - statuses.count(200)} of {len(statuses)} failed:\n{log.read_text(errors='replace')[-3000:]}"
        )
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_a_worker_with_every_thread_busy_leaves_new_connections_to_the_others():
    """The threaded worker `tongban serve` runs: with a free thread it accepts at once; with all of
    them busy it holds back for a short grace (an idle worker takes the connection meanwhile), then
    accepts after all, so that no connection waits for long when every worker is busy."""
    import logging
    import selectors
    import socket

    from gunicorn.config import Config

    from tongban import server

    cfg = Config()
    cfg.set("threads", 2)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    worker_class = server._balanced_thread_worker()
    worker = worker_class(0, os.getpid(), [listener], None, 30, cfg, logging.getLogger("test"))
    worker.in_flight, worker.busy_since, worker.nr_conns = 0, None, 0
    worker.poller = selectors.DefaultSelector()
    try:
        clock = [1000.0]
        worker.clock = lambda: clock[0]
        worker.set_accept_enabled(True)
        assert worker._accepting  # threads free: accepting
        worker.in_flight = 2
        worker.set_accept_enabled(False)
        worker.set_accept_enabled(True)
        assert not worker._accepting  # every thread busy: left to the other workers
        clock[0] += server.BUSY_ACCEPT_GRACE_SECONDS / 2
        worker.set_accept_enabled(True)
        assert not worker._accepting
        clock[0] += server.BUSY_ACCEPT_GRACE_SECONDS
        worker.set_accept_enabled(True)
        assert worker._accepting  # nobody took it within the grace: taken here
        worker.in_flight = 1
        worker.set_accept_enabled(False)
        worker.set_accept_enabled(True)
        assert worker._accepting and worker.busy_since is None
    finally:
        worker.poller.close()
        listener.close()
