"""The floor endpoints (see ``bench.floor``), then every URL of the product."""

from __future__ import annotations

import base64
import hashlib
import json

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bench.floor import TABLE
from tongban.api.v1.auth import TokenAuth

_auth = TokenAuth()


def _read(request: HttpRequest):
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    user = _auth.authenticate(request, token) if scheme.lower() == "bearer" else None
    if user is None:
        return None, None
    body = json.loads(request.body)
    digests = [
        hashlib.sha256(base64.b64decode(m["content_base64"], validate=True)).hexdigest()
        for m in body["materials"]
    ]
    return user, {**body, "materials": digests}


@csrf_exempt
@require_POST
def read(request: HttpRequest) -> JsonResponse:
    user, body = _read(request)
    if user is None:
        return JsonResponse({"code": "UNAUTHORIZED"}, status=401)
    return JsonResponse({"materials": len(body["materials"])}, status=201)


@csrf_exempt
@require_POST
def commit(request: HttpRequest) -> JsonResponse:
    user, body = _read(request)
    if user is None:
        return JsonResponse({"code": "UNAUTHORIZED"}, status=401)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (user_id, body) VALUES (%s, %s) RETURNING id",
            [user.pk, json.dumps(body, ensure_ascii=False)],
        )
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)


urlpatterns = [
    path("bench-floor/read", read),
    path("bench-floor/commit", commit),
    path("", include("tongban.config.urls")),
]
