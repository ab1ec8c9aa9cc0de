"""Writes for regions and organisations."""

from __future__ import annotations

from django.db import transaction
from stdnum.cn import uscc as uscc_std
from stdnum.exceptions import ValidationError as StdnumError

from tongban.core.errors import InvalidInput
from tongban.regions import divisions, error_codes
from tongban.regions.models import Organisation, Region


def validate_uscc(value: str) -> str:
    """A valid 统一社会信用代码 in its compact form, or an ``INVALID_USCC`` error (GB 32100-2015)."""
    try:
        return uscc_std.validate(value)
    except StdnumError:
        raise InvalidInput(
            error_codes.INVALID_USCC,
            f"统一社会信用代码“{value}”无效：应为18位，且校验位正确。",
        ) from None


@transaction.atomic
def regions_sync_yrd() -> int:
    """Creates or updates the YRD divisions from the division-code package; returns how many exist."""
    known = set(Region.objects.values_list("code", flat=True))
    rows = divisions.yrd_divisions()
    for d in rows:  # parents come before children in this list
        if d.code in known:
            Region.objects.filter(code=d.code).update(name=d.name, level=d.level, parent_id=d.parent_code)
        else:
            Region.objects.create(code=d.code, name=d.name, level=d.level, parent_id=d.parent_code)
    return len(rows)


def organisation_upsert(*, uscc: str, name: str, kind: str, region_code: str, **extra) -> Organisation:
    code = validate_uscc(uscc)
    if not Region.objects.filter(code=region_code).exists():
        raise InvalidInput(error_codes.UNKNOWN_REGION, f"行政区划代码“{region_code}”不存在。")
    org, _ = Organisation.objects.update_or_create(
        uscc=code, defaults={"name": name, "kind": kind, "region_id": region_code, **extra}
    )
    return org
