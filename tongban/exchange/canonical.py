"""The one canonical form of JSON that nodes sign: RFC 8785 (JSON Canonicalization Scheme, JCS).

Object members are sorted by the UTF-16 code units of their names, strings are escaped minimally and
written as UTF-8, numbers are written as ECMAScript writes an IEEE 754 double (``1e+21``, ``0.1``,
``4.5``), no whitespace. Two nodes that parse the same document get the same bytes, so a signature
made over them by one verifies at the other whatever the JSON library or key order on the wire.

What JCS cannot represent is refused with :class:`CanonicalError`: NaN and infinities, integers outside
±(2**53 - 1) (I-JSON), strings with lone surrogates, keys that are not strings, and any other type.

:func:`loads_strict` parses what a peer sent the way JCS expects it (I-JSON, RFC 7493): duplicate
member names and the non-standard constants ``NaN`` / ``Infinity`` are refused instead of being
silently resolved differently by different parsers.

Times are written in one form only, UTC with milliseconds: ``2026-11-21T10:00:00.123Z``
(:func:`format_time` / :func:`parse_time`), so a time read back and written again is the same text.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import rfc8785


class CanonicalError(ValueError):
    """The value has no RFC 8785 canonical form (or the text is not I-JSON)."""


def canonical_bytes(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``value`` (dicts, lists/tuples, str, int, float, bool, None)."""
    if _json_is_jcs(value):
        try:
            return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
                "utf-8"
            )
        except UnicodeEncodeError:  # a lone surrogate: rfc8785 says so in its words below
            pass
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise CanonicalError(str(exc)) from exc
    except UnicodeError as exc:  # rfc8785 0.1.4 lets this through for a lone surrogate in a member name
        raise CanonicalError("input contains non-UTF-8 codepoints") from exc
    except RecursionError as exc:
        raise CanonicalError("nesting too deep") from exc


_ASTRAL = "\U00010000"


def _json_is_jcs(value: Any) -> bool:
    """Whether the standard library's ``json.dumps`` (sorted keys, no spaces, UTF-8) writes exactly
    the RFC 8785 form of ``value``: several times faster than the pure-Python ``rfc8785``.

    True when there is no float (ECMAScript number formatting differs from Python's), every integer
    is within ±(2**53 - 1), every key is a string without characters beyond the BMP (JCS sorts by
    UTF-16 code units, Python by code points: they differ only there), and every value is exactly a
    dict, list, tuple, str, int, bool or None. Strings are escaped alike (the short escapes ``\\b \\f
    \\n \\r \\t``, ``\\u00xx`` for other control characters, nothing else); a lone surrogate
    fails the UTF-8 encoding and falls back to ``rfc8785``, which refuses it.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is int:
            if not -_SAFE_INT <= item <= _SAFE_INT:
                return False
        elif kind is dict:
            for key in item:
                if type(key) is not str or (not key.isascii() and max(key) >= _ASTRAL):
                    return False
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        else:
            return False
    return True


_SAFE_INT = 2**53 - 1


def check_canonical(value: Any) -> None:
    """Raises :class:`CanonicalError` exactly when :func:`canonical_bytes` would, without writing
    anything (several times cheaper: for checking a value that is canonicalised later anyway)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise CanonicalError("input contains non-UTF-8 codepoints") from None
        elif isinstance(item, int):
            if not -_SAFE_INT <= item <= _SAFE_INT:
                raise CanonicalError(f"{item} exceeds safe integer domain for JSON floats")
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                raise CanonicalError(f"{item} is not representable in JCS")
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, member in item.items():
                if not isinstance(key, str):
                    raise CanonicalError("object keys must be strings")
                stack.append(key)
                stack.append(member)
        else:
            raise CanonicalError(f"unsupported type: {type(item)}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise CanonicalError(f"duplicate member name {key!r}")
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    raise CanonicalError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise CanonicalError(f"number {text} is out of range")
    return number


def loads_strict(data: bytes | str) -> Any:
    """Parses I-JSON: UTF-8, no duplicate member names, no NaN/Infinity, finite numbers.

    Raises :class:`CanonicalError` (a ``ValueError``) for anything else, with a reason in English for
    the log; callers turn it into their own coded error.
    """
    try:
        if isinstance(data, bytes | bytearray):
            data = bytes(data).decode("utf-8")
        return json.loads(
            data,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constants,
            parse_float=_finite_float,
        )
    except CanonicalError:
        raise
    except UnicodeDecodeError as exc:
        raise CanonicalError("not UTF-8") from exc
    except RecursionError as exc:
        raise CanonicalError("nesting too deep") from exc
    except ValueError as exc:  # json.JSONDecodeError
        raise CanonicalError(str(exc)) from exc


_TIME_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def truncate_ms(at: datetime) -> datetime:
    """``at`` in UTC, cut to whole milliseconds (what :func:`format_time` can carry). Naive → ValueError."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a time zone-aware datetime is required")
    at = at.astimezone(UTC)
    return at.replace(microsecond=at.microsecond - at.microsecond % 1000)


def format_time(at: datetime) -> str:
    """``2026-11-21T10:00:00.123Z``: UTC, milliseconds (sub-millisecond digits are dropped)."""
    at = truncate_ms(at)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    """Reads exactly the form :func:`format_time` writes; anything else raises ``ValueError``."""
    if not isinstance(text, str) or not _TIME_TEXT.fullmatch(text):
        raise ValueError("not a time of the form YYYY-MM-DDTHH:MM:SS.mmmZ")
    at = datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return at + timedelta(milliseconds=int(text[20:23]))
