"""Reads of the service catalogue.

"The current version" of an item (one 实施编码) is its highest version that is not a draft: a newer
draft does not hide the published version, a newer withdrawn version does (the item is withdrawn).
"""

from __future__ import annotations

import json

from django.db import connections
from django.db.models import Exists, OuterRef, QuerySet, TextField
from django.db.models.functions import Cast

from tongban.catalogue import error_codes, search
from tongban.catalogue.constants import ItemStatus, ServiceMode, SubjectType
from tongban.catalogue.models import Material, ServiceItem
from tongban.core.errors import Conflict, InvalidInput, NotFound
from tongban.regions import divisions
from tongban.regions.models import MUNICIPALITIES, Region


def _current_versions(queryset: QuerySet[ServiceItem]) -> QuerySet[ServiceItem]:
    newer = ServiceItem.objects.filter(
        implementation_code=OuterRef("implementation_code"), version__gt=OuterRef("version")
    ).exclude(status=ItemStatus.DRAFT)
    return queryset.exclude(status=ItemStatus.DRAFT).filter(~Exists(newer))


def _has_list_member(queryset: QuerySet, field: str, value: str) -> QuerySet:
    """Rows whose JSON list ``field`` contains ``value``.

    PostgreSQL answers ``@>``; SQLite has no JSON containment lookup, so there the list's JSON text
    is matched for the quoted value (the values are enum members, none a substring of another).
    """
    if connections[queryset.db].features.supports_json_field_contains:
        return queryset.filter(**{f"{field}__contains": [value]})
    alias = f"{field}_json_text"
    return queryset.alias(**{alias: Cast(field, TextField())}).filter(
        **{f"{alias}__contains": json.dumps(value)}
    )


def _check_city(city_code: str) -> None:
    division = divisions.lookup(city_code) if len(city_code) == 6 and city_code.isdigit() else None
    if division is None or not (city_code in MUNICIPALITIES or division.level == "city"):
        raise InvalidInput(
            error_codes.UNKNOWN_CITY, f"城市代码“{city_code}”无效：应为地级市或直辖市的六位区划代码。"
        )


def item_search(
    *,
    query: str = "",
    city_code: str | None = None,
    mode: str | None = None,
    subject_type: str | None = None,
    include_withdrawn: bool = False,
) -> QuerySet[ServiceItem] | search.SearchResults:
    """Items matching the query (Chinese, full pinyin or pinyin initials), best match first.

    Only the current version of each item, and only published ones unless ``include_withdrawn``.
    Empty filters mean "any". One query, with the authority and region joined in.
    """
    queryset = _current_versions(ServiceItem.objects.all())
    if include_withdrawn:
        queryset = queryset.filter(status__in=[ItemStatus.PUBLISHED, ItemStatus.WITHDRAWN])
    else:
        queryset = queryset.filter(status=ItemStatus.PUBLISHED)
    if city_code:
        _check_city(city_code)
        queryset = queryset.filter(city_code=city_code)
    if mode:
        if mode not in ServiceMode.values:
            raise InvalidInput(
                error_codes.UNKNOWN_MODE,
                f"跨省通办方式“{mode}”无效：应为 {'、'.join(ServiceMode.values)} 之一。",
            )
        queryset = _has_list_member(queryset, "modes", mode)
    if subject_type:
        if subject_type not in SubjectType.values:
            raise InvalidInput(
                error_codes.UNKNOWN_SUBJECT_TYPE,
                f"服务对象“{subject_type}”无效：应为 {'、'.join(SubjectType.values)} 之一。",
            )
        queryset = _has_list_member(queryset, "subject_types", subject_type)
    # Listings never show these wide columns; an item page reads the item again.
    listing = queryset.select_related("authority", "region").defer(
        "form_schema", "process", "conditions", "legal_basis", "search_text", "keywords"
    )
    return search.apply(listing, query)


def item_get(*, implementation_code: str) -> ServiceItem:
    """The current version of an item, published or withdrawn; ``ITEM_NOT_FOUND`` otherwise."""
    # For one code the current version is simply the highest that is not a draft: read that row
    # by the (code, version) index instead of testing each version for a newer one.
    item = (
        ServiceItem.objects.filter(implementation_code=implementation_code)
        .exclude(status=ItemStatus.DRAFT)
        .select_related("authority", "region")
        .order_by("-version")
        .first()
    )
    if item is None:
        raise NotFound(error_codes.ITEM_NOT_FOUND, f"未找到实施编码为“{implementation_code}”的政务服务事项。")
    return item


def item_get_for_application(*, implementation_code: str) -> ServiceItem:
    """The current version of an item that takes applications, with its materials; a withdrawn item
    is refused. Kept per process while the catalogue does not change (``catalogue.current``)."""
    from tongban.catalogue.current import current_item

    item = current_item(implementation_code, lambda code: item_get(implementation_code=code))
    if item.status != ItemStatus.PUBLISHED:
        raise Conflict(error_codes.ITEM_WITHDRAWN, "该事项已撤销，不再受理申请。")
    return item


def cities_with_items() -> list[Region]:
    """The cities (地级市 and 直辖市) that have at least one published item, by division code."""
    codes = _current_versions(ServiceItem.objects.filter(status=ItemStatus.PUBLISHED)).values("city_code")
    return list(Region.objects.filter(code__in=codes).order_by("code"))


def item_materials(item: ServiceItem) -> list[Material]:
    """The item's materials in the order they are told to the applicant (一次告知). Read once per
    item object and kept on it (``catalogue.current`` keeps such objects between requests)."""
    cached = getattr(item, "_materials_cache", None)
    if cached is None:
        cached = item._materials_cache = list(item.materials.all())
    return cached


def joint_counterpart(*, item: ServiceItem, city_code: str) -> ServiceItem | None:
    """多地联办: the same item (same 基本编码) as the partner city publishes it, if it does."""
    return (
        _current_versions(ServiceItem.objects.filter(basic_code=item.basic_code, city_code=city_code))
        .filter(status=ItemStatus.PUBLISHED)
        .select_related("authority")
        .order_by("implementation_code")
        .first()
    )


def joint_partner_cities(*, item: ServiceItem) -> list[Region]:
    """The cities that publish a counterpart of this item, for choosing where the other part is done."""
    codes = (
        _current_versions(ServiceItem.objects.filter(basic_code=item.basic_code))
        .filter(status=ItemStatus.PUBLISHED)
        .exclude(city_code=item.city_code)
        .values_list("city_code", flat=True)
        .distinct()
    )
    return list(Region.objects.filter(code__in=list(codes)).order_by("code"))
