"""Fault tests against real node processes: 上海 (310000, the handling node), 合肥 (340100, the
receiving node) and 黄山 (341000, a bystander) on loopback, each with its own SQLite database, key,
web process and worker.

Skipped unless ``TONGBAN_SOAK=1`` (``make soak``): they take minutes and kill processes. Settings:

- ``TONGBAN_SOAK_TRANSFERS`` (1000): applications created for the kill -9 test;
- ``TONGBAN_SOAK_KILL_AT`` (0.3): kill when this share of them has reached 上海;
- ``TONGBAN_SOAK_DOWN_SECONDS`` (5): how long 上海 stays dead before the restart;
- ``TONGBAN_SOAK_OUTAGE_SECONDS`` (60): how long 上海 is stopped under load;
- ``TONGBAN_SOAK_OUTAGE_MODE`` (``stop``): ``stop`` (SIGSTOP/SIGCONT: connections hang until the
  sender's timeout) or ``term`` (SIGTERM, then a restart: connections are refused);
- ``TONGBAN_SOAK_RATE`` (5): applications per second created during the outage test;
- ``TONGBAN_SOAK_DECIDE`` (200) / ``TONGBAN_SOAK_DECIDE_OUTAGE`` (50): cases 上海 accepts and
  approves afterwards to check the statuses arrive at 合肥 in order (a number, or ``all``);
- ``TONGBAN_SOAK_PORT_BASE`` (18781) and ``TONGBAN_SOAK_DIR`` (``var/soak/cluster``, emptied at the
  start of each run and kept afterwards with the nodes' logs).

Each test's numbers are printed at the end of the run and written to ``var/soak/<test>.json``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.soak.harness import HF, HS, ITEM_NAME, RESULTS, SH, Pair, env_int
from tongban.simulation.client import NodeClient
from tongban.simulation.cluster import REPO, Cluster, DemoNode, wait_until

SOAK = os.environ.get("TONGBAN_SOAK") == "1"
HERE = Path(__file__).resolve().parent


def port_busy(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def pytest_configure(config):
    # Registered here too, so the tests also run where pyproject does not list the marker yet.
    config.addinivalue_line("markers", "soak: fault injection against real node processes (TONGBAN_SOAK=1)")


def pytest_collection_modifyitems(config, items):
    if SOAK:
        return
    skip = pytest.mark.skip(reason="soak tests run only with TONGBAN_SOAK=1 (make soak)")
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    for name, result in RESULTS:
        terminalreporter.write_sep("-", f"soak: {name}")
        terminalreporter.write_line(json.dumps(result, ensure_ascii=False, indent=2))


@pytest.fixture(scope="session")
def pair():
    # Fresh every run (counts start from zero); kept afterwards for reading the nodes' logs.
    base = Path(os.environ.get("TONGBAN_SOAK_DIR") or REPO / "var" / "soak" / "cluster")
    if base.exists():
        shutil.rmtree(base)
    port = env_int("TONGBAN_SOAK_PORT_BASE", 18781)
    busy = [p for p in (port, port + 1, port + 2) if port_busy(p)]
    if busy:
        pytest.fail(f"ports {busy} on 127.0.0.1 are in use (another soak run?); set TONGBAN_SOAK_PORT_BASE")
    cluster = Cluster(
        base,
        [DemoNode(SH, "上海市", port), DemoNode(HF, "合肥市", port + 1), DemoNode(HS, "黄山市", port + 2)],
        web_workers=1,
        web_threads=4,
    )
    try:
        cluster.prepare(parallel=2)
        cluster.publish_trust_list()
        cluster.start()
        cluster.wait_healthy(timeout=120)
        cluster.wait_trust(timeout=60)
        cluster.publish_catalogues()
        hefei = NodeClient(cluster.nodes[HF].url, cluster.accounts(HF))
        shanghai = NodeClient(cluster.nodes[SH].url, cluster.accounts(SH))

        def find(city):
            page = hefei.request("GET", f"/api/v1/items?q={quote(ITEM_NAME)}&city={city}")
            return next((i for i in page["items"] if i["name"] == ITEM_NAME and i["city_code"] == city), None)

        item = wait_until(lambda: find(SH), timeout=60, what=f"{ITEM_NAME} of 上海 in 合肥's catalogue")
        other = wait_until(lambda: find(HS), timeout=60, what=f"{ITEM_NAME} of 黄山 in 合肥's catalogue")
        yield Pair(cluster, hefei, shanghai, item["implementation_code"], other["implementation_code"])
    finally:
        cluster.stop()
        RESULTS.append(("node logs", log_summary(cluster.logs)))


def log_summary(logs: Path) -> dict:
    """Per log file: tracebacks and the distinct ERROR/CRITICAL lines (timestamps cut off)."""
    summary: dict = {"directory": str(logs)}
    for log in sorted(logs.glob("*.log")) if logs.exists() else []:
        text = log.read_text(errors="replace")
        errors = sorted(
            {
                re.sub(r"^\[[^]]*\] \[\d+\] |^\S+ \S+ ", "", line)[:200]
                for line in text.splitlines()
                if re.search(r" ERROR |\[ERROR\]|CRITICAL", line)
            }
        )
        summary[log.name] = {"tracebacks": text.count("Traceback"), "error_lines": errors[:10]}
    return summary
