"""Catalogue federation: each node publishes its own city's items; every other node imports them,
so the portal at any node searches every city's items and shows where and how each is handled.

A publication is a full snapshot of the sender's city, so a lost or late one is repaired by the
next; items absent from a newer snapshot are marked withdrawn, never deleted (cases point at them).
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tongban.catalogue import error_codes
from tongban.catalogue.constants import ItemStatus
from tongban.catalogue.loader import MATERIAL_VALUE_FIELDS, _upsert_materials
from tongban.catalogue.models import ServiceItem
from tongban.catalogue.search import search_text_for
from tongban.core import audit
from tongban.core.errors import InvalidInput
from tongban.regions.models import Organisation
from tongban.regions.services import organisation_upsert

PUBLISH = "catalogue.publish"
ITEM_FIELDS = (
    "basic_code",
    "implementation_code",
    "version",
    "status",
    "name",
    "item_type",
    "region_id",
    "city_code",
    "legal_basis",
    "legal_limit_days",
    "promised_limit_days",
    "fee",
    "conditions",
    "process",
    "location",
    "office_hours",
    "phone",
    "subject_types",
    "modes",
    "keywords",
    "form_schema",
    "issues_certificate",
)
ORG_FIELDS = ("uscc", "name", "kind", "region_id", "address", "phone", "office_hours")


def _prefix(city_code: str) -> str:
    """Division-code prefix of everything under a city (a municipality such as 上海 is a province)."""
    return city_code[:2] if city_code.endswith("0000") else city_code[:4]


def catalogue_snapshot(city_code: str) -> dict:
    items = (
        ServiceItem.objects.filter(city_code=city_code)
        .select_related("authority")
        .prefetch_related("materials")
    )
    orgs = {}
    out = []
    for item in items.order_by("implementation_code", "version"):
        orgs[item.authority.uscc] = {f: getattr(item.authority, f) for f in ORG_FIELDS}
        out.append(
            {
                **{f: getattr(item, f) for f in ITEM_FIELDS},
                "authority": item.authority.uscc,
                "published_at": item.published_at.isoformat() if item.published_at else None,
                "materials": [
                    {"code": m.code, **{k: getattr(m, k) for k in MATERIAL_VALUE_FIELDS}}
                    for m in item.materials.all()
                ],
            }
        )
    for w in Organisation.objects.filter(kind="window", region__code__startswith=_prefix(city_code)):
        orgs[w.uscc] = {f: getattr(w, f) for f in ORG_FIELDS}
    return {
        "city": city_code,
        "snapshot_at": timezone.now().isoformat(),
        "organisations": list(orgs.values()),
        "items": out,
    }


def catalogue_publish(*, actor=None) -> list[str]:
    """Sends this node's catalogue to every other active member of the trust list."""
    from django.db import transaction

    from tongban.exchange.outbox import enqueue
    from tongban.exchange.trust import current_trust_list

    trust = current_trust_list()
    snapshot = catalogue_snapshot(settings.NODE_CODE)
    recipients = [c for c, m in trust.members.items() if c != settings.NODE_CODE and m.status == "active"]
    with transaction.atomic():
        for code in recipients:
            enqueue(recipient=code, type=PUBLISH, payload=snapshot, ordering_key="catalogue")
        audit.record(
            actor=actor,
            action="catalogue.publish_federation",
            data={"to": recipients, "items": len(snapshot["items"])},
        )
    return recipients


def on_publish(payload: dict, *, sender: str, envelope_id: str) -> None:
    """Imports another node's snapshot. A node may only speak for its own city's items."""
    if payload.get("city") != sender:
        raise InvalidInput(
            error_codes.PUBLICATION_NOT_OWN_CITY, f"节点 {sender} 不能发布 {payload.get('city')} 的事项。"
        )
    org_ids = {}
    for org in payload["organisations"]:
        row = organisation_upsert(
            uscc=org["uscc"],
            name=org["name"],
            kind=org["kind"],
            region_code=org["region_id"],
            address=org["address"],
            phone=org["phone"],
            office_hours=org["office_hours"],
        )
        org_ids[row.uscc] = row.pk
    existing = {(i.implementation_code, i.version): i for i in ServiceItem.objects.filter(city_code=sender)}
    seen = set()
    for spec in payload["items"]:
        if spec["city_code"] != sender:
            raise InvalidInput(
                error_codes.PUBLICATION_NOT_OWN_CITY, f"事项 {spec['implementation_code']} 不属于 {sender}。"
            )
        key = (spec["implementation_code"], spec["version"])
        seen.add(key)
        values = {f: spec[f] for f in ITEM_FIELDS}
        values["authority_id"] = org_ids[spec["authority"]]
        values["published_at"] = parse_datetime(spec["published_at"]) if spec.get("published_at") else None
        values["search_text"] = search_text_for(name=spec["name"], keywords=spec.get("keywords") or [])
        item = existing.get(key)
        if item is None:
            item = ServiceItem.objects.create(**values)
        else:
            for k, v in values.items():
                setattr(item, k, v)
            item.save()
        _upsert_materials(item, spec["materials"], list(item.materials.all()))
    gone = [i.pk for k, i in existing.items() if k not in seen and i.status != ItemStatus.WITHDRAWN]
    if gone:
        ServiceItem.objects.filter(pk__in=gone).update(status=ItemStatus.WITHDRAWN)
    audit.record(
        actor=None,
        action="catalogue.import",
        data={"from": sender, "items": len(seen), "withdrawn": len(gone)},
    )


def register_handlers() -> None:
    from tongban.exchange import handlers

    handlers.register(PUBLISH)(on_publish)
