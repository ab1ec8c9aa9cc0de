"""``tongban``: the operators' command line.

    tongban serve [--host H] [--port P] [--workers N]   run this node (gunicorn)
    tongban demo [--detach | --stop]                    the demo federation: 上海 :8001, 合肥 :8002, 黄山 :8003
    tongban demo --single                               one demo node on :8000
    tongban worker                                      this node's background work (delivery, inbox)
    tongban workdays add 2026-09-28 5                   working-day arithmetic (see `tongban workdays -h`)
    tongban audit verify [--no-seal]                    seal pending entries, check the audit hash chain
    tongban audit seal                                  chain the audit entries not sealed yet
    tongban catalogue load                              load the reference catalogue
    tongban cert verify FILE                            verify a certificate, its QR text or PDF (offline too)
    tongban plan import FILE [--dry-run --json]          import an action plan (推进方案); see `tongban plan -h`
    tongban plan assign-template|assign-import …        responsible units from Excel (推进办)
    tongban proposal letter ID --format docx|pdf        a reply letter (答复函); see `tongban proposal -h`
    tongban proposal search TEXT | deadlines | stats    similar past proposals, deadline run, statistics
    tongban api schema                                  print the OpenAPI document
    tongban manage <django command> …                   any Django management command

Exit codes: 0 success, 1 a check failed, 2 bad input.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.config.settings")

ANCHOR_COMMANDS = {"anchor-init", "member-add", "member-rotate", "member-remove", "publish"}

# Subcommands that are Django management commands of the same name.
PASSTHROUGH = {
    "workdays",
    "audit",
    "catalogue",
    "regions",
    "federation",
    "cert",
    "plan",
    "proposal",
    "migrate",
    "createsuperuser",
    "shell",
}


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
        if "--single" in rest:
            from tongban.demo import demo_main

            return demo_main([a for a in rest if a != "--single"])
        from tongban.federation_demo import main as federation_demo_main

        return federation_demo_main(rest)
    if command == "demo-node-prepare":  # used by `tongban demo` for each node, in that node's environment
        _setup()
        from django.conf import settings

        from tongban.demo import demo_prepare

        demo_prepare(cities={settings.NODE_CODE}, certificates=False)
        return 0
    if command == "demo-node-certificates":  # once the node's key is in the trust list
        _setup()
        from tongban.demo import demo_certificates_ensure
        from tongban.demo_activity import demo_activity_ensure

        demo_certificates_ensure()
        demo_activity_ensure()  # a year of cases; their approvals issue certificates
        return 0
    if command == "worker":
        _setup()
        if not _database_ready():
            return 2
        from tongban.exchange.worker import main as worker_main

        return worker_main(rest)
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
    # The trust anchor's commands work on its own files, not on a node's database.
    anchor_only = command == "federation" and rest[:1] and rest[0] in ANCHOR_COMMANDS
    if command not in ("migrate", "help", "makemigrations") and not anchor_only:
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
