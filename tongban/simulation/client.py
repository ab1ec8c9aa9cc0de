"""Drives a node over its HTTP API like any client: tokens, requests, and applications that pass the
item's own form schema and material list."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from stdnum.cn import uscc

# The smallest file the upload check accepts as a PDF.
PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PDF_BASE64 = base64.b64encode(PDF_BYTES).decode()
_SAMPLE_USCC = "91310000MA1FL0A01" + uscc.calc_check_digit("91310000MA1FL0A01")
# Values tried, in turn, for a string field with a pattern (phone numbers, credit codes).
_PATTERN_CANDIDATES = ("13800138000", _SAMPLE_USCC, "310000", "测试内容", "A1")


class ApiError(Exception):
    def __init__(self, status: int, body: Any, what: str):
        super().__init__(f"{what} → HTTP {status}: {body}")
        self.status, self.body = status, body


class NodeClient:
    """One node's API. Thread-safe: tokens are cached per user name."""

    def __init__(self, url: str, accounts: dict[str, str], *, timeout: float = 30.0):
        self.url, self.accounts, self.timeout = url.rstrip("/"), accounts, timeout
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()

    def token(self, username: str) -> str:
        with self._lock:
            cached = self._tokens.get(username)
        if cached:
            return cached
        # reviewerN (one per authority) share the reviewer's password in the demo accounts
        password = self.accounts.get(username) or self.accounts["reviewer"]
        status, body = self.call(
            "POST", "/api/v1/auth/token", {"username": username, "password": password, "name": "simulation"}
        )
        if status != 201:
            raise ApiError(status, body, f"token for {username} at {self.url}")
        with self._lock:
            self._tokens[username] = body["token"]
        return body["token"]

    def call(self, method: str, path: str, body: Any = None, *, user: str | None = None) -> tuple[int, Any]:
        """(status, parsed body); a network failure raises ``OSError``."""
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if user:
            req.add_header("Authorization", f"Bearer {self.token(user)}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                status, payload = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, payload = e.code, e.read()
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = payload[:300].decode("utf-8", "replace")
        return status, parsed

    def request(
        self, method: str, path: str, body: Any = None, *, user: str | None = None, expect: int = 200
    ):
        status, parsed = self.call(method, path, body, user=user)
        if status != expect:
            raise ApiError(status, parsed, f"{method} {path}")
        return parsed

    def wait_for(self, predicate, *, timeout: float = 30.0, interval: float = 0.3, what: str = ""):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(interval)
        raise TimeoutError(f"{self.url}: not within {timeout:.0f} s: {what} (last: {last!r})")


def fill_form(schema: dict) -> dict:
    """A form that satisfies ``schema`` for the usual field kinds (only its required fields)."""
    form: dict[str, Any] = {}
    for key in schema.get("required", []):
        form[key] = _value(schema.get("properties", {}).get(key, {}))
    return form


def _value(prop: dict) -> Any:
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop.get("type")
    if kind in ("number", "integer"):
        low = prop.get("minimum", prop.get("exclusiveMinimum", 0) + 1)
        return max(int(low), 1)
    if kind == "boolean":
        return True
    if kind == "array":
        item = prop.get("items", {})
        return [fill_form(item) if item.get("type") == "object" else _value(item)] * max(
            1, prop.get("minItems", 1)
        )
    if kind == "object":
        return fill_form(prop)
    if prop.get("format") == "date":
        return "2026-12-01"
    if "pattern" in prop:
        import re

        return next((c for c in _PATTERN_CANDIDATES if re.search(prop["pattern"], c)), "")
    text = "测试内容"
    return text * max(1, -(-prop.get("minLength", 1) // len(text)))


def form_valid(schema: dict, form: dict) -> bool:
    from jsonschema import Draft202012Validator, FormatChecker

    return not any(Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(form))


def application(
    item_code: str, schema: dict, required_materials: list[tuple[str, str]], *, token: str = ""
) -> dict:
    """The body of ``POST /api/v1/cases`` for an item: a valid form and a PDF for each required material
    ([(code, name)]). ``token`` is the client token that makes a retried submission return the same case."""
    return {
        "item": item_code,
        "form": fill_form(schema),
        "materials": [
            {"material": code, "filename": f"{name}.pdf", "content_base64": PDF_BASE64}
            for code, name in required_materials
        ],
        "client_token": token,
    }


def application_from_api(client: NodeClient, item_code: str, *, token: str = "") -> dict:
    detail = client.request("GET", f"/api/v1/items/{item_code}")
    required = [(m["code"], m["name"]) for m in detail["materials"] if m["required"]]
    return application(item_code, detail["form_schema"], required, token=token)
