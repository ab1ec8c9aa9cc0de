"""Electronic certificate identifiers (证照标识, GB/T 36904 practice).

``1.2.156.3005.2.<type code>.<issuer USCC>.<serial>.<version>.<check>``: the root arc of Chinese
electronic certificates, the certificate type's code, the 统一社会信用代码 of the issuing authority, a
serial number per issuer and type, the version (a change to a certificate is a new version, never an
edit), and an ISO 7064 MOD 37,36 check character computed over all the segments before it with the dots
left out (``stdnum.iso7064.mod_37_36``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from stdnum.cn import uscc
from stdnum.iso7064 import mod_37_36

ROOT = "1.2.156.3005.2"
SERIAL_DIGITS = 8
VERSION_DIGITS = 3
TYPE_CODE = re.compile(r"[0-9A-Z]{1,32}")
_SEGMENTS = re.compile(
    rf"{re.escape(ROOT)}\.(?P<type>[0-9A-Z]{{1,32}})\.(?P<issuer>[0-9A-Z]{{18}})\."
    rf"(?P<serial>[0-9]{{{SERIAL_DIGITS}}})\.(?P<version>[0-9]{{{VERSION_DIGITS}}})\.(?P<check>[0-9A-Z*])"
)


class IdentifierError(ValueError):
    """Not a well-formed certificate identifier; the message says why, in Chinese."""


@dataclass(frozen=True)
class Identifier:
    type_code: str
    issuer_code: str
    serial: int
    version: int

    @property
    def body(self) -> str:
        return (
            f"{ROOT}.{self.type_code}.{self.issuer_code}."
            f"{self.serial:0{SERIAL_DIGITS}d}.{self.version:0{VERSION_DIGITS}d}"
        )

    def __str__(self) -> str:
        return f"{self.body}.{check_character(self.body)}"

    def next_version(self) -> Identifier:
        return Identifier(self.type_code, self.issuer_code, self.serial, self.version + 1)


def check_character(body: str) -> str:
    return mod_37_36.calc_check_digit(body.replace(".", ""))


def identifier_make(*, type_code: str, issuer_code: str, serial: int, version: int = 1) -> Identifier:
    if not TYPE_CODE.fullmatch(type_code):
        raise IdentifierError(f"证照类型代码“{type_code}”只能由数字和大写字母组成。")
    if not uscc.is_valid(issuer_code):
        raise IdentifierError(f"颁证单位代码“{issuer_code}”不是有效的统一社会信用代码。")
    if not 0 < serial < 10**SERIAL_DIGITS:
        raise IdentifierError(f"顺序号 {serial} 超出范围（1 至 {10**SERIAL_DIGITS - 1}）。")
    if not 0 < version < 10**VERSION_DIGITS:
        raise IdentifierError(f"版本号 {version} 超出范围（1 至 {10**VERSION_DIGITS - 1}）。")
    return Identifier(type_code, issuer_code, serial, version)


_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"  # stdnum's, in its order
_VALUES = {c: i for i, c in enumerate(_ALPHABET)}


@lru_cache(maxsize=4096)
def _prefix_state(type_code: str, issuer_code: str) -> int:
    """stdnum's MOD 37,36 running value after the root, type and issuer segments. The check is a
    running fold over the characters, so the state after the part every certificate of one type
    and issuer shares is worked out once; the rest is folded on (verification speed)."""
    return mod_37_36.checksum(ROOT.replace(".", "") + type_code + issuer_code)


def _checksum(type_code: str, issuer_code: str, rest: str) -> int:
    check = _prefix_state(type_code, issuer_code)
    for c in rest:
        check = (((check or 36) * 2) % 37 + _VALUES[c]) % 36
    return check


def identifier_parse(text: str, *, check_issuer: bool = True) -> Identifier:
    """Reads and checks an identifier. Raises :class:`IdentifierError`.

    ``check_issuer=False`` skips re-checking the issuer code's own check character: verification
    does, since the code was checked when the certificate was issued and the signature covers it."""
    if not isinstance(text, str):
        raise IdentifierError("证照标识应为文本。")
    match = _SEGMENTS.fullmatch(text.strip())
    if match is None:
        raise IdentifierError(
            f"“{text[:80]}”不是证照标识（{ROOT}.类型代码.颁证单位代码.顺序号.版本号.校验位）。"
        )
    body = text.strip()[: -len(match["check"]) - 1]
    if _checksum(match["type"], match["issuer"], f"{match['serial']}{match['version']}{match['check']}") != 1:
        raise IdentifierError(f"证照标识 {text} 的校验位不对：应为 {check_character(body)}。")
    if check_issuer and not uscc.is_valid(match["issuer"]):
        raise IdentifierError(f"证照标识 {text} 中的颁证单位代码不是有效的统一社会信用代码。")
    return Identifier(match["type"], match["issuer"], int(match["serial"]), int(match["version"]))
