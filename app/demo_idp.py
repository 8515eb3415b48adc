"""A tiny identity provider for the demo and the tests, on 127.0.0.1 only.

It publishes its public key at ``/.well-known/jwks.json`` and answers ``/authorize`` with a page
whose form posts an ID token back to the application's callback (OpenID Connect's
``response_mode=form_post``): the token travels in a form field to the server, never through
the application's JavaScript. It signs every user in as one demo user; it is a stand-in for a
real IdP, not one.
"""

from __future__ import annotations

import html
import json
import secrets
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from snippets.tokens.jwks_verifier import LocalServer
from snippets.tokens.keys import build_jwks, generate_private_key

DEMO_USER = {"sub": "idp-user-1", "name": "Dana (demo IdP user)"}


class DemoIdentityProvider:
    """Sign ID tokens with a fresh ES256 key and publish the key over HTTP on 127.0.0.1.

    Args:
        client_id: The one client it knows.
    """

    def __init__(self, *, client_id: str = "demo-app") -> None:
        self.client_id = client_id
        self.key = generate_private_key("ES256")
        self.kid = "demo-idp-" + secrets.token_hex(4)
        self._server: LocalServer | None = None
        self.issuer = ""

    @property
    def jwks_url(self) -> str:
        return self.issuer + "/.well-known/jwks.json"

    @property
    def authorize_url(self) -> str:
        return self.issuer + "/authorize"

    def sign(self, claims: dict[str, Any], *, typ: str = "JWT") -> str:
        """Sign any claims with the IdP's key (tests build hostile tokens with it)."""
        headers = {"kid": self.kid, "typ": typ}
        return jwt.encode(claims, self.key, algorithm="ES256", headers=headers)

    def issue_id_token(
        self,
        sub: str = DEMO_USER["sub"],
        *,
        nonce: str,
        audience: str | None = None,
        name: str | None = DEMO_USER["name"],
        lifetime: int = 300,
        now: float | None = None,
        typ: str = "JWT",
    ) -> str:
        """An ID token for ``sub`` (``typ="at+jwt"`` makes it look like an access token)."""
        issued = int(time.time() if now is None else now)
        claims = {
            "iss": self.issuer,
            "sub": sub,
            "aud": audience or self.client_id,
            "iat": issued,
            "exp": issued + lifetime,
            "nonce": nonce,
        }
        if name is not None:
            claims["name"] = name
        return self.sign(claims, typ=typ)

    def start(self) -> DemoIdentityProvider:
        idp = self
        jwks = json.dumps(build_jwks([(self.kid, self.key.public_key())])).encode()

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header(
                    "Content-Security-Policy",
                    "default-src 'none'; form-action http://127.0.0.1:* http://localhost:*",
                )
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/.well-known/jwks.json":
                    self._send(200, jwks, "application/json")
                elif url.path == "/authorize":
                    self._authorize(parse_qs(url.query))
                else:
                    self._send(404, b"not found", "text/plain")

            def _authorize(self, query: dict[str, list[str]]) -> None:
                def one(name: str) -> str:
                    values = query.get(name, [])
                    return values[0] if len(values) == 1 else ""

                redirect_uri, state, nonce = one("redirect_uri"), one("state"), one("nonce")
                target = urlsplit(redirect_uri)
                if (
                    one("client_id") != idp.client_id
                    or target.hostname not in {"127.0.0.1", "localhost"}
                    or target.path != "/auth/oidc/callback"
                    or not state
                    or not nonce
                ):
                    self._send(400, b"invalid authorization request", "text/plain")
                    return
                id_token = idp.issue_id_token(nonce=nonce)
                page = f"""<!doctype html><html><head><title>Demo IdP</title></head><body>
<h1>Demo identity provider</h1>
<p>Signed in as {html.escape(DEMO_USER["name"])}. Continue to the application:</p>
<form method="post" action="{html.escape(redirect_uri)}">
<input type="hidden" name="id_token" value="{html.escape(id_token)}">
<input type="hidden" name="state" value="{html.escape(state)}">
<button type="submit">Continue</button></form></body></html>"""
                self._send(200, page.encode(), "text/html; charset=utf-8")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = LocalServer(Handler)
        self.issuer = self._server.url
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> DemoIdentityProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
