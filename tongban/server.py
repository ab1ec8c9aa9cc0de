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


def serve(*, host: str, port: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    from tongban.config.wsgi import application

    class _App(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread" if threads > 1 else "sync")
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
