"""Security headers on every response, as pure ASGI middleware.

``@app.middleware("http")`` would be shorter, but it runs on Starlette's
``BaseHTTPMiddleware``, which costs far more per request (see the Measured page).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)
_HTML_CSP = (
    b"content-security-policy",
    b"default-src 'none'; form-action 'self'; frame-ancestors 'none'",
)


class SecurityHeaders:
    """Add each header the response does not already have; a CSP to HTML pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in _ALWAYS if n not in present]
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html") and _HTML_CSP[0] not in present:
                    headers.append(_HTML_CSP)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
