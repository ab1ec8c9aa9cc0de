"""``rows_insert`` writes exactly what ``Model.save()`` writes, with the statement built once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from tongban.core import inserts
from tongban.core.inserts import rows_insert
from tongban.core.models import AuditEntry
from tongban.exchange.models import OutboxMessage
from tongban.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_a_row_gets_its_key_dates_and_defaults_as_save_gives_them():
    user = factories.citizen()
    saved = Notification.objects.create(user=user, title="办件提交申请", body="您的办件……")
    plain = Notification(user=user, title="办件提交申请", body="您的办件……")
    rows_insert([plain])
    assert plain.pk is not None and plain.pk != saved.pk and not plain._state.adding
    assert plain.created_at is not None and plain.read_at is None
    stored = Notification.objects.get(pk=plain.pk)
    assert model_to_dict(stored, exclude=["id"]) == model_to_dict(saved, exclude=["id"])


def test_several_rows_in_one_statement_each_get_their_own_key():
    user = factories.citizen()
    rows = [Notification(user=user, title=f"第{i}条", body="正文") for i in range(3)]
    with CaptureQueriesContext(connection) as queries:
        rows_insert(rows)
    assert len([q for q in queries if q["sql"].startswith("INSERT")]) == 1
    assert {Notification.objects.get(pk=r.pk).title for r in rows} == {"第0条", "第1条", "第2条"}


def test_json_values_and_a_key_given_by_the_model_are_written():
    message = OutboxMessage(
        recipient="330100", type="case.transfer", payload={"案": [1, "二"]}, ordering_key="k", seq=1
    )
    key = message.pk
    rows_insert([message])
    assert message.pk == key and OutboxMessage.objects.get(pk=key).payload == {"案": [1, "二"]}


def test_the_statement_is_built_once_per_model_and_row_count():
    user = factories.citizen()
    inserts._PLANS.clear()
    rows_insert([Notification(user=user, title="t", body="b")])
    ((key, plan),) = inserts._PLANS.items()
    for _ in range(2):
        rows_insert([Notification(user=user, title="t", body="b")])
    assert key[0] is Notification and inserts._PLANS[key] is plan  # reused, not built again


def test_a_model_with_receivers_is_saved_the_usual_way_so_they_hear_of_it():
    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance.action, created))

    post_save.connect(receiver, sender=AuditEntry)
    try:
        entry = AuditEntry(
            created_at=timezone.now(),
            actor_label="系统",
            action="test.receiver",
            target_type="x",
            target_id="1",
            data={},
        )
        rows_insert([entry])
    finally:
        post_save.disconnect(receiver, sender=AuditEntry)
    assert heard == [("test.receiver", True)] and entry.pk is not None


def test_nothing_to_insert_writes_nothing():
    with CaptureQueriesContext(connection) as queries:
        rows_insert([])
    assert len(queries) == 0
