"""A stand-in identity provider on 127.0.0.1 for the demos and tests, not a real IdP.

It speaks just enough OpenID Connect for the authorization code flow with PKCE:

- ``GET /authorize`` checks the request (``response_type=code``, this client, a local
  ``redirect_uri``, ``state``, ``nonce``, an S256 ``code_challenge``) and shows a page
  whose button sends the browser back to the application with a one-time ``code`` and
  ``state``, and ``iss`` (RFC 9207);
- ``POST /token`` redeems a code once, within 60 seconds, for the client that
  authenticates with its secret (HTTP Basic, RFC 6749 section 2.3.1), the same
  ``redirect_uri`` and the ``code_verifier`` whose S256 hash is the challenge (RFC
  7636 section 4.6), and answers with an ID token;
- ``GET /.well-known/jwks.json`` publishes its public key.

It signs everyone in as one demo user.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

import jwt

from snippets.tokens.jwks_verifier import LocalServer
from snippets.tokens.keys import build_jwks, generate_private_key

DEMO_USER = {"sub": "idp-user-1", "name": "Dana (demo IdP user)"}
CODE_SECONDS = 60
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of a SHA-256, no padding
_MAX_FORM_BYTES = 8 * 1024


def s256(code_verifier: str) -> str:
    """The PKCE S256 challenge of a verifier (RFC 7636 section 4.2)."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class _Grant:
    id_token: str
    code_challenge: str
    redirect_uri: str
    expires: float


class AuthorizationRequestRefused(ValueError):
    """The authorization request is not one this IdP answers."""


class DemoIdentityProvider:
    """Sign ID tokens with a fresh ES256 key and publish the key over HTTP on 127.0.0.1.

    Args:
        client_id: The one client it knows.
        client_secret: That client's secret; a random one when omitted.
        clock: Seconds, for the codes' lifetime; tests pass their own.
    """

    def __init__(
        self,
        *,
        client_id: str = "demo-app",
        client_secret: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(32)
        self.key = generate_private_key("ES256")
        self.kid = "demo-idp-" + secrets.token_hex(4)
        self._server: LocalServer | None = None
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self.issuer = ""

    @property
    def jwks_url(self) -> str:
        return self.issuer + "/.well-known/jwks.json"

    @property
    def authorize_url(self) -> str:
        return self.issuer + "/authorize"

    @property
    def token_url(self) -> str:
        return self.issuer + "/token"

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
        """An ID token for ``sub``; ``typ="at+jwt"`` makes it look like an access
        token."""
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

    def grant(self, id_token: str, *, code_challenge: str, redirect_uri: str) -> str:
        """Issue a one-time code that the token endpoint redeems for ``id_token``.

        Tests use it to hand the application any ID token through the real flow.
        """
        code = secrets.token_urlsafe(32)
        with self._lock:
            now = self._clock()
            self._grants = {c: g for c, g in self._grants.items() if g.expires > now}
            self._grants[code] = _Grant(
                id_token, code_challenge, redirect_uri, now + CODE_SECONDS
            )
        return code

    def sign_in(self, authorization_url: str) -> str:
        """What the browser and the user do at the IdP: check the authorization request,
        sign the demo user in, and return the URL the browser is sent back to.

        Raises:
            AuthorizationRequestRefused: Not a request this IdP answers.
        """
        query = parse_qs(urlsplit(authorization_url).query)

        def one(name: str) -> str:
            values = query.get(name, [])
            return values[0] if len(values) == 1 else ""

        redirect_uri = one("redirect_uri")
        target = urlsplit(redirect_uri)
        if (
            one("response_type") != "code"
            or one("client_id") != self.client_id
            or "openid" not in one("scope").split()
            or target.scheme not in {"http", "https"}
            or target.hostname not in {"127.0.0.1", "localhost"}
            or target.path != "/auth/oidc/callback"
            or target.query
            or not one("state")
            or not one("nonce")
            or one("code_challenge_method") != "S256"
            or not _CHALLENGE.fullmatch(one("code_challenge"))
        ):
            raise AuthorizationRequestRefused("invalid authorization request")
        id_token = self.issue_id_token(nonce=one("nonce"))
        code = self.grant(
            id_token, code_challenge=one("code_challenge"), redirect_uri=redirect_uri
        )
        answer = urlencode({"code": code, "state": one("state"), "iss": self.issuer})
        return f"{redirect_uri}?{answer}"

    def redeem(
        self, form: dict[str, list[str]], authorization: str
    ) -> tuple[int, dict[str, Any]]:
        """The token endpoint: the status and JSON body answering one token request."""

        def one(name: str) -> str:
            values = form.get(name, [])
            return values[0] if len(values) == 1 else ""

        scheme, _, credentials = authorization.partition(" ")
        try:
            client_id, _, secret = (
                base64.b64decode(credentials, validate=True).decode().partition(":")
            )
        except ValueError:
            client_id, secret = "", ""
        if scheme.lower() != "basic" or not (
            hmac.compare_digest(
                unquote_plus(client_id).encode(), self.client_id.encode()
            )
            and hmac.compare_digest(
                unquote_plus(secret).encode(), self.client_secret.encode()
            )
        ):
            return 401, {"error": "invalid_client"}
        if one("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self._lock:
            grant = self._grants.pop(one("code"), None)  # one use, whatever follows
        verifier = one("code_verifier")
        if (
            grant is None
            or grant.expires < self._clock()
            or grant.redirect_uri != one("redirect_uri")
            or not 43 <= len(verifier) <= 128
            or not hmac.compare_digest(s256(verifier), grant.code_challenge)
        ):
            return 400, {"error": "invalid_grant"}
        return 200, {
            "access_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": grant.id_token,
        }

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
                    self._authorize(self.path)
                else:
                    self._send(404, b"not found", "text/plain")

            def do_POST(self) -> None:
                if urlsplit(self.path).path != "/token":
                    self._send(404, b"not found", "text/plain")
                    return
                try:
                    length = int(self.headers.get("Content-Length", ""))
                except ValueError:
                    length = -1
                if not 0 <= length <= _MAX_FORM_BYTES:
                    self._send(400, b'{"error":"invalid_request"}', "application/json")
                    return
                form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
                status, body = idp.redeem(form, self.headers.get("Authorization", ""))
                self._send(status, json.dumps(body).encode(), "application/json")

            def _authorize(self, path: str) -> None:
                try:
                    back = urlsplit(idp.sign_in(path))
                except AuthorizationRequestRefused:
                    self._send(400, b"invalid authorization request", "text/plain")
                    return
                action = f"{back.scheme}://{back.netloc}{back.path}"
                fields = "".join(
                    f'<input type="hidden" name="{html.escape(k)}" '
                    f'value="{html.escape(v[0])}">'
                    for k, v in parse_qs(back.query).items()
                )
                page = f"""<!doctype html><html><head><title>Demo IdP</title></head>
<body>
<h1>Demo identity provider</h1>
<p>Signed in as {html.escape(DEMO_USER["name"])}. Continue to the application:</p>
<form method="get" action="{html.escape(action)}">{fields}
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
