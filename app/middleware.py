"""Security headers on every response, and a body limit enforced before the body is
read, as pure ASGI middleware.

``@app.middleware("http")`` would be shorter, but it runs on Starlette's
``BaseHTTPMiddleware``, which costs far more per request (see the Measured page).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Cache-Control: no-store comes from snippets.frameworks.fastapi_auth.NoStore (install).
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
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
                headers += [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html") and _HTML_CSP[0] not in present:
                    headers.append(_HTML_CSP)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(Exception):
    """Raised inside the app when the body it reads passes the limit."""


class BodyLimit:
    """Refuse a request body over ``max_bytes`` with 413, before it is read.

    A ``Content-Length`` over the limit is refused at once; a body sent without one
    (chunked) is counted as it arrives, and refused the moment it passes the limit.
    So no request makes the server hold more than ``max_bytes`` of body in memory.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _too_large(self, send: Send) -> None:
        body = b'{"detail":"request body too large"}'
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            too_large = not value.isdigit() or int(value) > self.max_bytes
            if name == b"content-length" and too_large:
                await self._too_large(send)
                return
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._too_large(send)
