"""Chromium for the site tests: Debian's binary driven by Playwright, and a watch on each page.

The fixtures that use this (``browser``, ``built_site``, ``site_url``) live in tests/conftest.py
so that every test module shares one browser and one build.
"""

from __future__ import annotations

import shutil
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import ConsoleMessage, Page, Request, Response, Route

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(
            "Chromium is not installed. Run `make test` (it installs Debian's chromium as root) "
            "or `apt-get install chromium`.",
            pytrace=False,
        )
    return path


class PageWatch:
    """Records what a page did wrong: console errors, exceptions, failed, broken or foreign
    requests.

    Open pages with ``visit``: it waits for the page's own requests to finish (not for an
    arbitrary stretch of network silence) and counts navigations. A request that fails with
    ``net::ERR_ABORTED`` after the test itself moved the page on was cancelled by the
    browser, not broken, and is not a problem; every other failure is, and so is any
    response with an HTTP error status (a missing asset answers 404).
    """

    SETTLE_SECONDS = 15

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        self._navigation = 0
        self._started: dict[Request, int] = {}
        # Chromium fetches a page's favicon on its own schedule, and the next navigation may
        # cancel it: that cancellation is the browser's, not a fault of the page.
        self._icons: set[str] = set()
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"uncaught: {exc}"))
        page.on("request", lambda request: self._started.__setitem__(request, self._navigation))
        page.on("requestfinished", self._finished)
        page.on("requestfailed", self._failed)
        page.context.route("**/*", self._route)

    def visit(self, url: str) -> Response:
        """Open ``url``, then wait until every request the page started has ended."""
        self._navigation += 1
        response = self.page.goto(url, wait_until="load")
        assert response is not None, url
        self.settle()
        icon = self.page.evaluate("document.querySelector('link[rel~=icon]')?.href")
        if icon:
            self._icons.add(icon)
        return response

    def settle(self) -> None:
        deadline = time.monotonic() + self.SETTLE_SECONDS
        while self._pending() and time.monotonic() < deadline:
            self.page.wait_for_timeout(10)
        still = self._pending()
        assert not still, f"requests still open after {self.SETTLE_SECONDS} s: {still}"

    def _pending(self) -> list[str]:
        return [r.url for r, nav in self._started.items() if nav == self._navigation]

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.problems.append(f"console error: {msg.text}")

    def _finished(self, request: Request) -> None:
        self._started.pop(request, None)
        response = request.response()
        if response is not None and response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {request.url}")

    def _failed(self, request: Request) -> None:
        started = self._started.pop(request, self._navigation)
        if request.url.startswith(("data:", "blob:")):
            return
        if request.failure == "net::ERR_ABORTED" and started < self._navigation:
            return  # cancelled because the test moved on to the next page
        if request.failure == "net::ERR_ABORTED" and request.url in self._icons:
            return  # the browser's own favicon fetch, cancelled by a navigation
        self.problems.append(f"failed request: {request.url} ({request.failure})")

    def _route(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.problems.append(f"request to another host: {url}")
            route.abort()
