"""Writes for the service catalogue: publication, withdrawal, search index upkeep."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from tongban.accounts.constants import Role
from tongban.catalogue import error_codes, search
from tongban.catalogue.constants import ItemStatus
from tongban.catalogue.models import ServiceItem
from tongban.core import audit
from tongban.core.errors import Conflict, Forbidden, InvalidInput


def form_schema_problems(schema: Any) -> list[str]:
    """What is wrong with an item's 一表登记 form schema (empty when nothing is).

    It must be a valid JSON Schema (draft 2020-12) of an object whose every field has a Chinese
    ``title`` and whose ``required`` names only fields it defines.
    """
    if not isinstance(schema, dict):
        return ["申请表应为 JSON 对象"]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path)
        return [
            f"不是有效的 JSON Schema（draft 2020-12）：{exc.message}"
            + (f"（位置：{where}）" if where else "")
        ]
    problems = []
    if schema.get("type") != "object":
        problems.append("顶层 type 应为 object")
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        problems.append("应至少定义一个字段（properties）")
        properties = {}
    for key, spec in properties.items():
        if not isinstance(spec, dict) or not spec.get("title"):
            problems.append(f"字段“{key}”缺少 title（中文名称）")
    for key in schema.get("required", []):
        if key not in properties:
            problems.append(f"必填字段“{key}”未在 properties 中定义")
    return problems


def _check_catalogue_admin(actor) -> None:
    allowed = actor is not None and (
        getattr(actor, "is_superuser", False) or (hasattr(actor, "has_role") and actor.has_role(Role.ADMIN))
    )
    if not allowed:
        raise Forbidden(error_codes.CATALOGUE_ADMIN_REQUIRED, "只有目录管理员可以发布或撤销政务服务事项。")


def _lock(item: ServiceItem) -> ServiceItem:
    return ServiceItem.objects.select_for_update().get(pk=item.pk)


def _refresh(item: ServiceItem, source: ServiceItem, fields: list[str]) -> None:
    for name in fields:
        setattr(item, name, getattr(source, name))


@transaction.atomic
def item_publish(*, item: ServiceItem, actor) -> ServiceItem:
    """Publishes a draft (or withdrawn) item version: it becomes searchable and open to applications."""
    _check_catalogue_admin(actor)
    locked = _lock(item)
    if locked.status == ItemStatus.PUBLISHED:
        raise Conflict(error_codes.ITEM_ALREADY_PUBLISHED, f"事项“{locked.name}”已发布。")
    problems = form_schema_problems(locked.form_schema)
    if problems:
        raise InvalidInput(
            error_codes.INVALID_FORM_SCHEMA,
            f"事项“{locked.name}”的申请表无效：{'；'.join(problems)}。",
            details={"implementation_code": locked.implementation_code, "problems": problems},
        )
    previous = locked.status
    locked.status = ItemStatus.PUBLISHED
    locked.published_at = timezone.now()
    locked.search_text = search.search_text_for(name=locked.name, keywords=locked.keywords)
    fields = ["status", "published_at", "search_text", "updated_at"]
    locked.save(update_fields=fields)
    audit.record(
        actor=actor,
        action="catalogue.publish",
        target=locked,
        data={"implementation_code": locked.implementation_code, "version": locked.version, "from": previous},
    )
    _refresh(item, locked, fields)
    return locked


@transaction.atomic
def item_withdraw(*, item: ServiceItem, actor, reason: str = "") -> ServiceItem:
    """Withdraws a published item version (撤销): it leaves search and takes no new applications.

    Cases already filed keep pointing at the version they used.
    """
    _check_catalogue_admin(actor)
    locked = _lock(item)
    if locked.status == ItemStatus.WITHDRAWN:
        raise Conflict(error_codes.ITEM_WITHDRAWN, f"事项“{locked.name}”已撤销。")
    previous = locked.status
    locked.status = ItemStatus.WITHDRAWN
    fields = ["status", "updated_at"]
    locked.save(update_fields=fields)
    audit.record(
        actor=actor,
        action="catalogue.withdraw",
        target=locked,
        data={
            "implementation_code": locked.implementation_code,
            "version": locked.version,
            "from": previous,
            "reason": reason,
        },
    )
    _refresh(item, locked, fields)
    return locked


def item_search_text_refresh(item: ServiceItem) -> ServiceItem:
    """Sets ``item.search_text`` from its name and keywords (not saved): the admin and loader use it."""
    item.search_text = search.search_text_for(name=item.name, keywords=item.keywords or [])
    return item


@transaction.atomic
def items_reindex() -> tuple[int, int]:
    """Recomputes every item's ``search_text``; returns (items seen, items changed)."""
    changed = []
    seen = 0
    for item in ServiceItem.objects.only("id", "name", "keywords", "search_text").iterator(chunk_size=500):
        seen += 1
        text = search.search_text_for(name=item.name, keywords=item.keywords or [])
        if text != item.search_text:
            item.search_text = text
            changed.append(item)
    ServiceItem.objects.bulk_update(changed, ["search_text"], batch_size=500)
    return seen, len(changed)
