"""A year of plausible activity for a demo node, so the dashboards, the public statistics page and
the home page's most-used items have something to show: cases of this city's items submitted over
the past twelve months, most of them decided (some late), a few rated. Made once.

Everything goes through the services (the same validation, events and audit as real cases); only the
timestamps are moved back afterwards, which a real node never does.
"""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings
from django.db import transaction
from django.utils import timezone

MARK = "demo-activity"  # the client-token prefix that says a case is demo activity
CASES = 120


def _value(name: str, prop: dict, rng: random.Random):
    if "enum" in prop:
        return rng.choice(prop["enum"])
    kind = prop.get("type")
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        low = int(prop.get("minimum", 1) or 1)
        return rng.randint(max(low, 1), max(low, 1) + 20)
    if kind == "array":
        items = prop.get("items", {})
        return [items["enum"][0]] if "enum" in items else ["演示"]
    if prop.get("format") == "date":
        return (timezone.localdate() + dt.timedelta(days=rng.randint(5, 60))).isoformat()
    if "phone" in name:
        return f"139{rng.randint(10000000, 99999999)}"
    if name == "uscc":
        from stdnum.cn import uscc

        body = f"91{settings.NODE_CODE}MA{rng.randint(1000000, 9999999)}"[:17]
        return body + uscc.calc_check_digit(body)
    return "演示数据"[: prop.get("maxLength", 20) or 20]


def _form(item, rng: random.Random) -> dict:
    schema = item.form_schema or {}
    return {
        name: _value(name, prop, rng)
        for name, prop in (schema.get("properties") or {}).items()
        if name in (schema.get("required") or [])
    }


def demo_activity_ensure(*, seed: int = 2026) -> int:
    """Creates the demo cases if none exist yet; returns how many were made."""
    from tongban.accounts.models import User
    from tongban.cases.models import Case
    from tongban.catalogue.models import ServiceItem

    if Case.objects.filter(client_token__startswith=MARK).exists():
        return 0
    citizen = User.objects.filter(username="citizen").first()
    reviewers = {u.organisation_id: u for u in User.objects.filter(kind="staff") if u.has_role("reviewer")}
    if citizen is None or not reviewers:
        return 0
    items = [
        i
        for i in ServiceItem.objects.filter(city_code=settings.NODE_CODE, status="published").order_by("pk")
        if "person" in (i.subject_types or []) and i.authority_id in reviewers
    ]
    if not items:
        return 0
    # A year of history is not news: no e-mail for it, and its messages are marked read.
    email_backend = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    try:
        made = _generate(citizen, reviewers, items, random.Random(seed))
    finally:
        settings.EMAIL_BACKEND = email_backend
    from tongban.notifications.models import Notification

    Notification.objects.filter(user=citizen, read_at__isnull=True).update(read_at=timezone.now())
    return made


def _generate(citizen, reviewers, items, rng: random.Random) -> int:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tongban.cases import services
    from tongban.cases.models import Case
    from tongban.cases.rating import case_rate
    from tongban.core import workdays
    from tongban.core.errors import TongbanError

    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n" + b" " * 64
    # Popular items are popular: a few items take most of the cases.
    weights = [1 / (rank + 1) for rank in range(len(items))]
    made = 0
    now = timezone.now()
    for n in range(CASES):
        item = rng.choices(items, weights)[0]
        reviewer = reviewers[item.authority_id]
        files = [
            services.Upload(m.code, SimpleUploadedFile(f"{m.name}.pdf", pdf, content_type="application/pdf"))
            for m in item.materials.filter(required=True)
        ]
        try:
            with transaction.atomic():
                case = services.case_submit(
                    applicant=citizen,
                    item=item,
                    form_data=_form(item, rng),
                    files=files,
                    client_token=f"{MARK}-{n}",
                )
                age = rng.randint(3, 360)  # days ago
                outcome = rng.random()
                if age > 10 or outcome < 0.8:
                    services.case_accept(actor=reviewer, number=case.number)
                    approve = outcome < 0.9
                    services.case_decide(
                        actor=reviewer,
                        number=case.number,
                        approve=approve,
                        reason="" if approve else "不符合法定条件",
                    )
                    if rng.random() < 0.5:
                        score = rng.choices([5, 4, 3, 2, 1], [60, 25, 8, 5, 2])[0]
                        reasons = ["fast"] if score > 2 else ["slow"]
                        case_rate(actor=citizen, number=case.number, score=score, reasons=reasons)
                submitted = now - dt.timedelta(days=age, hours=rng.randint(0, 8))
                limit = item.promised_limit_days or 20
                # Most decided within the promised working days (calendar days ≤ working days), some late.
                late = rng.random() < 0.12
                took = dt.timedelta(
                    days=limit * 2 + 3 if late else max(1, round(rng.uniform(0.2, 1.0) * limit))
                )
                Case.objects.filter(pk=case.pk).update(
                    submitted_at=submitted,
                    due_date=workdays.add_workdays(timezone.localtime(submitted).date(), limit).date,
                    accepted_at=submitted + dt.timedelta(hours=4) if case.accepted_at else None,
                    decided_at=min(submitted + took, now)
                    if Case.objects.get(pk=case.pk).decided_at
                    else None,
                )
                made += 1
        except TongbanError:
            continue  # an item whose form the generator cannot fill: skip it
    return made
