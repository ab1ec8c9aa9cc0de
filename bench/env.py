"""The benchmark database and the environment shared by the bench process and the server it starts.

The bench process writes data (users, encrypted ID numbers, sessions, tokens) that the server then
reads, so both must use the same database and the same keys. The keys are kept in the benchmark
database itself (table ``bench_meta``), so a reused database always comes with the keys its
ciphertexts were made with, whatever ``var/`` holds.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse, urlunparse

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "bench" / "results"
# TONGBAN_BENCH_PG_URL: the PostgreSQL server (and database name) the benchmarks use.
PG_URL = os.environ.get("TONGBAN_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/tongban_bench")

META_TABLE = "bench_meta"
SECRET_NAMES = ("SECRET_KEY", "PII_KEY", "PII_HASH_KEY")


def database_url(quick: bool) -> str:
    """The quick smoke run has its own small database, so it never disturbs the full data set."""
    if not quick:
        return PG_URL
    parsed = urlparse(PG_URL)
    return urlunparse(parsed._replace(path=parsed.path + "_quick"))


def dbname(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def _admin_url(url: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/postgres"))


def _connect(url: str, **kwargs):
    import psycopg

    return psycopg.connect(url, connect_timeout=5, **kwargs)


def ensure_database(url: str, *, rebuild: bool) -> bool:
    """Creates the database if missing (drops it first with ``rebuild``). True when it was created."""
    from psycopg import sql

    name = dbname(url)
    with _connect(_admin_url(url), autocommit=True) as conn:
        if rebuild:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            return False
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(sql.Identifier(name))
        )
        return True


def _meta_table(conn) -> None:
    conn.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key text PRIMARY KEY, value text NOT NULL)")


def meta_get(url: str, key: str) -> str | None:
    with _connect(url, autocommit=True) as conn:
        _meta_table(conn)
        row = conn.execute(f"SELECT value FROM {META_TABLE} WHERE key = %s", [key]).fetchone()
        return row[0] if row else None


def meta_set(url: str, key: str, value: str) -> None:
    with _connect(url, autocommit=True) as conn:
        _meta_table(conn)
        conn.execute(
            f"INSERT INTO {META_TABLE} (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [key, value],
        )


def meta_delete(url: str, key: str) -> None:
    with _connect(url, autocommit=True) as conn:
        _meta_table(conn)
        conn.execute(f"DELETE FROM {META_TABLE} WHERE key = %s", [key])


def _secrets(url: str) -> dict[str, str]:
    out = {}
    for name in SECRET_NAMES:
        value = meta_get(url, f"secret:{name}")
        if value is None:
            value = secrets.token_urlsafe(32) if name == "SECRET_KEY" else secrets.token_hex(32)
            meta_set(url, f"secret:{name}", value)
        out[name] = value
    return out


def server_env(url: str, var_dir: Path) -> dict[str, str]:
    """The environment of the bench process and of the server: same database, same keys."""
    env = {
        "DJANGO_SETTINGS_MODULE": "tongban.config.settings",
        "DATABASE_URL": url,
        "TONGBAN_VAR_DIR": str(var_dir),
        "TONGBAN_LOG_LEVEL": "WARNING",
        "TONGBAN_DEBUG": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for name, value in _secrets(url).items():
        env[f"TONGBAN_{name}"] = value
    return env


def prepare(*, quick: bool, rebuild: bool) -> tuple[str, Path, dict[str, str]]:
    """Creates (or reuses) the database, sets this process's environment and migrates.

    Returns the database URL, the temporary var dir (uploads land there) and the server environment.
    """
    url = database_url(quick)
    ensure_database(url, rebuild=rebuild)
    var_dir = Path(tempfile.mkdtemp(prefix="tongban-bench-"))
    env = server_env(url, var_dir)
    # Real password hashing, as on a node: the benchmark must not run the test-suite shortcut.
    os.environ.pop("TONGBAN_PASSWORD_HASHER", None)
    os.environ.update(env)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return url, var_dir, env


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
