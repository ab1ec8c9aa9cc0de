"""What the benchmarks ran on, and where the CPU went during a run (Linux ``/proc``)."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import threading
import time
from datetime import datetime

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _lscpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    try:
        text = open("/proc/cpuinfo").read()
    except OSError:
        return platform.processor() or "unknown"
    m = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return m.group(1).strip() if m else "unknown"


def _memory_gib() -> float:
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def load_average() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:
        return (0.0, 0.0, 0.0)


def machine_info() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg_version = cursor.fetchone()[0].split(" on ")[0]
        cursor.execute(
            "SELECT name, setting, unit FROM pg_settings WHERE name IN "
            "('shared_buffers', 'synchronous_commit', 'max_connections', 'work_mem', 'jit')"
        )
        pg_settings = {
            name: f"{setting}{' × ' + unit if unit else ''}" for name, setting, unit in cursor.fetchall()
        }
    import django

    return {
        "cpu_model": _lscpu_model(),
        "cores": os.cpu_count() or 0,
        "memory_gib": round(_memory_gib(), 1),
        "kernel": platform.release(),
        "postgresql": pg_version,
        "postgresql_settings": pg_settings,
        "python": platform.python_version(),
        "django": django.get_version(),
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "speed_ms": single_core_speed_ms(),
    }


def single_core_speed_ms() -> float:
    """Milliseconds one core takes for a fixed loop of Python (``sum(range(10**6))``, best of 5).

    Machines of the same kind differ (one session's ran the same code about twice as fast as the
    next one's), and one machine varies over a day: this number, printed with every result, says how
    fast the core was when the result was measured, so results of two runs can be compared."""
    import timeit

    return round(min(timeit.repeat("sum(range(10**6))", number=5, repeat=5)) / 5 * 1e3, 2)


# --- CPU accounting -------------------------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[int, int, int, int] | None:
    """(ppid, utime + stime, start time since boot, cutime + cstime of reaped children), in ticks, of a
    process; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: split after the last ")".
    rest = text[text.rfind(")") + 2 :].split()
    return int(rest[1]), int(rest[11]) + int(rest[12]), int(rest[19]), int(rest[13]) + int(rest[14])


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _children_ticks(pid: int) -> int:
    """CPU ticks of a process's exited and reaped children (cutime + cstime)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return 0
    rest = text[text.rfind(")") + 2 :].split()
    return int(rest[13]) + int(rest[14])


def _postmaster() -> int | None:
    """The PostgreSQL server's main process: its exited children are the parallel workers and
    sessions that ended during a run."""
    for pid in _all_pids():
        cmd = _cmdline(pid)
        if "bin/postgres" in cmd.split(" ", 1)[0]:
            return pid
    return None


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _snapshot() -> dict[int, tuple[int, int, int, int]]:
    out = {}
    for pid in _all_pids():
        st = _proc_stat(pid)
        if st:
            out[pid] = st
    return out


def process_tree(root: int, snap: dict[int, tuple[int, int, int, int]] | None = None) -> set[int]:
    """``root`` and all its descendants."""
    snap = snap if snap is not None else _snapshot()
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_) in snap.items():
        children.setdefault(ppid, []).append(pid)
    tree, frontier = {root}, [root]
    while frontier:
        frontier = [c for pid in frontier for c in children.get(pid, []) if c not in tree]
        tree.update(frontier)
    return tree


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    total = sum(parts[:8])
    return total - idle, total


_BACKEND = re.compile(r"^postgres: [^:]+: (\S+) (\S+) ")
_PARALLEL = re.compile(r"parallel worker for PID (\d+)")


def _classify(pid: int, *, server: set[int], dbname: str, bench_backends: set[int]) -> str:
    if pid == os.getpid():
        return "loadgen"
    if pid in server:
        return "server"
    cmd = _cmdline(pid)
    if not cmd.startswith("postgres"):
        return "other"
    m = _BACKEND.match(cmd)
    if m and not cmd.split(": ", 2)[-1].startswith(("parallel worker", "autovacuum", "logical")):
        if m.group(2) == dbname:
            bench_backends.add(pid)
            return "postgres"
        return "other"  # a session of someone else's database (e.g. a test suite)
    par = _PARALLEL.search(cmd)
    if par:
        return "postgres" if int(par.group(1)) in bench_backends else "other"
    return "postgres"  # the server's own processes: WAL writer, checkpointer, autovacuum…


class CpuSample:
    """Where the machine's CPU went between :meth:`start` and :meth:`stop`, in cores (1.0 = one core).

    Every process is put in one bucket: the benchmark's server (gunicorn master and workers), the
    PostgreSQL backends of the benchmark database with their parallel workers and PostgreSQL's own
    background processes, the load generator (this process), and ``other``: everything else,
    including other databases' sessions: the noise of a shared machine. ``/proc`` is polled twice a
    second so that processes that come and go during the run (test runners, parallel workers) are
    counted too. PostgreSQL processes too short-lived to be seen are taken from the time the
    postmaster reaped from its children (``postgres_exited``: any database); what remains of the
    machine's busy time is ``unattributed``.
    """

    POLL_SECONDS = 0.5

    def __init__(self, server_root: int | None = None, dbname: str = ""):
        self.server_root, self.dbname = server_root, dbname
        self.first: dict[int, tuple[int, int]] = {}  # pid → (start time, ticks when first seen or 0)
        self.last: dict[int, int] = {}
        self.bucket: dict[int, str] = {}
        self.bench_backends: set[int] = set()
        self.server: set[int] = set()
        self.pg_children: set[int] = set()  # PostgreSQL processes of any database
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _poll(self, *, initial: bool = False) -> set[int]:
        snap = _snapshot()
        if self.server_root:
            self.server |= process_tree(self.server_root, snap)
        # Backends before parallel workers, so that a worker's leader is known when it is classified.
        for pid in sorted(snap, key=lambda p: "parallel worker" in _cmdline(p)):
            _, ticks, started, _ = snap[pid]
            known = self.first.get(pid)
            if known is None or known[0] != started:  # new (or a reused pid)
                self.first[pid] = (started, ticks if initial else 0)
                self.bucket[pid] = _classify(
                    pid, server=self.server, dbname=self.dbname, bench_backends=self.bench_backends
                )
                if _cmdline(pid).startswith("postgres"):
                    self.pg_children.add(pid)
            self.last[pid] = ticks
        return set(snap)

    def _loop(self) -> None:
        while not self._stop.wait(self.POLL_SECONDS):
            self._poll()

    def start(self) -> CpuSample:
        self.loadavg = load_average()
        self.started = time.monotonic()
        self.machine = _machine_ticks()
        self._poll(initial=True)
        self.postmaster = _postmaster()
        self.postmaster_children = _children_ticks(self.postmaster) if self.postmaster else 0
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> dict:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        elapsed = max(time.monotonic() - self.started, 1e-9)
        busy0, total0 = self.machine
        busy1, total1 = _machine_ticks()
        alive = self._poll()
        cores = os.cpu_count() or 1
        machine_busy = (busy1 - busy0) / max(total1 - total0, 1) * cores
        buckets = {"server": 0, "postgres": 0, "loadgen": 0, "other": 0}
        seen_exited_pg = 0
        for pid, (_, base) in self.first.items():
            used = self.last[pid] - base
            buckets[self.bucket[pid]] += used
            if pid not in alive and pid in self.pg_children:
                seen_exited_pg += used
        reaped = (_children_ticks(self.postmaster) - self.postmaster_children) if self.postmaster else 0

        def c(ticks: float) -> float:
            return round(ticks / CLK_TCK / elapsed, 2)

        out = {
            "seconds": round(elapsed, 2),
            "cores": cores,
            "machine_busy_cores": round(machine_busy, 2),
            "server_cores": c(buckets["server"]),
            "postgres_cores": c(buckets["postgres"]),
            # PostgreSQL processes (parallel workers, sessions) that ended before they could be seen.
            "postgres_exited_cores": c(max(reaped - seen_exited_pg, 0)),
            "loadgen_cores": c(buckets["loadgen"]),
            "other_cores": c(buckets["other"]),
            "loadavg_before": [round(x, 2) for x in self.loadavg],
        }
        parts = ("server", "postgres", "postgres_exited", "loadgen", "other")
        out["unattributed_cores"] = round(max(machine_busy - sum(out[f"{k}_cores"] for k in parts), 0.0), 2)
        return out


class WaitSampler:
    """Samples what the server's database sessions are doing (``pg_stat_activity``) during a run.

    A session that is ``active`` and waits on ``Lock`` is queued behind another transaction's row
    lock; ``Client/ClientRead`` inside a transaction means the database waits for the application
    (which may be waiting for the CPU). The shares tell where time goes without a profiler.
    """

    def __init__(self, url: str, dbname: str, interval: float = 0.05):
        self.url, self.dbname, self.interval = url, dbname, interval
        self.counts: dict[str, int] = {}
        self.samples = 0
        self._stop = None
        self._thread = None

    def _loop(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set():
                rows = conn.execute(
                    "SELECT state, coalesce(wait_event_type, ''), coalesce(wait_event, ''), "
                    "left(regexp_replace(query, '\\s+', ' ', 'g'), 60) "
                    "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                    [self.dbname],
                ).fetchall()
                self.samples += 1
                for state, wtype, wevent, query in rows:
                    if state == "idle":
                        key = "idle (between requests)"
                    elif state == "idle in transaction":
                        key = "idle in transaction (waiting for the app)"
                    elif wtype == "Lock":
                        key = f"lock wait: {wevent} ({query.split(' FROM ')[0][:40]}…)"
                    elif wtype:
                        key = f"{state}: {wtype}/{wevent}"
                    else:
                        key = f"{state}: on CPU"
                    self.counts[key] = self.counts.get(key, 0) + 1
                self._stop.wait(self.interval)

    def start(self) -> WaitSampler:
        import threading

        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join(timeout=5)
        if not self.samples:
            return {}
        # Average number of the server's sessions in each state at any moment.
        return {k: round(v / self.samples, 2) for k, v in sorted(self.counts.items(), key=lambda kv: -kv[1])}


def machine_section(m: dict) -> str:
    """The "## Machine" part of a benchmark's docs page, from ``machine_info()``."""
    pg = m["postgresql"] + (f"; settings {m['postgresql_settings']}" if m.get("postgresql_settings") else "")
    return (
        "## Machine\n\n"
        f"- CPU: {m['cpu_model']}, {m['cores']} cores; memory {m['memory_gib']} GiB; Linux {m['kernel']}\n"
        f"- {pg}\n"
        f"- Python {m['python']}, Django {m['django']}; run {m['date']}\n"
        + (f"- {speed_line(m['speed_ms'])}\n" if m.get("speed_ms") else "")
    )


def speed_line(ms: float) -> str:
    return f"single-core speed when measured: `sum(range(10**6))` in {ms} ms (best of 5; lower is faster)"


def run_child(module: str, *args: str, env: dict | None = None) -> dict:
    """Runs ``python -m <module> --child <args>`` from the repository with Django's settings (and no
    inherited DATABASE_URL unless ``env`` gives one); its last output line is the JSON result."""
    import json
    import sys
    from pathlib import Path

    child_env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    child_env["DJANGO_SETTINGS_MODULE"] = "tongban.config.settings"
    child_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", module, "--child", *args],
        cwd=Path(__file__).resolve().parent.parent,
        env=child_env,
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        raise RuntimeError(f"{module} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
