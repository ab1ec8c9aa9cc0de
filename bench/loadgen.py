"""A small HTTP/1.1 load generator: N keep-alive connections, each sending its next request as soon
as the previous answer has arrived (a closed loop), for a bounded time and number of requests.

No dependency beyond asyncio. Only 127.0.0.1 is allowed: this is a benchmark, not a load test of
anyone else's server. Latency is measured from writing the request to reading the last body byte.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from dataclasses import dataclass, field

ALLOWED_HOSTS = ("127.0.0.1",)
REQUEST_TIMEOUT = 30.0


def build_request(
    method: str, path: str, *, port: int, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: keep-alive"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of unsorted ``values`` (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def latency_summary(latencies_s: list[float]) -> dict:
    ms = [x * 1000 for x in latencies_s]
    return {
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2) if ms else 0.0,
        "mean_ms": round(sum(ms) / len(ms), 2) if ms else 0.0,
    }


@dataclass
class LoadResult:
    concurrency: int
    measured_seconds: float
    requests: int  # completed inside the measurement window
    ok: int
    errors: int
    status_counts: dict[str, int]
    latencies: list[float] = field(repr=False)
    error_samples: list[str] = field(default_factory=list)
    warmup_requests: int = 0

    @property
    def throughput(self) -> float:
        return self.ok / self.measured_seconds if self.measured_seconds else 0.0

    def summary(self) -> dict:
        return {
            "concurrency": self.concurrency,
            "measured_seconds": round(self.measured_seconds, 2),
            "requests": self.requests,
            "ok": self.ok,
            "errors": self.errors,
            "status_counts": self.status_counts,
            "throughput_rps": round(self.throughput, 1),
            "warmup_requests": self.warmup_requests,
            **latency_summary(self.latencies),
            "error_samples": self.error_samples[:5],
        }


class _BadResponse(Exception):
    pass


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise _BadResponse(lines[0][:80])
    status = int(parts[1])
    length, chunked, close = None, False, parts[0] == "HTTP/1.0"
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        value = value.strip()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
        elif name == "connection":
            close = value.lower() == "close"
    if chunked:
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        return status, bytes(body), close
    if length is None:
        if status in (204, 304) or 100 <= status < 200:
            return status, b"", close
        return status, await reader.read(), True
    return status, await reader.readexactly(length), close


async def _run(
    host: str,
    port: int,
    requests: list[bytes],
    *,
    concurrency: int,
    warmup: float,
    duration: float,
    max_requests: int,
    ok_status: tuple[int, ...],
) -> LoadResult:
    counter = itertools.count()
    records: list[tuple[float, float, int]] = []
    samples: list[str] = []
    t_begin = time.perf_counter()
    t_measure = t_begin + warmup
    t_stop = t_measure + duration

    async def connect():
        return await asyncio.wait_for(asyncio.open_connection(host, port, limit=1 << 20), 10)

    async def worker() -> None:
        reader = writer = None
        while True:
            if time.perf_counter() >= t_stop:
                break
            i = next(counter)
            if i >= max_requests:
                break
            if writer is None:
                try:
                    reader, writer = await connect()
                except (TimeoutError, OSError) as exc:
                    records.append((time.perf_counter(), time.perf_counter(), -1))
                    samples.append(f"connect: {exc!r}")
                    await asyncio.sleep(0.1)
                    continue
            req = requests[i % len(requests)]
            t0 = time.perf_counter()
            try:
                writer.write(req)
                status, body, close = await asyncio.wait_for(_read_response(reader), REQUEST_TIMEOUT)
            except (
                TimeoutError,
                OSError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                _BadResponse,
                ValueError,
            ) as exc:
                records.append((t0, time.perf_counter(), -1))
                samples.append(f"{type(exc).__name__}: {exc}"[:300])
                writer.close()
                reader = writer = None
                continue
            t1 = time.perf_counter()
            records.append((t0, t1, status))
            if status not in ok_status and len(samples) < 20:
                samples.append(f"HTTP {status}: {body[:300].decode('utf-8', 'replace')}")
            if close:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    t_end = min(time.perf_counter(), t_stop)
    measured = [(t0, t1, s) for t0, t1, s in records if t0 >= t_measure and t1 <= t_stop]
    # When the request cap ends the run early, the window ends with the last answer.
    if measured:
        t_end = min(t_stop, max(t1 for _, t1, _ in measured))
    window = max(t_end - t_measure, 1e-9)
    ok = [t1 - t0 for t0, t1, s in measured if s in ok_status]
    counts = Counter(str(s) if s >= 0 else "error" for _, _, s in measured)
    return LoadResult(
        concurrency=concurrency,
        measured_seconds=window,
        requests=len(measured),
        ok=len(ok),
        errors=len(measured) - len(ok),
        status_counts=dict(counts),
        latencies=ok,
        error_samples=samples,
        warmup_requests=sum(1 for t0, _, _ in records if t0 < t_measure),
    )


def run_load(
    host: str,
    port: int,
    requests: list[bytes],
    *,
    concurrency: int,
    warmup: float,
    duration: float,
    max_requests: int = 10**9,
    ok_status: tuple[int, ...] = (200,),
) -> LoadResult:
    """Runs ``concurrency`` closed-loop connections cycling through ``requests``.

    ``warmup`` seconds are run first and not counted; then ``duration`` seconds are measured. At
    most ``max_requests`` requests are sent in all.
    """
    if host not in ALLOWED_HOSTS:
        raise ValueError(f"benchmarks only run against {ALLOWED_HOSTS}, not {host!r}")
    if not requests:
        raise ValueError("no requests to send")
    return asyncio.run(
        _run(
            host,
            port,
            requests,
            concurrency=concurrency,
            warmup=warmup,
            duration=duration,
            max_requests=max_requests,
            ok_status=ok_status,
        )
    )


def fetch(port: int, request: bytes, *, timeout: float = 30.0) -> tuple[int, bytes]:
    """One request on a fresh connection (for checks before a run)."""

    async def go():
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port, limit=1 << 22), 10)
        try:
            writer.write(request)
            status, body, _ = await asyncio.wait_for(_read_response(reader), timeout)
            return status, body
        finally:
            writer.close()

    return asyncio.run(go())
