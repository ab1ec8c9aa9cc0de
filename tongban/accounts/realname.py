"""Real-name verification (实名认证).

A provider answers whether a name and ID number belong together. The default, ``CheckDigitVerifier``,
can only check what the number itself says (GB 11643 check digit, a real birth date, a known region
code); a node plugs in its province's identity service by naming another class in
``TONGBAN_REALNAME_VERIFIER``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError


@dataclass(frozen=True)
class Verdict:
    ok: bool
    id_number: str = ""  # compact, upper-case form when ok
    reason: str = ""


class RealNameVerifier(Protocol):
    def verify(self, *, name: str, id_number: str) -> Verdict: ...


class CheckDigitVerifier:
    """Checks the 18-digit 居民身份证号码 structure: region, birth date and check digit."""

    def verify(self, *, name: str, id_number: str) -> Verdict:
        if not name.strip():
            return Verdict(False, reason="姓名不能为空。")
        try:
            compact = ric.validate(id_number)
        except InvalidLength:
            return Verdict(False, reason="身份证号码应为18位。")
        except InvalidChecksum:
            return Verdict(False, reason="身份证号码校验位不正确。")
        except InvalidComponent:
            return Verdict(False, reason="身份证号码中的出生日期或地区代码无效。")
        except (InvalidFormat, ValidationError):
            return Verdict(False, reason="身份证号码格式不正确。")
        except (KeyError, ValueError):
            # python-stdnum 2.2's region table lacks fields for some historical codes and raises a
            # bare KeyError there; such a number cannot be confirmed, so it is refused, not a crash.
            return Verdict(False, reason="身份证号码中的地区代码无法核验。")
        if len(compact) != 18:
            return Verdict(False, reason="身份证号码应为18位。")
        return Verdict(True, id_number=compact.upper())


@lru_cache(maxsize=1)
def _provider(path: str) -> RealNameVerifier:
    return import_string(path)()


def get_verifier() -> RealNameVerifier:
    return _provider(settings.REALNAME_VERIFIER)
