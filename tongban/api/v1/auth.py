"""Token authentication for programs; session authentication (with CSRF) for the pages' own scripts."""

from __future__ import annotations

import copy
import time

from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from tongban.accounts.models import ApiToken, User

# A program sends its token with every request; looking it up (with the user and organisation) was
# about a sixth of a queue request's time. Each process keeps what it found for this long, so a
# revoked token, a deactivated account or a changed role takes effect within this many seconds
# (ADR 0003). Unknown tokens are never kept: a wrong guess always costs a query.
TOKEN_CACHE_SECONDS = 5.0
# Bounds memory against many distinct tokens; the cache is simply emptied when full.
TOKEN_CACHE_MAX = 10_000
# last_used_at is coarse on purpose: a write per request would cost more than the read it follows.
LAST_USED_RESOLUTION_SECONDS = 300

_cache: dict[str, tuple[float, User]] = {}


def _user_for(key_hash: str) -> User | None:
    row = (
        ApiToken.objects.select_related("user", "user__organisation")
        .filter(key_hash=key_hash, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if row is None:
        return None
    now = timezone.now()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


def clear_token_cache() -> None:
    _cache.clear()


class TokenAuth(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request, token: str):
        key_hash = ApiToken.hash_key(token)
        now = time.monotonic()
        hit = _cache.get(key_hash)
        if hit is not None and hit[0] > now:
            user = hit[1]
        else:
            user = _user_for(key_hash)
            if user is None:
                _cache.pop(key_hash, None)
                return None
            if len(_cache) >= TOKEN_CACHE_MAX:
                _cache.clear()
            _cache[key_hash] = (now + TOKEN_CACHE_SECONDS, user)
        # Each request gets its own copy: threads share the cached one, and a request may set
        # attributes on its user.
        user = copy.copy(user)
        request.user = user
        return user


AUTH = [TokenAuth(), SessionAuth()]
