"""A real federation for tests: three node processes (web + worker each), their own SQLite databases
and keys, a trust anchor, on loopback ports of their own; driven over HTTP like any client."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

PORT_BASE = int(os.environ.get("TONGBAN_TEST_FEDERATION_PORT", "18401"))


class NodeClient:
    def __init__(self, node, accounts: dict):
        self.node, self.accounts, self._tokens = node, accounts, {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            # reviewerN (one per authority) share the reviewer's password in the demo
            password = self.accounts.get(username) or self.accounts["reviewer"]
            body = self.request("POST", "/api/v1/auth/token", {"username": username, "password": password})
            self._tokens[username] = body["token"]
        return self._tokens[username]

    def request(
        self, method: str, path: str, body=None, *, user: str | None = None, expect: int | None = None
    ):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.node.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if user:
            req.add_header("Authorization", f"Bearer {self.token(user)}")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, payload = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, payload = e.code, e.read()
        parsed = json.loads(payload) if payload else None
        if expect is not None:
            assert status == expect, f"{method} {path} → {status}: {parsed}"
        return parsed

    def wait_for(self, predicate, *, timeout: float = 20.0, what: str = ""):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(0.2)
        raise AssertionError(f"{self.node.name}: not within {timeout}s: {what} (last: {last!r})")


@pytest.fixture(scope="session")
def federation(tmp_path_factory):
    from tongban import federation_demo as fd

    workdir = tmp_path_factory.mktemp("federation")
    old = {k: os.environ.get(k) for k in ("TONGBAN_DEMO_DIR", "TONGBAN_DEMO_PORT_BASE")}
    os.environ["TONGBAN_DEMO_DIR"] = str(workdir)
    os.environ["TONGBAN_DEMO_PORT_BASE"] = str(PORT_BASE)
    # Status lists travel every 2 s here (15 s by default), so revocation tests do not wait long.
    old["TONGBAN_CERT_STATUS_SYNC_SECONDS"] = os.environ.get("TONGBAN_CERT_STATUS_SYNC_SECONDS")
    os.environ["TONGBAN_CERT_STATUS_SYNC_SECONDS"] = "2"
    try:
        prepared = fd.prepare()
        procs = fd.start(detach=False)
    except BaseException:
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        raise
    clients = {node.code: NodeClient(node, accounts) for node, accounts in prepared}
    try:
        yield clients
    finally:
        fd.stop(procs)
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        logs = Path(workdir) / "federation" / "logs"
        if logs.exists():
            for log in sorted(logs.glob("*.log")):
                text = log.read_text(errors="replace")
                if "Traceback" in text:
                    print(f"--- {log.name} ---\n{text[-4000:]}")
