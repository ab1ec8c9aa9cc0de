"""``tongban``: the operators' command line.

    tongban serve [--host H] [--port P] [--workers N]   run this node (gunicorn)
    tongban demo                                        set up the demo node and run it on :8000
    tongban workdays add 2026-09-28 5                   working-day arithmetic (see `tongban workdays -h`)
    tongban audit verify                                check the audit hash chain
    tongban catalogue load                              load the reference catalogue
    tongban api schema                                  print the OpenAPI document
    tongban manage <django command> …                   any Django management command

Exit codes: 0 success, 1 a check failed, 2 bad input.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.config.settings")

# Subcommands that are Django management commands of the same name.
PASSTHROUGH = {"workdays", "audit", "catalogue", "regions", "migrate", "createsuperuser", "shell"}


def _setup() -> None:
    import django

    django.setup()


def _database_ready() -> bool:
    """The embedded SQLite database is prepared on first use; a production database is never migrated
    behind the operator's back: they are told what to run instead."""
    from django.conf import settings
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not pending:
        return True
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        return True
    print("tongban: 数据库尚未迁移到当前版本，请先运行 `tongban manage migrate`。", file=sys.stderr)
    return False


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "serve":
        from tongban.server import serve_main

        return serve_main(rest)
    if command == "demo":
        from tongban.demo import demo_main

        return demo_main(rest)
    if command == "api" and rest[:1] == ["schema"]:
        _setup()
        import json

        from tongban.api.v1.api import api

        print(json.dumps(api.get_openapi_schema(), ensure_ascii=False, indent=2, sort_keys=True))
        return 0
    if command == "manage":
        command, rest = (rest[0], rest[1:]) if rest else ("help", [])
    elif command not in PASSTHROUGH:
        print(f"tongban: 未知命令“{command}”。运行 tongban --help 查看可用命令。", file=sys.stderr)
        return 2
    if command not in ("migrate", "help", "makemigrations"):
        _setup()
        if not _database_ready():
            return 2
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["tongban", command, *rest])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
