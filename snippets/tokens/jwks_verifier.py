"""Verify tokens with keys fetched from an issuer's JWKS URL, cached, with rotation.

``JWKSVerifier`` fetches the key set with PyJWT's ``PyJWKClient`` and keeps it for
``cache_seconds``. A token whose ``kid`` is not in the cached set triggers at most one
refetch per cache window (so a new signing key is picked up at once, but random ``kid``
values cannot make it hammer the issuer); a ``kid`` still unknown after that is refused.

Rotation, on the issuer's side: publish the new public key beside the old one, start
signing with the new ``kid``, and remove the old key once the last token it signed has
expired.
"""

from __future__ import annotations

# --8<-- [start:setup]
import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import BaseRequestHandler
from typing import Any, Self

import jwt

from snippets.tokens.verify_token import (
    DEFAULT_LEEWAY,
    MAX_TOKEN_BYTES,
    TokenError,
    verify_token,
)

# --8<-- [end:setup]


def unverified_kid(token: str | bytes) -> str:
    """Read ``kid`` from the unverified header, only to choose among trusted keys.

    Raises:
        TokenError: The header is unreadable or has no string ``kid``.
    """
    try:
        if isinstance(token, bytes):
            token = token.decode("ascii")
        if len(token) > MAX_TOKEN_BYTES:
            raise TokenError(f"token longer than {MAX_TOKEN_BYTES} bytes")
        segment = token.split(".", 1)[0]
        header = json.loads(
            base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        )
        kid = header["kid"]
    except TokenError:
        raise
    except Exception:
        raise TokenError("no key ID in the token header") from None
    if not isinstance(kid, str) or not 0 < len(kid) <= 128:
        raise TokenError("no key ID in the token header")
    return kid


# --8<-- [start:verifier]
class JWKSVerifier:
    """Verify access tokens against the keys an issuer publishes at a JWKS URL.

    Args:
        jwks_url: The issuer's JWKS endpoint (https in production).
        algorithm: The one algorithm accepted; a key published for another one is
            refused.
        audience: This service's identifier, as for ``verify_token``.
        issuer: The exact issuer expected.
        typ: Required ``typ`` header, e.g. ``"at+jwt"``; None to skip the check.
        cache_seconds: How long a fetched key set is used before it is fetched again.
        timeout: HTTP timeout in seconds for one fetch.
        clock: Monotonic clock in seconds, replaceable in tests.
    """

    def __init__(
        self,
        jwks_url: str,
        *,
        algorithm: str,
        audience: str,
        issuer: str,
        typ: str | None = "at+jwt",
        cache_seconds: float = 300,
        timeout: float = 5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = jwt.PyJWKClient(jwks_url, cache_jwk_set=False, timeout=timeout)
        self._algorithm = algorithm
        self._audience = audience
        self._issuer = issuer
        self._typ = typ
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, jwt.PyJWK] = {}
        self._window_start: float | None = None
        self._refetched = (
            False  # an unknown kid already caused a refetch in this window
        )

    def _fetch(self) -> None:
        try:
            keys = self._client.get_signing_keys()
        except jwt.PyJWKClientError:
            raise TokenError("signing keys unavailable") from None
        self._keys = {k.key_id: k for k in keys if k.key_id}  # only a kid selects a key

    def signing_key(self, kid: str) -> Any:
        """Return the public key for ``kid``; refetch at most once per window if
        unknown.

        Raises:
            TokenError: The kid is unknown, or the key set cannot be fetched.
        """
        with self._lock:
            now = self._clock()
            fresh = False
            if (
                self._window_start is None
                or now - self._window_start >= self._cache_seconds
            ):
                try:
                    self._fetch()
                    fresh = True
                except TokenError:
                    if not self._keys:
                        raise  # nothing cached to fall back on: refuse
                self._window_start, self._refetched = now, False
            if kid not in self._keys and not self._refetched and not fresh:
                self._refetched = True
                self._fetch()
            jwk = self._keys.get(kid)
        if jwk is None:
            raise TokenError("unknown key ID")
        if jwk.algorithm_name != self._algorithm:
            raise TokenError("key published for another algorithm")
        return jwk.key

    def verify(
        self,
        token: str | bytes,
        *,
        now: float | None = None,
        leeway: timedelta | None = None,
    ) -> dict[str, Any]:
        """Verify ``token`` with the published key its ``kid`` names; return the claims.

        Raises:
            TokenError: The token is refused, whatever the reason.
        """
        key = self.signing_key(unverified_kid(token))
        return verify_token(
            token,
            key,
            algorithm=self._algorithm,
            audience=self._audience,
            issuer=self._issuer,
            typ=self._typ,
            leeway=DEFAULT_LEEWAY if leeway is None else leeway,
            now=now,
        )


# --8<-- [end:verifier]


# --8<-- [start:demo-server]
class LocalServer:
    """An HTTP server on a free port of 127.0.0.1, serving from a thread (demos, tests).

    Use it as a context manager, or call ``close()``; ``url`` is its base address.
    """

    def __init__(self, handler: Callable[..., BaseRequestHandler]) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # Poll for shutdown every 50 ms (not 0.5 s): close() returns at once.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@contextmanager
def serve_jwks_for_demo(
    jwks: dict[str, Any], *, requests: list[str] | None = None
) -> Iterator[str]:
    """Publish ``jwks`` on a free port of 127.0.0.1 and yield its URL (demos and tests).

    Each request's path is appended to ``requests`` when given, to count fetches.
    """
    body = json.dumps(jwks).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if requests is not None:
                requests.append(self.path)
            found = self.path == "/.well-known/jwks.json"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body if found else b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    with LocalServer(Handler) as server:
        yield server.url + "/.well-known/jwks.json"


# --8<-- [end:demo-server]


def main() -> None:
    # --8<-- [start:demo]
    from snippets.tokens.issue_access_token import issue_access_token
    from snippets.tokens.keys import build_jwks, generate_private_key

    # An issuer publishing its JWKS on 127.0.0.1, on a free port.
    private_key = generate_private_key("ES256")
    jwks = build_jwks([("es-2026-11", private_key.public_key())])
    fetches: list[str] = []
    with serve_jwks_for_demo(jwks, requests=fetches) as jwks_url:
        verifier = JWKSVerifier(
            jwks_url,
            algorithm="ES256",
            audience="https://api.example.com",
            issuer="https://auth.example.com",
        )
        token = issue_access_token(
            "user-42",
            private_key,
            algorithm="ES256",
            kid="es-2026-11",
            issuer="https://auth.example.com",
            audience="https://api.example.com",
        )
        for _ in range(100):
            claims = verifier.verify(token)
        print(claims["sub"], len(fetches))
        #> user-42 1
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
