"""Parties outside the federation that a bundle step calls (a bank). Each is an adapter with declared
inputs and outputs; the step runner retries what fails and shows it. The simulated bank stands in for
a real one in the demo and the tests: it opens an account appointment and returns an account number,
sometimes slowly, sometimes with an error, as real ones do."""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from stdnum import luhn


class ExternalError(Exception):
    """The party failed. ``retryable``: a timeout or a passing fault (try again later), or a refusal
    that trying again cannot fix."""

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class Adapter(Protocol):
    name: str
    label: str
    inputs: tuple[str, ...]
    required: tuple[str, ...]
    outputs: tuple[str, ...]

    def call(self, request_id: str, data: dict) -> dict: ...


@dataclass
class SimulatedBank:
    """银行开户预约 at a simulated bank. Deterministic per request id (tests can rely on it), with
    ``TONGBAN_SIMBANK_FAIL_RATE`` of first attempts failing and ``TONGBAN_SIMBANK_DELAY_MS`` of delay."""

    name: str = "bank"
    label: str = "银行开户预约"
    inputs: tuple[str, ...] = (
        "enterprise_name",
        "uscc",
        "bank_name",
        "legal_representative",
        "contact_phone",
    )
    required: tuple[str, ...] = ("enterprise_name", "uscc", "bank_name")
    outputs: tuple[str, ...] = ("bank_name", "bank_account", "appointment")
    calls: list = field(default_factory=list)

    def call(self, request_id: str, data: dict) -> dict:
        self.calls.append(request_id)
        seed = int.from_bytes(hashlib.sha256(f"{request_id}:{len(self.calls)}".encode()).digest()[:8], "big")
        rng = random.Random(seed)
        delay = settings.SIMBANK_DELAY_MS / 1000
        if delay:
            time.sleep(rng.uniform(0, delay))
        if rng.random() < settings.SIMBANK_FAIL_RATE:
            raise ExternalError("银行系统繁忙，请稍后再试（模拟）。", retryable=True)
        if data.get("uscc", "").startswith("00"):
            raise ExternalError("银行拒绝开户预约：统一社会信用代码无效（模拟）。", retryable=False)
        body = "6228" + "".join(str(rng.randrange(10)) for _ in range(14))
        account = body + luhn.calc_check_digit(body)  # bank card and account numbers carry a Luhn digit
        return {
            "bank_name": data["bank_name"],
            "bank_account": account,
            "appointment": f"请于 3 个工作日内携营业执照、公章到{data['bank_name']}任一网点办理开户。",
        }


_ADAPTERS: dict[str, Adapter] = {}


def register(adapter: Adapter) -> None:
    _ADAPTERS[adapter.name] = adapter


def adapter_for(name: str) -> Adapter | None:
    return _ADAPTERS.get(name)


register(SimulatedBank())
