"""``tongban demo`` stops every node process however it is asked to stop, or when one node dies.

Real processes and real signals: a small program runs the demo's own ``supervise`` over three
child processes, and the test signals that program as a terminal, ``kill`` or a supervisor would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tongban.federation_demo import REPO

PROGRAM = textwrap.dedent(
    """
    import subprocess, sys
    from tongban.federation_demo import supervise
    lives = [float(x) for x in sys.argv[1:]]
    procs = [subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({s})"]) for s in lives]
    print(" ".join(str(p.pid) for p in procs), flush=True)
    sys.exit(supervise(procs))
    """
)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a child already ended but not yet reaped by whoever adopted it


def _start(*lives: float) -> tuple[subprocess.Popen, list[int]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", PROGRAM, *map(str, lives)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pids = [int(x) for x in proc.stdout.readline().split()]
    assert len(pids) == len(lives)
    return proc, pids


def _wait_gone(pids: list[int], timeout: float = 20) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [p for p in pids if _running(p)]
        if not left:
            return []
        time.sleep(0.1)
    return left


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_stop_signal_stops_every_node_process(sig):
    proc, pids = _start(120, 120, 120)
    try:
        time.sleep(0.8)  # supervise() has installed its handlers and is waiting
        assert all(_running(p) for p in pids)
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 0
        assert _wait_gone(pids) == []
        assert "正在停止" in proc.stdout.read()
    finally:
        for p in pids:
            if _running(p):
                os.kill(p, signal.SIGKILL)
        proc.kill()


def test_a_node_process_that_dies_stops_the_others_and_the_demo_fails():
    proc, pids = _start(120, 0.5, 120)
    try:
        assert proc.wait(timeout=30) == 1
        assert _wait_gone(pids) == []
        assert "有节点进程意外退出" in proc.stderr.read()
    finally:
        for p in pids:
            if _running(p):
                os.kill(p, signal.SIGKILL)
        proc.kill()
