"""The federation endpoint other nodes deliver to (``/federation/v1/``).

``POST envelopes``: body ``{"envelopes": [<envelope>, …]}``, answer ``{"results": [{"id", "status",
"code", "reason"}, …]}`` one per envelope in order (``inbox.receive`` does the work). Whole-request
faults are answered with an RFC 7807 problem+json body and a stable code: ``BODY_TOO_LARGE`` (413,
checked before anything is read or parsed), ``ENVELOPE_MALFORMED`` (400, not I-JSON or not of that
shape). Bad input never gets a 5xx; only the node's own failure to store does (503, retried).

``GET health``: this node's code and how usable its trust list is.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from tongban.core.errors import TongbanError
from tongban.exchange import error_codes as codes
from tongban.exchange import inbox
from tongban.exchange.canonical import CanonicalError, loads_strict

logger = logging.getLogger(__name__)

# More envelopes than this in one request is refused as too large (the relay then splits its batch).
MAX_ENVELOPES_PER_REQUEST = 1000
INBOX_UNAVAILABLE = "INBOX_UNAVAILABLE"  # this node could not store the envelopes: try again later
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"


def _problem(error: TongbanError) -> JsonResponse:
    return JsonResponse(
        error.problem(),
        status=error.status,
        content_type="application/problem+json",
        json_dumps_params={"ensure_ascii": False},
    )


def _refuse(request: HttpRequest, code: str, message: str, status: int) -> JsonResponse:
    """A refused request: logged and recorded like a refused envelope, answered as problem+json."""
    try:
        inbox.record_rejections(
            [inbox.rejection(code=code, reason=message, remote_addr=request.META.get("REMOTE_ADDR", ""))]
        )
    except DatabaseError:
        logger.exception("could not record a refused request")
    return _problem(TongbanError(code=code, message=message, status=status))


@csrf_exempt
@never_cache
def envelopes(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        response = _problem(TongbanError(code=METHOD_NOT_ALLOWED, message="只接受 POST。", status=405))
        response["Allow"] = "POST"
        return response
    limit = settings.EXCHANGE_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _refuse(
            request, codes.BODY_TOO_LARGE, f"请求体 {declared} 字节，超过了本节点 {limit} 字节的上限。", 413
        )
    body = request.read(limit + 1)
    if len(body) > limit:
        return _refuse(request, codes.BODY_TOO_LARGE, f"请求体超过了本节点 {limit} 字节的上限。", 413)
    try:
        document = loads_strict(body)
    except CanonicalError as exc:
        return _refuse(
            request, codes.ENVELOPE_MALFORMED, f"请求体不是合法的 JSON（UTF-8，无重复字段名）：{exc}", 400
        )
    if (
        not isinstance(document, dict)
        or set(document) != {"envelopes"}
        or not isinstance(document["envelopes"], list)
    ):
        return _refuse(
            request, codes.ENVELOPE_MALFORMED, '请求体应为 {"envelopes": [信封, …]}，且不含其他字段。', 400
        )
    if len(document["envelopes"]) > MAX_ENVELOPES_PER_REQUEST:
        return _refuse(
            request,
            codes.BODY_TOO_LARGE,
            f"一次请求最多 {MAX_ENVELOPES_PER_REQUEST} 个信封，本请求有 {len(document['envelopes'])} 个。",
            413,
        )
    try:
        results = inbox.receive(document["envelopes"], remote_addr=request.META.get("REMOTE_ADDR", ""))
    except DatabaseError:
        logger.exception("could not store received envelopes")
        return _problem(
            TongbanError(code=INBOX_UNAVAILABLE, message="本节点暂时无法保存信封，请稍后重发。", status=503)
        )
    return JsonResponse({"results": results}, json_dumps_params={"ensure_ascii": False})


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """200 when this node can send and accept envelopes, 503 (with the trust list's code) when not."""
    from tongban.exchange.trust import trust_status

    try:
        status = trust_status()
    except Exception as exc:  # a database that does not answer
        logger.exception("federation health check failed")
        return JsonResponse(
            {"node": settings.NODE_CODE, "status": "unavailable", "reason": type(exc).__name__}, status=503
        )
    body = {
        "node": settings.NODE_CODE,
        "name": settings.NODE_NAME,
        "status": "ok" if status.usable else "unavailable",
        "trust_list": {
            "version": status.version,
            "state": status.state,
            "usable": status.usable,
            "next_update": status.as_dict()["next_update"],
            "error_code": status.error_code,
        },
    }
    return JsonResponse(body, status=200 if status.usable else 503, json_dumps_params={"ensure_ascii": False})
