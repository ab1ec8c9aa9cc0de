"""Batch actions on the workbench queue: the same services as one case at a time, case by case.

Each case is its own transaction, so one refusal (taken meanwhile by a colleague, status changed)
leaves the others done; the result says which were done and why each other one was not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tongban.accounts.models import User
from tongban.cases import error_codes, services
from tongban.cases.constants import CaseAction
from tongban.core.errors import InvalidInput, TongbanError

BATCH_LIMIT = 50
# Only actions that need no reason or notice of their own; the others are decided case by case.
BATCH_ACTIONS = {
    CaseAction.ACCEPT: lambda actor, number: services.case_accept(actor=actor, number=number),
    CaseAction.START_REVIEW: lambda actor, number: services.case_start_review(actor=actor, number=number),
}


@dataclass
class BatchResult:
    done: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (number, message)


def case_batch_apply(*, actor: User, numbers: list[str], action: str) -> BatchResult:
    run = BATCH_ACTIONS.get(action)
    if run is None:
        raise InvalidInput(error_codes.TRANSITION_NOT_ALLOWED, "该操作不能批量办理，请逐件处理。")
    numbers = list(dict.fromkeys(n.strip() for n in numbers if n and n.strip()))
    if not numbers:
        raise InvalidInput(error_codes.FORM_INVALID, "请至少选择一件办件。")
    if len(numbers) > BATCH_LIMIT:
        raise InvalidInput(error_codes.FORM_INVALID, f"一次最多批量办理 {BATCH_LIMIT} 件。")
    result = BatchResult()
    for number in numbers:
        try:
            run(actor, number)
        except TongbanError as exc:
            result.refused.append((number, str(exc.message)))
        else:
            result.done.append(number)
    return result
