"""Runs the whole suite on SQLite and, when PostgreSQL is reachable, again on PostgreSQL.

``python -m tests.run_all [--db sqlite|postgres|all] [pytest args…]``. ``make test`` calls it with
``--db all``. The PostgreSQL run is skipped with a clear message where no server answers; in CI
(``CI=true``) an unreachable PostgreSQL is a failure, not a skip, since CI has one.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TONGBAN_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/tongban")


def postgres_reachable(url: str = PG_URL) -> bool:
    from urllib.parse import urlparse

    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5432), timeout=2):
            return True
    except OSError:
        return False


def run(db: str, pytest_args: list[str]) -> int:
    env = dict(os.environ)
    # Its own var directory per run, so that two checkouts' (or two engineers') runs never share files.
    var_base = Path(os.environ.get("TONGBAN_TEST_VAR_BASE", REPO / "var"))
    env["TONGBAN_VAR_DIR"] = str(var_base / f"test-{db}")
    env["TONGBAN_PASSWORD_HASHER"] = "fast"
    env["TONGBAN_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    if db == "postgres":
        env["DATABASE_URL"] = PG_URL
        # The multi-node tests start their own nodes (embedded SQLite); once per suite is enough.
        if "-m" not in pytest_args:
            pytest_args = [*pytest_args, "-m", "not federation"]
    else:
        env.pop("DATABASE_URL", None)
    print(f"\n===== test suite on {db} =====", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", *pytest_args], cwd=REPO, env=env)


def main(argv: list[str]) -> int:
    db = "all"
    if argv[:1] == ["--db"]:
        db, argv = argv[1], argv[2:]
    codes = []
    if db in ("sqlite", "all"):
        codes.append(run("sqlite", argv))
    if db in ("postgres", "all"):
        if postgres_reachable():
            codes.append(run("postgres", argv))
        elif os.environ.get("CI") == "true" or db == "postgres":
            print(f"PostgreSQL is not reachable at {PG_URL}: it is required here.", flush=True)
            codes.append(1)
        else:
            print(f"\nSKIPPED the PostgreSQL run: nothing answers at {PG_URL} (set TONGBAN_TEST_PG_URL).")
    return max(codes) if codes else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
