"""API v1: proposal handling (建议提案办理)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["建议提案"])
