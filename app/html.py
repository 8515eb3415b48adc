"""The demo's HTML pages: one tiny template, everything escaped."""

from __future__ import annotations

import html

from fastapi.responses import HTMLResponse


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    """A page with ``title`` and ``body`` (already-escaped HTML) and links home."""
    document = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}"
        f"</title></head><body><h1>{html.escape(title)}</h1>{body}"
        '<p><a href="/">Home</a> · <a href="/account">Account</a></p></body></html>'
    )
    return HTMLResponse(document, status_code=status)
