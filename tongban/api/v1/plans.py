"""API v1: plan supervision (推进督办)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["推进督办"])
