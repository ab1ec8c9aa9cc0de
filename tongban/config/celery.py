"""The Celery application of a node that has a message broker (``CELERY_BROKER_URL``).

Run it with::

    celery -A tongban.config.celery worker --beat --loglevel INFO
    # or, with several workers, one separate scheduler:
    celery -A tongban.config.celery worker --loglevel INFO
    celery -A tongban.config.celery beat --loglevel INFO

Without a broker nothing here is used: ``tongban worker`` runs the same functions in-process
(``tongban.exchange.worker``). Settings named ``CELERY_*`` in Django's settings configure the app
(``CELERY_BROKER_URL`` → ``broker_url``).
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.config.settings")

app = Celery("tongban")
app.config_from_object("django.conf:settings", namespace="CELERY")

# Defaults a node's settings may override with CELERY_<NAME>.
app.add_defaults(
    dict(
        # Tasks take no arguments and are safe to re-run: acknowledge after running, so a worker that dies
        # mid-task leaves it to another; nobody reads their results.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        # A poke that cannot reach the broker must not hold up the web request that made it.
        broker_connection_timeout=3,
        broker_connection_retry_on_startup=True,
        task_default_queue="tongban",
        # A commit pokes the tasks at once; these periodic runs pick up retries whose backoff has
        # passed and anything whose poke never reached the broker.
        beat_schedule={
            "relay-outbox": {"task": "tongban.exchange.relay_outbox", "schedule": 5.0},
            "apply-inbox": {"task": "tongban.exchange.apply_inbox", "schedule": 5.0},
            "refresh-trust-list": {"task": "tongban.exchange.refresh_trust_list", "schedule": 300.0},
            "exchange-maintenance": {"task": "tongban.exchange.maintain", "schedule": 3600.0},
            "bundles-run": {"task": "tongban.bundles.run", "schedule": 2.0},
            "bundles-sweep": {"task": "tongban.bundles.sweep", "schedule": 60.0},
            # Reminders before reports are due, overdue marks (推进督办).
            "plans-reminders": {"task": "tongban.plans.reminders", "schedule": 3600.0},
            "plans-previews-sweep": {"task": "tongban.plans.previews_sweep", "schedule": 3600.0},
            # Proposal deadlines: reminders, overdue marks, provisional deadlines confirmed.
            "proposals-deadlines": {"task": "tongban.proposals.deadlines", "schedule": 3600.0},
            "proposals-search-compact": {"task": "tongban.proposals.search_compact", "schedule": 21600.0},
            # How soon the other nodes refuse a revoked certificate (see settings.CERT_STATUS_SYNC_SECONDS).
            "sync-certificate-status": {
                "task": "tongban.certificates.sync_status_list",
                "schedule": float(os.environ.get("TONGBAN_CERT_STATUS_SYNC_SECONDS") or 15),
            },
        },
        imports=(
            "tongban.exchange.tasks",
            "tongban.certificates.tasks",
            "tongban.bundles.tasks",
            "tongban.plans.tasks",
            "tongban.proposals.tasks",
        ),
    )
)
