"""Reading settings from the environment.

Every setting a node reads is read through these helpers in ``settings.py``, next to a comment that
describes it, so ``settings.py`` is the one place to learn how to configure a node.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


SECRET_NAMES = ("SECRET_KEY", "PII_KEY", "PII_HASH_KEY", "NODE_KEY_PASSPHRASE")


def local_secrets(var_dir: Path) -> dict[str, str]:
    """Development secrets, generated on first run into ``var/secrets.json`` (git ignores ``var/``).

    Production nodes set ``TONGBAN_SECRET_KEY``, ``TONGBAN_PII_KEY``, ``TONGBAN_PII_HASH_KEY`` and
    ``TONGBAN_NODE_KEY_PASSPHRASE`` instead; a value in the environment always wins over the file.
    """
    path = var_dir / "secrets.json"
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text())
    missing = [name for name in SECRET_NAMES if name not in stored]
    if missing:
        for name in missing:
            stored[name] = secrets.token_urlsafe(32) if name == "SECRET_KEY" else secrets.token_hex(32)
        var_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stored, indent=2))
        tmp.chmod(0o600)
        tmp.replace(path)
    return {name: os.environ.get(f"TONGBAN_{name}") or stored[name] for name in SECRET_NAMES}
