"""Screenshots of the key pages of a running demo federation, for the README and docs/screenshots/.

    tongban demo --detach && python -m tests.browser.screenshots && tongban demo --stop

Debian's Chromium through Playwright (no browser download); the accounts come from each node's
``var/nodes/<code>/demo-accounts.json``. Not part of the test suite: the browser tests produce their
own screenshots in ``var/screenshots/`` from test data; these show the demo's year of data.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "docs" / "screenshots"
HEFEI = "http://127.0.0.1:8002"


def _passwords(code: str) -> dict:
    return json.loads((REPO / "var" / "nodes" / code / "demo-accounts.json").read_text())


def main() -> int:
    pw = _passwords("340100")
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def session(username: str | None, password_key: str | None = None):
            context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
            page = context.new_page()
            page.set_default_timeout(15_000)
            if username:
                page.goto(HEFEI + "/login/")
                page.get_by_label("用户名").fill(username)
                page.get_by_label("密码").fill(pw[password_key or username])
                page.get_by_role("button", name="登录").click()
            return page

        def shot(page, path: str, name: str, *, full: bool = False, wait: str | None = None) -> None:
            page.goto(HEFEI + path)
            if wait:
                page.wait_for_selector(wait)
            page.wait_for_timeout(300)
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)
            print(OUT / f"{name}.png")

        public = session(None)
        shot(public, "/", "home")
        shot(public, "/statistics/", "public-statistics", full=True, wait="[data-chart-ready]")
        citizen = session("citizen")
        shot(citizen, "/me/cases/", "my-cases")
        admin = session("admin")
        shot(admin, "/workbench/dashboard/", "dashboard", full=True, wait="[data-chart-ready]")
        reviewer = session("reviewer")
        shot(reviewer, "/workbench/", "workbench-queue")
        office = session("planoffice")
        shot(office, "/plans/hefei-yrd-2020/dashboard/", "plan-dashboard", wait="#area-chart canvas")
        handler = session("proposal_handler")
        handler.goto(HEFEI + "/workbench/proposals/")
        link = handler.locator("a[href*='/workbench/proposals/']").filter(has_text="跨省通办").first
        href = link.get_attribute("href") if link.count() else None
        if href:
            shot(handler, href + "draft/", "proposal-draft", full=True)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
