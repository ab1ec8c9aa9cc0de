"""办件编号: receiving node's division code, date, daily sequence, check character.

``340100`` + ``20261121`` + ``000042`` + check = 21 characters, e.g. ``34010020261121000042X``.
The check character is ISO 7064 MOD 11-2 (as in the 18-digit ID number), so a mistyped number is
caught before any look-up.
"""

from __future__ import annotations

from datetime import date

from django.db import connections, router
from stdnum.iso7064 import mod_11_2

from tongban.cases.models import CaseNumberCounter


def format_number(node_code: str, day: date, seq: int) -> str:
    body = f"{node_code}{day:%Y%m%d}{seq:06d}"
    return body + mod_11_2.calc_check_digit(body)


def is_valid_number(number: str) -> bool:
    return len(number) == 21 and number[:20].isdigit() and mod_11_2.is_valid(number)


def allocate(node_code: str, day: date) -> str:
    """Takes the next number, committed on its own before the case's transaction starts.

    One upsert statement, so the counter row is locked for that statement only, not
    for the whole submission; a submission that then fails leaves a gap in the sequence, which is
    harmless (numbers are unique, not dense).
    """
    return allocate_many(node_code, day, 1)[0]


def allocate_many(node_code: str, day: date, count: int) -> list[str]:
    """``count`` consecutive numbers in the same one statement (a bundle takes its own and its first
    steps' at once)."""
    if count < 1:
        return []
    table = CaseNumberCounter._meta.db_table
    sql = (
        f"INSERT INTO {table} (node_code, day, last) VALUES (%s, %s, %s) "
        f"ON CONFLICT (node_code, day) DO UPDATE SET last = {table}.last + %s RETURNING last"
    )
    with connections[router.db_for_write(CaseNumberCounter)].cursor() as cursor:
        cursor.execute(sql, [node_code, day, count, count])
        last = cursor.fetchone()[0]
    return [format_number(node_code, day, seq) for seq in range(last - count + 1, last + 1)]
