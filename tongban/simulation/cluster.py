"""A federation of city nodes on this machine, for the fault tests and the simulation.

Like ``tongban demo`` (:mod:`tongban.federation_demo`, whose ``DemoNode``, ``node_env`` and ``_cli``
this reuses) but for any set of nodes and ports, and built for faults:

- every node under ``<base>/nodes/<code>/`` (SQLite database, key, secrets, ``demo-accounts.json``);
  one trust anchor under ``<base>/federation/anchor`` signs ``<base>/federation/trust-list.json``,
  which each node's worker fetches (``TONGBAN_TRUST_LIST_URL``) when it starts;
- each node's web process and worker run in process groups of their own, so a node can be killed
  (``kill``), paused (``pause``/``resume``: SIGSTOP/SIGCONT) and restarted with the same environment
  (``restart``) as a whole, gunicorn's worker included;
- preparing many nodes is fast: the migrated schema is made once and copied into each new node, then
  the nodes are set up in parallel (a pool of 2–4 ``node_setup`` processes, one Django start each),
  and a node prepared before with the same catalogue and code is reused as it is;
- :meth:`Cluster.ro` opens a node's database read-only, to count what arrived without going through
  (or disturbing) the node.

Only 127.0.0.1 ports are used. :meth:`Cluster.stop` ends every process it started (SIGTERM, then
SIGKILL after a grace period); callers put it in a ``finally``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tongban import federation_demo as fd
from tongban.simulation import catalogue_gen

REPO = fd.REPO
DemoNode = fd.DemoNode
PREPARED_MARKER = "simulation-node.json"
# Bump when what node_setup does changes, so prepared nodes are set up again.
SETUP_VERSION = 1
# Per-node settings that must never leak from the caller's environment into a node.
_NODE_PRIVATE_ENV = (
    "TONGBAN_KEY_DIR",
    "TONGBAN_SECRET_KEY",
    "TONGBAN_PII_KEY",
    "TONGBAN_PII_HASH_KEY",
    "TONGBAN_NODE_KEY_PASSPHRASE",
)


class ClusterError(RuntimeError):
    pass


def yrd_city_nodes(port_base: int) -> list[DemoNode]:
    """The 41 YRD cities (上海 as a municipality first), on consecutive ports from ``port_base``."""
    from tongban.regions.divisions import yrd_divisions

    cities = [d for d in yrd_divisions() if d.level == "city" or d.code == "310000"]
    cities.sort(key=lambda d: d.code)
    return [DemoNode(d.code, d.name, port_base + i) for i, d in enumerate(cities)]


def parse_db_time(value: str | None) -> datetime | None:
    """A datetime as Django stores it in SQLite (UTC, ``YYYY-MM-DD HH:MM:SS[.ffffff]``)."""
    if not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def wait_until(predicate: Callable[[], object], *, timeout: float, interval: float = 0.5, what: str = ""):
    """Polls ``predicate`` until it returns something true; raises ``TimeoutError`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise TimeoutError(f"not within {timeout:.0f} s: {what} (last: {last!r})")
        time.sleep(interval)


@dataclass
class PrepareReport:
    seconds: float = 0.0
    prepared: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    template_seconds: float = 0.0


@dataclass
class Memory:
    processes: int
    rss_bytes: int
    pss_bytes: int


class Cluster:
    def __init__(
        self,
        base: Path,
        nodes: Iterable[DemoNode],
        *,
        web_workers: int = 1,
        web_threads: int = 2,
        worker_interval_ms: int | None = None,
        password_hasher: str = "pbkdf2",
        log_level: str = "INFO",
        extra_env: dict[str, str] | None = None,
    ):
        self.base = Path(base).resolve()
        self.nodes: dict[str, DemoNode] = {n.code: n for n in nodes}
        self.web_workers, self.web_threads = web_workers, web_threads
        self.worker_interval_ms = worker_interval_ms
        self.password_hasher = password_hasher
        self.log_level = log_level
        self.extra_env = dict(extra_env or {})
        self.anchor_dir = self.base / "federation" / "anchor"
        self.trust_list_path = self.base / "federation" / "trust-list.json"
        self.logs = self.base / "logs"
        self.anchor_key = self._read_anchor_key()
        self.trust_version = 0
        self.procs: dict[str, dict[str, subprocess.Popen]] = {}
        self._lock = threading.Lock()
        self._catalogue: tuple[Path, Path] | None = None

    # --- paths and environment -----------------------------------------------------------------

    def var_dir(self, code: str) -> Path:
        return self.base / "nodes" / code

    def db_path(self, code: str) -> Path:
        return self.var_dir(code) / "tongban.sqlite3"

    def env(self, code: str) -> dict[str, str]:
        """The node's environment: ``federation_demo.node_env`` with this cluster's directories."""
        env = fd.node_env(self.nodes[code], self.anchor_key)
        for name in _NODE_PRIVATE_ENV:
            env.pop(name, None)
        env.update(
            TONGBAN_VAR_DIR=str(self.var_dir(code)),
            TONGBAN_TRUST_LIST_URL=str(self.trust_list_path),
            TONGBAN_PASSWORD_HASHER=self.password_hasher,
            TONGBAN_LOG_LEVEL=self.log_level,
            PYTHONDONTWRITEBYTECODE="1",
        )
        if self.worker_interval_ms is not None:
            env["TONGBAN_WORKER_INTERVAL_MS"] = str(self.worker_interval_ms)
        env.update(self.extra_env)
        return env

    def accounts(self, code: str) -> dict[str, str]:
        return json.loads((self.var_dir(code) / "demo-accounts.json").read_text())

    def _read_anchor_key(self) -> str:
        path = self.anchor_dir / "public.key"
        return path.read_text().strip() if path.exists() else ""

    # --- preparing -----------------------------------------------------------------------------

    def generated_catalogue(self) -> tuple[Path, Path] | None:
        """The catalogue directory for this cluster's cities without reference data (None if none)."""
        if self._catalogue is None:
            reference = catalogue_gen.reference_cities()
            cities = [(n.code, n.name) for n in self.nodes.values() if n.code not in reference]
            if not cities:
                return None
            self._catalogue = catalogue_gen.write_catalogue(self.base / "catalogue", cities)
        return self._catalogue

    def _catalogue_args(self, code: str) -> list[str]:
        if code in catalogue_gen.reference_cities():
            return []
        directory, organisations = self.generated_catalogue()  # type: ignore[misc]
        return ["--catalogue-dir", str(directory), "--organisations", str(organisations)]

    def _fingerprint(self, code: str) -> str:
        catalogue_dir = None if code in catalogue_gen.reference_cities() else self.generated_catalogue()[0]  # type: ignore[index]
        migrations = sorted(p.name for p in (REPO / "tongban").glob("*/migrations/0*.py"))
        digest = hashlib.sha256()
        digest.update(f"{SETUP_VERSION}|{self.password_hasher}|{self.nodes[code].name}|".encode())
        digest.update(catalogue_gen.fingerprint(code, catalogue_dir).encode())
        digest.update("|".join(migrations).encode())
        return digest.hexdigest()

    def _prepared_info(self, code: str) -> dict | None:
        marker = self.var_dir(code) / PREPARED_MARKER
        if not marker.exists() or not self.db_path(code).exists():
            return None
        info = json.loads(marker.read_text())
        return info if info.get("fingerprint") == self._fingerprint(code) else None

    def _run(self, module: str, args: list[str], env: dict) -> str:
        result = subprocess.run(
            [sys.executable, "-m", module, *args],
            env=env,
            cwd=REPO,
            text=True,
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            raise ClusterError(f"{module} {' '.join(args)} failed:\n{result.stderr[-4000:] or result.stdout}")
        return result.stdout

    @staticmethod
    def _tongban(*args: str, env: dict) -> str:
        """``federation_demo._cli`` (a ``tongban`` command in ``env``), failing with a ClusterError."""
        try:
            return fd._cli(*args, env=env)
        except SystemExit as exc:
            raise ClusterError(str(exc)) from None

    def _template_db(self) -> Path:
        """An empty, migrated database to copy into new nodes (migrations are the same for every node)."""
        template = self.base / "template"
        env = dict(os.environ)
        env.pop("DATABASE_URL", None)
        env.update(TONGBAN_VAR_DIR=str(template), TONGBAN_NODE_CODE="310000", TONGBAN_NODE_NAME="模板")
        self._tongban("manage", "migrate", "-v", "0", env=env)
        return template / "tongban.sqlite3"

    @staticmethod
    def _copy_db(source: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".copy")
        with (
            contextlib.closing(sqlite3.connect(source)) as src,
            contextlib.closing(sqlite3.connect(tmp)) as dst,
        ):
            src.backup(dst)
        tmp.replace(target)

    def _setup_node(self, code: str) -> dict:
        out = self._run("tongban.simulation.node_setup", self._catalogue_args(code), self.env(code))
        info = json.loads(out.strip().splitlines()[-1])
        info["fingerprint"] = self._fingerprint(code)
        (self.var_dir(code) / PREPARED_MARKER).write_text(json.dumps(info, ensure_ascii=False, indent=2))
        return info

    def prepare(self, *, parallel: int = 3, log: Callable[[str], None] = lambda s: None) -> PrepareReport:
        """Sets up every node not prepared yet (in parallel), reusing the others as they are."""
        started = time.monotonic()
        report = PrepareReport()
        todo = [code for code in self.nodes if self._prepared_info(code) is None]
        report.reused = [code for code in self.nodes if code not in todo]
        fresh = [code for code in todo if not self.db_path(code).exists()]
        if fresh:
            t = time.monotonic()
            template = self._template_db()
            for code in fresh:
                self._copy_db(template, self.db_path(code))
            report.template_seconds = time.monotonic() - t
        if todo:
            self.generated_catalogue()
            with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
                for code, _ in zip(todo, pool.map(self._setup_node, todo), strict=True):
                    report.prepared.append(code)
                    log(f"  prepared {code} {self.nodes[code].name} ({len(report.prepared)}/{len(todo)})")
        report.seconds = time.monotonic() - started
        return report

    def publish_trust_list(self, *, valid_hours: int = 168) -> int:
        """Registers every node's key and endpoint with the anchor and signs a new trust-list version."""
        members = []
        for code, node in self.nodes.items():
            info = json.loads((self.var_dir(code) / PREPARED_MARKER).read_text())
            members.append(
                {
                    "code": code,
                    "name": node.name,
                    "endpoint": node.url,
                    "kid": info["kid"],
                    "public_key": info["public_key"],
                }
            )
        members_file = self.base / "federation" / "members.json"
        members_file.parent.mkdir(parents=True, exist_ok=True)
        members_file.write_text(json.dumps(members, ensure_ascii=False, indent=2))
        env = dict(os.environ)
        env.pop("DATABASE_URL", None)
        env.update(TONGBAN_VAR_DIR=str(self.base / "federation" / "anchor-var"))
        out = self._run(
            "tongban.simulation.anchor",
            [
                "--dir",
                str(self.anchor_dir),
                "--members",
                str(members_file),
                "--out",
                str(self.trust_list_path),
                "--valid-hours",
                str(valid_hours),
            ],
            env,
        )
        result = json.loads(out.strip().splitlines()[-1])
        self.anchor_key = result["public_key"]
        self.trust_version = result["version"]
        return self.trust_version

    # --- processes -----------------------------------------------------------------------------

    def _spawn(self, code: str) -> None:
        if not self.anchor_key:
            raise ClusterError("publish the trust list before starting nodes (the anchor key is unknown)")
        self.logs.mkdir(parents=True, exist_ok=True)
        env = self.env(code)
        roles = {
            "web": ["serve", "--workers", str(self.web_workers), "--threads", str(self.web_threads)],
            "worker": ["worker"],
        }
        procs = {}
        for role, args in roles.items():
            with open(self.logs / f"{code}-{role}.log", "ab") as log:
                procs[role] = subprocess.Popen(
                    [sys.executable, "-m", "tongban.cli", *args],
                    env=env,
                    cwd=REPO,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: kill/pause the node as a whole
                )
        with self._lock:
            self.procs[code] = procs

    def start(self, codes: Iterable[str] | None = None) -> None:
        for code in codes or list(self.nodes):
            self._spawn(code)

    def pids(self, code: str) -> dict[str, int]:
        return {role: p.pid for role, p in self.procs.get(code, {}).items()}

    def _signal(self, code: str, sig: int) -> None:
        for proc in self.procs.get(code, {}).values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)

    def kill(self, code: str, sig: int = signal.SIGKILL) -> None:
        """Sends ``sig`` to the node's web and worker process groups and waits until they are gone."""
        self._signal(code, sig)
        for proc in self.procs.get(code, {}).values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            # a process group may outlive its leader (gunicorn's worker): make sure it is gone
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

    def terminate(self, code: str) -> None:
        self.kill(code, signal.SIGTERM)

    def pause(self, code: str) -> None:
        self._signal(code, signal.SIGSTOP)

    def resume(self, code: str) -> None:
        self._signal(code, signal.SIGCONT)

    def restart(self, code: str) -> None:
        """Starts the node again with the same environment (after ``kill`` or ``terminate``)."""
        if any(p.poll() is None for p in self.procs.get(code, {}).values()):
            raise ClusterError(f"{code} is still running: kill it first")
        self._spawn(code)

    def stop(self) -> None:
        """Ends every process this cluster started: SIGCONT (if paused) and SIGTERM, SIGKILL after 20 s."""
        with self._lock:
            groups = [p for procs in self.procs.values() for p in procs.values()]
        for proc in groups:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGCONT)
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in groups:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in groups:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)

    def dead(self) -> list[str]:
        """``code/role`` of processes that exited although nobody stopped them."""
        return [
            f"{code}/{role}"
            for code, procs in self.procs.items()
            for role, p in procs.items()
            if p.poll() is not None
        ]

    def log_tail(self, code: str, role: str, size: int = 3000) -> str:
        path = self.logs / f"{code}-{role}.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    # --- readiness -----------------------------------------------------------------------------

    @staticmethod
    def _get_json(url: str, timeout: float = 2.0) -> tuple[int, dict | None]:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            try:
                return e.code, json.loads(e.read() or b"null")
            except ValueError:
                return e.code, None
        except (OSError, ValueError):
            return 0, None

    def healthy(self, code: str) -> bool:
        return self._get_json(self.nodes[code].url + "/healthz")[0] == 200

    def trust_version_of(self, code: str) -> int:
        _, body = self._get_json(self.nodes[code].url + "/federation/v1/health")
        try:
            return int(body["trust_list"]["version"] or 0) if body else 0
        except (KeyError, TypeError, ValueError):
            return 0

    def _wait_all(
        self, codes: list[str], check: Callable[[str], bool], *, timeout: float, what: str
    ) -> float:
        started = time.monotonic()
        pending = list(codes)
        while pending:
            pending = [c for c in pending if not check(c)]
            if not pending:
                break
            dead = [d for d in self.dead() if d.split("/")[0] in pending]
            if dead:
                code, role = dead[0].split("/")
                raise ClusterError(f"{dead} exited while waiting for {what}:\n{self.log_tail(code, role)}")
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"{len(pending)} node(s) not {what} within {timeout:.0f} s: {pending[:8]}")
            time.sleep(0.5)
        return time.monotonic() - started

    def wait_healthy(self, codes: Iterable[str] | None = None, *, timeout: float = 120) -> float:
        return self._wait_all(list(codes or self.nodes), self.healthy, timeout=timeout, what="healthy")

    def wait_trust(self, version: int | None = None, *, codes=None, timeout: float = 120) -> float:
        version = version or self.trust_version
        return self._wait_all(
            list(codes or self.nodes),
            lambda c: self.trust_version_of(c) >= version,
            timeout=timeout,
            what=f"holding trust list v{version}",
        )

    def publish_catalogues(self, *, parallel: int = 4, codes: Iterable[str] | None = None) -> None:
        """``tongban catalogue publish`` on every node (``parallel`` at a time)."""
        todo = list(codes or self.nodes)
        with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
            list(pool.map(lambda c: self._tongban("catalogue", "publish", env=self.env(c)), todo))

    # --- observing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def ro(self, code: str):
        """A read-only connection to the node's database, closed (snapshot released) on exit."""
        conn = sqlite3.connect(f"file:{self.db_path(code)}?mode=ro", uri=True, timeout=30)
        try:
            yield conn
        finally:
            conn.close()

    def query(self, code: str, sql: str, params: Iterable = ()) -> list[tuple]:
        for attempt in range(5):
            try:
                with self.ro(code) as conn:
                    return conn.execute(sql, tuple(params)).fetchall()
            except sqlite3.OperationalError:  # busy during a checkpoint, or the -shm being recreated
                if attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))
        return []

    def memory(self) -> Memory:
        """RSS and PSS summed over every process of this cluster's process groups (gunicorn workers too).

        RSS counts pages shared between processes (forked gunicorn workers) once per process; PSS
        divides them among the sharers, so its sum is what the nodes take from the machine."""
        groups = {p.pid for procs in self.procs.values() for p in procs.values() if p.poll() is None}
        count = rss = pss = 0
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
                pgid = int(stat.rsplit(")", 1)[1].split()[2])
                if pgid not in groups:
                    continue
                status = Path(entry.path, "status").read_text()
                rss += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
                with contextlib.suppress(OSError, StopIteration):
                    rollup = Path(entry.path, "smaps_rollup").read_text()
                    pss += next(
                        int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")
                    )
                count += 1
            except (OSError, ValueError, IndexError, StopIteration):
                continue
        return Memory(processes=count, rss_bytes=rss * 1024, pss_bytes=pss * 1024)


def machine_info() -> dict:
    """What the numbers were measured on."""
    import platform

    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gb = 0.0
    with contextlib.suppress(OSError, StopIteration, ValueError):
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        mem_gb = int(next(x for x in meminfo if x.startswith("MemTotal:")).split()[1]) / 1024 / 1024
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "date": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
    }
