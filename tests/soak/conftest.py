"""Fault tests against real node processes: 上海 (310000, the handling node) and 合肥 (340100, the
receiving node) on loopback, each with its own SQLite database, key, web process and worker.

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
- ``TONGBAN_SOAK_PORT_BASE`` (18781) and ``TONGBAN_SOAK_DIR`` (a pytest temporary directory).

Each test's numbers are printed at the end of the run and written to ``var/soak/<test>.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.soak.harness import HF, ITEM_NAME, RESULTS, SH, Pair, env_int
from tongban.simulation.client import NodeClient
from tongban.simulation.cluster import Cluster, DemoNode, wait_until

SOAK = os.environ.get("TONGBAN_SOAK") == "1"
HERE = Path(__file__).resolve().parent


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
def pair(tmp_path_factory):
    base = Path(os.environ.get("TONGBAN_SOAK_DIR") or tmp_path_factory.mktemp("soak"))
    port = env_int("TONGBAN_SOAK_PORT_BASE", 18781)
    cluster = Cluster(
        base, [DemoNode(SH, "上海市", port), DemoNode(HF, "合肥市", port + 1)], web_workers=1, web_threads=4
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

        def find():
            page = hefei.request("GET", f"/api/v1/items?q={quote(ITEM_NAME)}&city={SH}")
            return next((i for i in page["items"] if i["name"] == ITEM_NAME and i["city_code"] == SH), None)

        item = wait_until(find, timeout=60, what=f"{ITEM_NAME} of 上海 in 合肥's catalogue")
        yield Pair(cluster, hefei, shanghai, item["implementation_code"])
    finally:
        cluster.stop()
        for log in sorted(cluster.logs.glob("*.log")) if cluster.logs.exists() else []:
            text = log.read_text(errors="replace")
            if "Traceback" in text:
                print(f"--- {log.name} ---\n{text[-4000:]}")
