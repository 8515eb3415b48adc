"""Chromium for the site tests: Debian's binary driven by Playwright, and a watch on each page.

The fixtures that use this (``browser``, ``built_site``, ``site_url``) live in tests/conftest.py
so that every test module shares one browser and one build.
"""

from __future__ import annotations

import shutil
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

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
    """Records what a page did wrong: console errors, exceptions, failed or foreign requests."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"uncaught: {exc}"))
        page.on("requestfailed", self._failed)
        page.context.route("**/*", self._route)

    def _console(self, msg) -> None:  # type: ignore[no-untyped-def]
        if msg.type == "error":
            self.problems.append(f"console error: {msg.text}")

    def _failed(self, request) -> None:  # type: ignore[no-untyped-def]
        if not request.url.startswith(("data:", "blob:")):
            self.problems.append(f"failed request: {request.url} ({request.failure})")

    def _route(self, route) -> None:  # type: ignore[no-untyped-def]
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.problems.append(f"request to another host: {url}")
            route.abort()
