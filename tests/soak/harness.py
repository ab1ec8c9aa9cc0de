"""Helpers of the fault tests: the two-node pair, a load generator, checks read from the databases."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tongban.simulation.client import ApiError, NodeClient, application_from_api
from tongban.simulation.cluster import REPO, Cluster

SH, HF, HS = "310000", "340100", "341000"
ITEM_NAME = "内资有限公司设立登记"
RESULTS: list[tuple[str, dict]] = []


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def record(name: str, result: dict) -> None:
    """Keeps a test's numbers for the end-of-run summary and writes them to var/soak/<name>.json."""
    RESULTS.append((name, result))
    out = REPO / "var" / "soak"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))


def chunks(values: list, size: int = 500):
    for i in range(0, len(values), size):
        yield values[i : i + size]


@dataclass
class Pair:
    """The nodes (上海 handling, 合肥 receiving, and 黄山, a bystander), their API clients, and counts
    read from their databases."""

    cluster: Cluster
    hefei: NodeClient
    shanghai: NodeClient
    item: str  # 上海's item the applications at 合肥 are for
    item_huangshan: str = ""  # the same item of 黄山

    def application(self, token: str, item: str = "") -> dict:
        item = item or self.item
        if item not in self._templates:
            self._templates[item] = application_from_api(self.hefei, item)
        body = dict(self._templates[item])
        body["client_token"] = token
        return body

    def __post_init__(self):
        self._templates: dict[str, dict] = {}
        self.application("-")

    # --- counts (read-only database access) ---

    def rows(self, code: str, sql: str, keys: list[str], params: tuple = ()) -> list[tuple]:
        """``sql`` with ``{keys}`` replaced by placeholders for ``keys`` (in chunks), after ``params``."""
        out: list[tuple] = []
        for part in chunks(keys):
            out += self.cluster.query(
                code, sql.replace("{keys}", ",".join("?" * len(part))), [*params, *part]
            )
        return out

    def outbox_states(self, numbers: list[str], *, sender: str = HF, type: str = "case.transfer") -> dict:
        rows = self.rows(
            sender,
            "SELECT state, COUNT(*), MAX(attempts), SUM(attempts > 0) FROM exchange_outboxmessage "
            "WHERE type = ? AND ordering_key IN ({keys}) GROUP BY state",
            numbers,
            (type,),
        )
        states: dict = {
            "pending": 0,
            "delivered": 0,
            "parked": 0,
            "max_attempts": 0,
            "failed_once_or_more": 0,
        }
        for state, count, max_attempts, retried in rows:
            states[state] = states.get(state, 0) + count
            states["max_attempts"] = max(states["max_attempts"], max_attempts or 0)
            states["failed_once_or_more"] += retried or 0
        return states

    def pending_transfers(self) -> int:
        return self.cluster.query(
            HF,
            "SELECT COUNT(*) FROM exchange_outboxmessage WHERE recipient = ? AND type = 'case.transfer' "
            "AND state = 'pending'",
            [SH],
        )[0][0]

    def received_transfers(self) -> int:
        return self.cluster.query(
            SH, "SELECT COUNT(*) FROM exchange_inboxmessage WHERE sender = ? AND type = 'case.transfer'", [HF]
        )[0][0]

    def cases_at(self, code: str, numbers: list[str]) -> dict[str, tuple]:
        rows = self.rows(
            code, "SELECT number, status, created_at FROM cases_case WHERE number IN ({keys})", numbers
        )
        return {number: (status, created) for number, status, created in rows}


@dataclass
class Creator:
    """Creates applications at 合肥 from a pool of threads: ``count`` of them, or at ``rate`` per second
    until stopped. A network error is retried with the same client token (never a second case)."""

    pair: Pair
    prefix: str
    threads: int = 6
    count: int | None = None
    rate: float | None = None
    numbers: list[str] = field(default_factory=list)
    created_at: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._next = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Creator:
        self.started = time.monotonic()
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)
        self.seconds = time.monotonic() - self.started

    def _claim(self) -> int | None:
        with self._lock:
            if self.stop.is_set() or (self.count is not None and self._next >= self.count):
                return None
            n = self._next
            self._next += 1
            return n

    def _one(self, n: int) -> None:
        if self.rate:  # paced: the n-th application is due at n / rate seconds
            delay = self.started + n / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        body = self.pair.application(f"{self.prefix}-{n}")
        for attempt in range(5):
            try:
                status, answer = self.pair.hefei.call("POST", "/api/v1/cases", body, user="citizen")
            except OSError as exc:
                if attempt == 4:
                    with self._lock:
                        self.errors.append(f"{n}: {exc}")
                    return
                time.sleep(0.5)
                continue
            if status in (200, 201):
                with self._lock:
                    self.numbers.append(answer["number"])
                    self.created_at[answer["number"]] = time.monotonic()
            else:
                with self._lock:
                    self.errors.append(f"{n}: HTTP {status} {answer}")
            return

    def _run(self) -> None:
        def worker():
            while (n := self._claim()) is not None:
                self._one(n)

        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            for _ in range(self.threads):
                pool.submit(worker)


def decide(pair: Pair, numbers: list[str], *, threads: int = 4) -> list[str]:
    """上海's reviewer accepts and approves each case (accept, then decision, per case); returns errors."""
    errors: list[str] = []

    def one(number: str) -> None:
        try:
            pair.shanghai.request("POST", f"/api/v1/cases/{number}/accept", {"note": ""}, user="reviewer")
            pair.shanghai.request(
                "POST",
                f"/api/v1/cases/{number}/decision",
                {"approve": True, "reason": "符合条件"},
                user="reviewer",
            )
        except (ApiError, OSError) as exc:
            errors.append(f"{number}: {exc}")

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, numbers))
    return errors


def sample(numbers: list[str], setting: str, default: int) -> list[str]:
    value = os.environ.get(setting) or str(default)
    if value == "all":
        return list(numbers)
    return random.Random(7).sample(numbers, min(int(value), len(numbers)))
