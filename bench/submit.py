"""Benchmark 1: applications submitted through ``POST /api/v1/cases``.

Target: at least 350 submissions/s with p99 ≤ 100 ms, 16 concurrent clients.

Each request is a complete, valid application as a program would send it: a reference item a citizen
may apply for online, a form generated from the item's JSON Schema (checked in process with the
product's own ``validate_form`` before it is sent), every required material (and some optional ones)
as a small valid PDF in Base64, and the citizen's bearer token. Clients cycle through a pool of
distinct requests from several citizens; every answer must be ``201``.
"""

from __future__ import annotations

import base64
import json
import random
import re

from bench.appserver import Server
from bench.common import Context, best_run, measured_run, pause_between_runs
from bench.datasets import ensure_citizens
from bench.env import log
from bench.forms import Unsupported, form_for
from bench.loadgen import build_request, fetch

NAME = "submit"
TITLE = "提交申请 POST /api/v1/cases"
CONCURRENCY = 16
TARGET_RPS = 350
TARGET_P99_MS = 100
POOL_SIZE = 600


def tiny_pdf(tag: str) -> bytes:
    """A small but well-formed one-page PDF (header, objects, cross-reference table, trailer)."""
    stream = f"BT /F1 12 Tf 72 720 Td (Tongban bench {tag}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _why(body: bytes) -> str:
    """The gist of a refusal: the problem code of a JSON answer, the title of an HTML error page."""
    text = body.decode("utf-8", "replace")
    try:
        doc = json.loads(text)
        return f"{doc.get('code', '')} {doc.get('title', '')}".strip()
    except ValueError:
        m = re.search(r"<title>(.*?)</title>", text, re.S)
        return m.group(1).strip() if m else text[:80]


def _candidate_items():
    """Reference items a citizen can apply for online at this node, with their materials."""
    from django.conf import settings

    from tongban.catalogue.constants import ItemStatus, ServiceMode, SubjectType
    from tongban.catalogue.models import ServiceItem
    from tongban.catalogue.selectors import item_get_for_application, item_materials

    codes = (
        ServiceItem.objects.filter(implementation_code__startswith="0", status=ItemStatus.PUBLISHED)
        .values_list("implementation_code", flat=True)
        .distinct()
    )
    out = []
    for code in sorted(codes):
        item = item_get_for_application(implementation_code=code)
        if item.subject_types and SubjectType.PERSON not in item.subject_types:
            continue
        if item.city_code != settings.NODE_CODE and ServiceMode.FULL_ONLINE not in item.modes:
            continue  # only 异地代收 at a window: not an online application
        out.append((item, item_materials(item)))
    return out


def _request_body(item, materials, rng: random.Random, n: int) -> dict:
    from tongban.cases.forms_schema import validate_form

    form = form_for(item.form_schema, rng)
    validate_form(item.form_schema, form)  # the product's own check: the form must be valid
    uploads = []
    for m in materials:
        if m.required or rng.random() < 0.3:
            pdf = tiny_pdf(f"{n}-{m.code}")
            uploads.append(
                {
                    "material": m.code,
                    "filename": f"{m.code}.pdf",
                    "content_base64": base64.b64encode(pdf).decode(),
                }
            )
    return {"item": item.implementation_code, "form": form, "materials": uploads, "client_token": ""}


def _build(port: int, tokens: list[str], items, rng: random.Random, size: int) -> list[bytes]:
    pool = []
    for n in range(size):
        item, materials = items[n % len(items)]
        body = json.dumps(_request_body(item, materials, rng, n), ensure_ascii=False).encode()
        pool.append(
            build_request(
                "POST",
                "/api/v1/cases",
                port=port,
                body=body,
                headers={
                    "Authorization": f"Bearer {tokens[n % len(tokens)]}",
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                },
            )
        )
    rng.shuffle(pool)
    return pool


def _floor(ctx: Context, pool: list[bytes], pool_port: int) -> dict:
    """The same requests answered by the stack's floor (``bench.floor``): read only, and read then
    committed as one row, on a server of the default configuration with the node's settings."""
    import psycopg

    from bench import floor

    with psycopg.connect(ctx.url, autocommit=True) as conn:
        conn.execute(floor.CREATE_TABLE)
    out = {}
    try:
        env = {**ctx.server_env, "DJANGO_SETTINGS_MODULE": "bench.floor.settings"}
        with Server(ctx.configs[0], env, log_dir=ctx.log_dir) as server:
            for path in ("read", "commit"):
                requests = [
                    r.replace(
                        f"Host: 127.0.0.1:{pool_port}".encode(), f"Host: 127.0.0.1:{server.port}".encode(), 1
                    ).replace(b"POST /api/v1/cases ", f"POST /bench-floor/{path} ".encode(), 1)
                    for r in pool
                ]
                pause_between_runs()
                out[path] = measured_run(
                    ctx,
                    server,
                    requests,
                    concurrency=CONCURRENCY,
                    ok_status=(201,),
                    label=f"floor /bench-floor/{path}",
                    duration=ctx.duration / 2,
                )
    finally:
        with psycopg.connect(ctx.url, autocommit=True) as conn:
            conn.execute(floor.DROP_TABLE)
    return out


def run(ctx: Context) -> dict:
    from tongban.accounts.services import api_token_issue

    citizens = ensure_citizens(ctx.sizes.citizens)
    tokens = [api_token_issue(user=u, name="bench") for u in citizens]
    rng = random.Random(350)
    items, skipped = [], []
    for item, materials in _candidate_items():
        try:
            _request_body(item, materials, random.Random(0), 0)
        except Unsupported as exc:
            skipped.append(f"{item.implementation_code} {item.name}: {exc}")
            continue
        items.append((item, materials))
    if not items:
        raise RuntimeError("no reference item a citizen can apply for online")
    pdf_size = len(tiny_pdf("0-x"))
    avg_materials = sum(sum(1 for m in ms if m.required) for _, ms in items) / len(items)
    runs = []
    refused: list[str] = []
    prev_port = 0
    for i, config in enumerate(ctx.configs):
        if i:
            pause_between_runs()
        with Server(config, ctx.server_env, log_dir=ctx.log_dir) as server:
            if i == 0:
                # One application per item first: an item the server refuses is left out, and said so.
                ok_items = []
                for item, materials in items:
                    req = _build(server.port, tokens, [(item, materials)], random.Random(1), 1)[0]
                    status, body = fetch(server.port, req)
                    if status == 201:
                        ok_items.append((item, materials))
                    else:
                        refused.append(f"{item.implementation_code} {item.name}: HTTP {status} {_why(body)}")
                if refused:
                    log(f"    items refused by the server and left out: {refused}")
                items = ok_items
                if not items:
                    raise RuntimeError(f"the server refused every application: {refused[:3]}")
                pool = _build(server.port, tokens, items, rng, POOL_SIZE if not ctx.quick else 60)
            else:
                pool = [
                    r.replace(
                        f"Host: 127.0.0.1:{prev_port}".encode(), f"Host: 127.0.0.1:{server.port}".encode(), 1
                    )
                    for r in pool
                ]
            prev_port = server.port
            if i == 0:
                # The floor under any request: the same server answering GET /healthz (one tiny query).
                health = [build_request("GET", "/healthz", port=server.port)]
                baseline = measured_run(
                    ctx,
                    server,
                    health,
                    concurrency=CONCURRENCY,
                    label="baseline /healthz",
                    duration=ctx.duration / 2,
                )
            runs.append(
                measured_run(ctx, server, pool, concurrency=CONCURRENCY, ok_status=(201,), label=NAME)
            )
    floor = _floor(ctx, pool, prev_port)
    best = best_run(runs)
    default = runs[0]
    return {
        "name": NAME,
        "title": TITLE,
        "method": {
            "endpoint": "POST /api/v1/cases (Bearer token)",
            "concurrency": CONCURRENCY,
            "citizens": len(citizens),
            "items": len(items),
            "item_codes": [i.implementation_code for i, _ in items],
            "request_pool": len(pool),
            "avg_required_materials": round(avg_materials, 2),
            "pdf_bytes": pdf_size,
            "avg_request_bytes": round(sum(len(r) for r in pool) / len(pool)),
            "skipped_items": skipped,
            "refused_items": refused,
        },
        "targets": {"throughput_rps": TARGET_RPS, "p99_ms": TARGET_P99_MS},
        "runs": runs,
        "baseline": baseline,
        "floor": floor,
        "best": best,
        "default": default,
        "pass": best["throughput_rps"] >= TARGET_RPS
        and best["p99_ms"] <= TARGET_P99_MS
        and best["errors"] == 0,
    }
