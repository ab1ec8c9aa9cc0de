"""One exception hierarchy for the whole product.

Services raise these; the API edge turns them into RFC 7807 problem+json bodies, the pages into a
message next to the field, the CLI into exit code 2. ``code`` is stable (programs rely on it);
``message`` is Chinese, for people, and translatable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FieldError:
    field: str
    message: str
    code: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": str(self.message), "code": self.code}


@dataclass
class TongbanError(Exception):
    code: str
    message: str
    status: int = 400
    errors: list[FieldError] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.code}: {self.message}")

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def problem(self) -> dict[str, Any]:
        """The RFC 7807 body of this error."""
        body: dict[str, Any] = {
            "type": f"urn:tongban:error:{self.code}",
            "title": str(self.message),
            "status": self.status,
            "code": self.code,
        }
        if self.errors:
            body["errors"] = [e.as_dict() for e in self.errors]
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(TongbanError):
    """The request is well-formed but its content is not acceptable (422)."""

    def __init__(self, code: str, message: str, *, errors=None, details=None, status: int = 422):
        super().__init__(
            code=code, message=message, status=status, errors=errors or [], details=details or {}
        )


class NotFound(TongbanError):
    def __init__(self, code: str, message: str, *, details=None):
        super().__init__(code=code, message=message, status=404, details=details or {})


class Forbidden(TongbanError):
    def __init__(self, code: str, message: str, *, details=None):
        super().__init__(code=code, message=message, status=403, details=details or {})


class Conflict(TongbanError):
    """The change is not allowed in the object's current state (409)."""

    def __init__(self, code: str, message: str, *, details=None):
        super().__init__(code=code, message=message, status=409, details=details or {})


class Unauthenticated(TongbanError):
    def __init__(self, code: str = "NOT_AUTHENTICATED", message: str = "请先登录。", *, details=None):
        super().__init__(code=code, message=message, status=401, details=details or {})
