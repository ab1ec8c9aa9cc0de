"""A small federation for the outbox / relay / inbox tests: a trust anchor and node keys (real Ed25519),
a signed trust list installed in the test database, envelopes sealed like a peer would.

One database plays both roles: this node is :data:`SHANGHAI` (``NODE_CODE``, the receiver), and the
relay sends as :data:`HEFEI` (:func:`hefei_identity`), so sender and recipient differ as in life.
Also a URL configuration with the federation endpoint mounted, for the test client and live servers.
"""

from __future__ import annotations

import json
import select
import socket
import socketserver
import threading
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.urls import include, path

from tongban.config.urls import urlpatterns as main_urlpatterns
from tongban.exchange import trust as trust_module
from tongban.exchange.canonical import format_time
from tongban.exchange.envelope import envelope_to_dict, seal
from tongban.exchange.ids import uuid7
from tongban.exchange.relay import Identity
from tongban.exchange.signing import Ed25519Signer, b64u

HEFEI, SHANGHAI, HUANGSHAN, NANJING = "340100", "310000", "341000", "320100"
NAMES = {HEFEI: "合肥市", SHANGHAI: "上海市", HUANGSHAN: "黄山市", NANJING: "南京市"}

ANCHOR = Ed25519Signer(Ed25519PrivateKey.generate(), "anchor-test")
KEYS = {code: Ed25519Signer(Ed25519PrivateKey.generate(), f"{code}-test") for code in NAMES}

# The federation endpoint, whether or not tongban.config.urls mounts it yet.
urlpatterns = [path("federation/v1/", include("tongban.exchange.urls")), *main_urlpatterns]


def closed_port() -> int:
    """A loopback port nothing listens on (taken from the OS, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Forwarder:
    """Listens on ``port`` and passes every connection through to ``upstream`` (a live server's port):
    a node that comes back at the address the trust list gives for it. Use as a context manager."""

    def __init__(self, port: int, upstream: int):
        class Pipe(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with socket.create_connection(("127.0.0.1", upstream)) as far:
                    ends = [self.request, far]
                    while True:
                        ready, _, _ = select.select(ends, [], [], 30)
                        if not ready:
                            return
                        for end in ready:
                            data = end.recv(65536)
                            if not data:
                                return
                            (far if end is self.request else self.request).sendall(data)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", port), Pipe)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Forwarder:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class Silent:
    """A node that takes connections and never answers (as one stopped with SIGSTOP does: the kernel
    completes the handshake, nobody reads). :meth:`hang_up` closes every connection it holds. Use as
    a context manager; ``url`` is its endpoint."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.connected = threading.Event()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        self.listener.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            self.held.append(conn)
            self.connected.set()

    def hang_up(self) -> None:
        for conn in self.held:
            conn.close()
        self.held.clear()

    def __enter__(self) -> Silent:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.thread.join(5)
        self.hang_up()
        self.listener.close()


def key_entry(
    signer: Ed25519Signer, *, not_before: datetime | None = None, not_after: datetime | None = None
):
    return {
        "kid": signer.kid,
        "alg": signer.alg,
        "public_key": b64u(signer.public_key),
        "not_before": format_time(not_before or datetime.now(UTC) - timedelta(days=30)),
        "not_after": format_time(not_after) if not_after else None,
    }


def install_trust(
    settings,
    *,
    endpoints: dict[str, str] | None = None,
    version: int = 1,
    removed: tuple[str, ...] = (),
    members: tuple[str, ...] = (HEFEI, SHANGHAI, HUANGSHAN),
    keys: dict[str, list[dict]] | None = None,
    next_update: datetime | None = None,
    issued_at: datetime | None = None,
):
    """Signs a trust list with :data:`ANCHOR` and installs it as this node's; returns the TrustList."""
    settings.TRUST_ANCHOR_KEYS = [b64u(ANCHOR.public_key)]
    endpoints = endpoints or {}
    keys = keys or {}
    payload = {
        "version": version,
        "issued_at": format_time(issued_at or datetime.now(UTC) - timedelta(hours=1)),
        "next_update": format_time(next_update or datetime.now(UTC) + timedelta(days=1)),
        "members": [
            {
                "code": code,
                "name": NAMES[code],
                "endpoint": endpoints.get(code, f"http://127.0.0.1:{closed_port()}"),
                "roles": ["node"],
                "status": "removed" if code in removed else "active",
                "keys": keys.get(code, [key_entry(KEYS[code])]),
            }
            for code in members
        ],
    }
    document = trust_module.trust_list_sign(payload, signer=ANCHOR)
    trust_module.invalidate_cache()
    return trust_module.trust_list_install(document)


def hefei_identity(signer: Ed25519Signer | None = None) -> Identity:
    return Identity(code=HEFEI, signer=signer or KEYS[HEFEI])


def envelope(
    *,
    sender: str = HEFEI,
    recipient: str = SHANGHAI,
    type: str = "test.note",
    payload: dict | None = None,
    ordering_key: str = "",
    seq: int = 0,
    signer: Ed25519Signer | None = None,
    created_at: datetime | None = None,
    id: str | None = None,
) -> dict:
    """A sealed envelope in its JSON form, as a peer would send it."""
    sealed = seal(
        id=id or uuid7(),
        sender=sender,
        recipient=recipient,
        type=type,
        payload=payload if payload is not None else {"n": 1},
        ordering_key=ordering_key,
        seq=seq,
        signer=signer or KEYS[sender],
        created_at=created_at,
    )
    return envelope_to_dict(sealed)


def body(*envelopes: dict) -> bytes:
    return json.dumps({"envelopes": list(envelopes)}, ensure_ascii=False).encode()
