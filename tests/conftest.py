import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Tests never reach outside this machine: connecting to a non-loopback address fails loudly."""
    import socket

    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (
            host.startswith("127.") or host in ("localhost", "::1") or host.startswith("/")
        ):
            raise RuntimeError(f"network access to {address!r} is blocked in tests")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session", autouse=True)
def _audit_sealer_stopped_before_the_database_goes(django_db_setup):
    """The audit sealer thread may keep a connection to the test database; it must not be open when
    the database is dropped."""
    yield
    from tongban.core import audit

    audit.sealer_stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Before a test's fixtures are torn down, the audit sealer finishes and closes its connection.
    A transactional test ends with a ``TRUNCATE`` of every table, in no fixed order; a sealer still
    holding the head row while it reads the entries deadlocks with it (seen in CI)."""
    from tongban.core import audit

    audit.sealer_stop()
    return (yield)


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Each test gets a new database; what a process caches about its database is forgotten between
    tests as it would be between processes."""
    from tongban.bundles.definitions import caches_clear as bundle_caches_clear
    from tongban.cases.statistics import popular_cache_clear, statistics_cache_clear
    from tongban.catalogue.current import current_items_clear
    from tongban.certificates.selectors import invalidate_status_cache
    from tongban.certificates.services import caches_clear
    from tongban.exchange import keys
    from tongban.plans.dashboard import dashboards_cache_clear
    from tongban.web.views.plans_import import plan_fragments_clear

    caches_clear()
    current_items_clear()
    bundle_caches_clear()
    popular_cache_clear()
    statistics_cache_clear()
    dashboards_cache_clear()
    plan_fragments_clear()
    invalidate_status_cache()
    keys.invalidate_cache()
    yield


# One browser for the whole run: the page tests (tests/browser) and the journey across real nodes
# (tests/federation) share it; Playwright's sync API allows one running instance per process.
@pytest.fixture(scope="session")
def browser():
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is required in CI but not found at {CHROMIUM}")
        pytest.skip(f"Chromium not found at {CHROMIUM}: run `make test` as root to install it")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
