"""Background work through a real broker: a Celery worker (in a thread of this process, on this test
database) consumes from Redis and from RabbitMQ. A message enqueued in a committed transaction is
delivered by the ``relay_outbox`` task to the receiving node (the live server), whose poke queues
``apply_inbox``, which applies it. A broker that does not answer is skipped with a message here and
is a failure in CI (``CI=true``)."""

from __future__ import annotations

import os
import socket
import threading
from urllib.parse import urlparse

import pytest
from celery.signals import task_postrun
from django.db import connections, transaction

from tests.exchange import kit
from tongban.exchange import handlers, outbox, relay
from tongban.exchange.models import InboxMessage, InboxState, OutboxMessage, OutboxState
from tongban.exchange.transport import default_transport

REDIS_URL = os.environ.get("TONGBAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
AMQP_URL = os.environ.get("TONGBAN_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
# A queue of this test run's own, so nothing left in a shared broker is consumed here (or the reverse).
QUEUE = f"tongban-test-{os.getpid()}"


def reachable(url: str) -> bool:
    parsed = urlparse(url)
    default_port = 6379 if parsed.scheme.startswith("redis") else 5672
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2
        ):
            return True
    except OSError:
        return False


@pytest.fixture
def broker(request):
    url = request.param
    if not reachable(url):
        message = f"no message broker answers at {url}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}: CI must provide it")
        pytest.skip(f"{message} (start one, or set TONGBAN_TEST_REDIS_URL / TONGBAN_TEST_AMQP_URL)")
    return url


@pytest.fixture
def celery_app(broker, settings):
    """The node's Celery app, pointed at ``broker`` for this test."""
    from tongban.config.celery import app

    def connect(url: str) -> None:
        app.conf.broker_url = url
        if app._pool is not None:  # connections to the previous broker
            app._pool.force_close_all()
            app._pool = None
        app.amqp._producer_pool = None

    settings.CELERY_BROKER_URL = broker  # what outbox.enqueue and the receiver look at to poke
    app.conf.task_default_queue = QUEUE
    connect(broker)
    yield app
    try:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(QUEUE)
    except Exception:
        pass
    connect("memory://")


@pytest.fixture
def node(settings, live_server, monkeypatch):
    settings.ROOT_URLCONF = "tests.exchange.kit"
    settings.NODE_CODE = kit.SHANGHAI
    monkeypatch.setattr(relay, "local_identity", kit.hefei_identity)
    yield kit.install_trust(settings, endpoints={kit.SHANGHAI: live_server.url})
    # The relay's pooled keep-alive connections hold a live-server thread (and its database
    # connection) open: close them so the test database can be dropped.
    default_transport().close()


@pytest.fixture
def worker_thread_closes_its_connections():
    """Celery runs tasks in its own thread here: close that thread's database connections after each
    task, as a worker process would on exit, so the test database can be flushed and dropped."""

    def close(**kwargs):
        connections.close_all()

    task_postrun.connect(close, weak=False)
    yield
    task_postrun.disconnect(close)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker", [REDIS_URL, AMQP_URL], indirect=True, ids=["redis", "rabbitmq"])
def test_message_enqueued_in_a_transaction_is_delivered_and_applied_through_the_broker(
    broker, celery_app, node, worker_thread_closes_its_connections
):
    from celery.contrib.testing.worker import start_worker

    applied = threading.Event()
    seen = []

    def on_note(payload, *, sender, envelope_id):
        seen.append((sender, envelope_id, payload))
        applied.set()

    with (
        handlers.override("test.note", on_note),
        start_worker(
            celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30
        ),
    ):
        with transaction.atomic():
            message = outbox.enqueue(recipient=kit.SHANGHAI, type="test.note", payload={"via": broker[:5]})
        # Nothing else runs the relay here: no embedded worker, no beat. Only the task the commit queued.
        assert applied.wait(30), "the task did not deliver and apply the message"
    assert seen == [(kit.HEFEI, message.pk, {"via": broker[:5]})]
    assert OutboxMessage.objects.get(pk=message.pk).state == OutboxState.DELIVERED
    assert InboxMessage.objects.get(pk=message.pk).state == InboxState.APPLIED


# --- The tasks themselves, without a broker -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_tasks_are_safe_to_run_again(node):
    from tongban.exchange import tasks

    calls = []
    with handlers.override("test.note", lambda payload, *, sender, envelope_id: calls.append(envelope_id)):
        with transaction.atomic():
            message = outbox.enqueue(recipient=kit.SHANGHAI, type="test.note", payload={})
        assert tasks.relay_outbox.apply().get()["delivered"] == 1
        assert tasks.relay_outbox.apply().get()["delivered"] == 0
        assert tasks.apply_inbox.apply().get() == 1
        assert tasks.apply_inbox.apply().get() == 0
    assert calls == [message.pk]


def test_trust_list_task_without_a_url_says_so(settings):
    from tongban.exchange import tasks

    settings.TRUST_LIST_URL = ""
    assert tasks.refresh_trust_list.apply().get() == {"ok": False, "error_code": "TRUST_LIST_URL_MISSING"}


def test_celery_app_reads_django_settings_and_schedules_the_periodic_runs(settings):
    from tongban.config.celery import app

    assert app.main == "tongban"
    assert app.conf.task_acks_late is True
    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    # Other apps schedule tasks of their own: the exchange's periodic runs are among them.
    assert {
        "tongban.exchange.relay_outbox",
        "tongban.exchange.apply_inbox",
        "tongban.exchange.refresh_trust_list",
    } <= schedule
    assert {
        "tongban.exchange.relay_outbox",
        "tongban.exchange.apply_inbox",
        "tongban.exchange.maintain",
    } <= set(app.tasks.keys())
