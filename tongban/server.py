"""Runs a node's web process under gunicorn (WSGI), in the foreground."""

from __future__ import annotations

import argparse
import os


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tongban serve", description="运行本节点的 Web 服务")
    # TONGBAN_BIND_HOST / TONGBAN_BIND_PORT / TONGBAN_WEB_WORKERS / TONGBAN_WEB_THREADS: defaults for serve.
    parser.add_argument("--host", default=os.environ.get("TONGBAN_BIND_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("TONGBAN_BIND_PORT", "8000")))
    parser.add_argument(
        "--workers", type=int, default=int(os.environ.get("TONGBAN_WEB_WORKERS", str(os.cpu_count() or 2)))
    )
    parser.add_argument("--threads", type=int, default=int(os.environ.get("TONGBAN_WEB_THREADS", "4")))
    parser.add_argument("--migrate", action="store_true", help="先执行数据库迁移")
    return parser


# How long a worker whose threads are all busy leaves a new connection to the other workers before it
# takes the connection itself (so that none waits for long when every worker is busy).
BUSY_ACCEPT_GRACE_SECONDS = 0.025


def _balanced_thread_worker():
    import time

    from gunicorn.workers.gthread import ThreadWorker

    class BalancedThreadWorker(ThreadWorker):
        """gunicorn's threaded worker, preferring to leave new connections to a worker with a free
        thread. The stock worker accepts whatever the shared socket offers: sixteen keep-alive
        clients arriving together were all taken by whichever worker woke first, and the node then
        ran on one process of two (bench/findings.md, round 6). A worker whose threads are all busy
        now takes a new connection only after BUSY_ACCEPT_GRACE_SECONDS, when no idle worker took
        it. Connections it holds are served as before. Runs on the worker's main thread only."""

        clock = staticmethod(time.monotonic)

        def init_process(self):
            self.in_flight = 0  # requests handed to the threads and not finished
            self.busy_since = None  # when all threads last became busy with accepting held back
            super().init_process()

        def _may_accept(self) -> bool:
            if self.in_flight < self.cfg.threads:
                self.busy_since = None
                return True
            now = self.clock()
            if self.busy_since is None:
                self.busy_since = now
            return now - self.busy_since >= BUSY_ACCEPT_GRACE_SECONDS

        def set_accept_enabled(self, enabled):
            super().set_accept_enabled(enabled and self._may_accept())

        def _review_accepting(self):
            if self.alive:
                self.set_accept_enabled(self.nr_conns < self.worker_connections)

        def accept(self, listener):
            self.busy_since = None  # taken now: the next one waits its own grace
            super().accept(listener)

        def enqueue_req(self, conn):
            self.in_flight += 1
            super().enqueue_req(conn)
            self._review_accepting()

        def finish_request(self, conn, fs):
            self.in_flight -= 1
            try:
                super().finish_request(conn, fs)
            finally:
                self._review_accepting()

        def wait_for_and_dispatch_events(self, timeout):
            # While accepting is held back, look again when the grace ends even if nothing happens.
            if not self._accepting and self.busy_since is not None:
                timeout = min(timeout, BUSY_ACCEPT_GRACE_SECONDS)
            super().wait_for_and_dispatch_events(timeout)
            self._review_accepting()

    return BalancedThreadWorker


def serve(*, host: str, port: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    from tongban.config.wsgi import application

    class _App(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", _balanced_thread_worker() if threads > 1 else "sync")
            self.cfg.set("accesslog", "-" if os.environ.get("TONGBAN_ACCESS_LOG") else None)
            self.cfg.set("graceful_timeout", 10)
            self.cfg.set("timeout", 60)

        def load(self):
            return application

    from django.db import connections

    # The workers are forked from this process: a database connection left open here (by --migrate,
    # or by anything the app did while loading) would be shared by all of them, and their queries
    # would mix on one socket. Each worker opens its own on its first request.
    connections.close_all()
    _App().run()


def serve_main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    import django

    django.setup()
    if args.migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
    serve(host=args.host, port=args.port, workers=args.workers, threads=args.threads)
    return 0
