"""HTTP between nodes: one POST of a batch of envelopes to another node's endpoint.

The relay talks to a :class:`Transport`; :class:`HttpTransport` is the real one (httpx, one client
per process with keep-alive, so a busy relay reuses its connections to each node). Tests may hand
the relay another transport.

A request that did not complete (refused, reset, timed out, a bad address) raises
:class:`TransportError`; any HTTP answer, whatever its status, is returned for the relay to judge.

Every request is bounded: connecting by ``TONGBAN_EXCHANGE_CONNECT_TIMEOUT_SECONDS``, each read or
write by ``TONGBAN_EXCHANGE_TIMEOUT_SECONDS``, and the whole request (a peer trickling its answer
byte by byte included) by the same ``TONGBAN_EXCHANGE_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from django.conf import settings

from tongban.exchange.conf import setting

ENVELOPES_PATH = "/federation/v1/envelopes"
# An answer is one short result per envelope; anything much bigger is not an answer we can use.
MAX_RESPONSE_BYTES = 4 * 1024 * 1024


class TransportError(Exception):
    """The request did not complete; the message is to be retried."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        """The parsed body; ``ValueError`` when it is not JSON."""
        return json.loads(self.body.decode("utf-8"))


class Transport(Protocol):
    def post_envelopes(self, *, endpoint: str, body: bytes) -> Response: ...


def envelopes_url(endpoint: str) -> str:
    """``http://host:port`` (as in the trust list) → the envelope endpoint's URL."""
    return endpoint.rstrip("/") + ENVELOPES_PATH


class HttpTransport:
    """POSTs with a pooled httpx client, created on first use in each process (not shared across fork)."""

    def __init__(self, *, timeout: float | None = None):
        self._timeout = timeout
        self._client: httpx.Client | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def _get_client(self) -> httpx.Client:
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                timeout = self._total_timeout()
                self._client = httpx.Client(
                    timeout=httpx.Timeout(
                        timeout, connect=min(timeout, setting("EXCHANGE_CONNECT_TIMEOUT_SECONDS"))
                    ),
                    limits=httpx.Limits(max_keepalive_connections=20, keepalive_expiry=60),
                    follow_redirects=False,
                    headers={"User-Agent": f"tongban-relay/{settings.NODE_CODE}"},
                )
                self._pid = os.getpid()
            return self._client

    def _total_timeout(self) -> float:
        return float(self._timeout if self._timeout is not None else settings.EXCHANGE_TIMEOUT_SECONDS)

    def post_envelopes(self, *, endpoint: str, body: bytes) -> Response:
        url = envelopes_url(endpoint)
        deadline = time.monotonic() + self._total_timeout()
        try:
            client = self._get_client()
            with client.stream(
                "POST", url, content=body, headers={"Content-Type": "application/json"}
            ) as response:
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_RESPONSE_BYTES:
                        raise TransportError(f"{url}: answer larger than {MAX_RESPONSE_BYTES} bytes")
                    if time.monotonic() > deadline:
                        raise TransportError(f"{url}: no complete answer within {self._total_timeout():g} s")
                    chunks.append(chunk)
                return Response(status=response.status_code, body=b"".join(chunks))
        except httpx.HTTPError as exc:
            raise TransportError(f"{url}: {type(exc).__name__}: {exc}") from exc
        except (OSError, ValueError) as exc:  # e.g. an endpoint in the trust list that is not a URL
            raise TransportError(f"{url}: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client = None


_default = HttpTransport()


def default_transport() -> Transport:
    return _default
