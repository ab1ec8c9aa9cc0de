"""Runs the product's own ``tongban serve`` (gunicorn) in a subprocess for the HTTP benchmarks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.env import REPO, log
from bench.loadgen import build_request, fetch


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class ServerConfig:
    workers: int
    threads: int

    @property
    def label(self) -> str:
        return f"{self.workers}w×{self.threads}t"

    @classmethod
    def parse(cls, text: str) -> ServerConfig:
        """``"3x4"`` → 3 workers of 4 threads."""
        w, _, t = text.lower().partition("x")
        return cls(int(w), int(t or 1))


class Server:
    """``with Server(cfg, env) as srv:`` starts gunicorn on a free port and stops it afterwards."""

    def __init__(self, config: ServerConfig, env: dict[str, str], *, log_dir: Path):
        self.config = config
        self.env = {**os.environ, **env}
        self.port = free_port()
        self.log_path = log_dir / f"server-{config.label}-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __enter__(self) -> Server:
        cmd = [
            sys.executable,
            "-m",
            "tongban.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.config.workers),
            "--threads",
            str(self.config.threads),
            # The code changes under a long benchmark session: bring the schema up to date first.
            "--migrate",
        ]
        self._log = open(self.log_path, "wb")
        # A session of its own, so that stopping it reaches the gunicorn workers too.
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        req = build_request("GET", "/healthz", port=self.port)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log_path}")
            try:
                status, _ = fetch(self.port, req, timeout=5)
                if status == 200:
                    # Every worker imports the app lazily on its first request: give them all one.
                    for _ in range(self.config.workers * 2):
                        fetch(self.port, req, timeout=5)
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not ready after {timeout:.0f}s; see {self.log_path}")

    def __exit__(self, *exc) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            # Only the process group this object started (its gunicorn master and workers).
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                log(f"server {self.proc.pid} did not stop in 20 s; killing its process group")
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()
