"""Verify tokens with keys fetched from an issuer's JWKS URL, cached, with rotation.

``JWKSVerifier`` fetches the key set (with `fetch`, which bounds the whole answer by one
deadline and a size) in a worker thread and keeps it for ``cache_seconds``. A token
whose ``kid`` is not in the cached set triggers at most one refetch per cache window (so
a new signing key is picked up at once, but random ``kid`` values cannot make it hammer
the issuer); a ``kid`` still unknown after that is refused.

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
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import BaseRequestHandler
from typing import Any, Self

import jwt

from snippets.tokens.keys import check_key
from snippets.tokens.verify_token import (
    DEFAULT_LEEWAY,
    MAX_TOKEN_BYTES,
    TokenError,
    verify_token,
)

PUBLIC_KEY_ALGORITHMS = ("RS256", "ES256", "EdDSA")

# --8<-- [end:setup]


# --8<-- [start:fetch]
def fetch(
    request: urllib.request.Request, *, timeout: float, max_bytes: int
) -> tuple[int, bytes]:
    """Send ``request`` and read the answer, whatever its status, within ``timeout``
    seconds in all and ``max_bytes`` at most.

    urllib's own timeout bounds each read, not the whole answer: a server that drips one
    byte at a time would hold the caller for as long as it likes. This bounds both.

    Returns:
        The HTTP status and the body.

    Raises:
        OSError: The server could not be reached, or the answer took too long
            (`TimeoutError`, an `OSError`).
        ValueError: The body is longer than ``max_bytes``.
    """
    deadline = time.monotonic() + timeout
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310
    except urllib.error.HTTPError as error:  # an error answer has a status and a body
        if getattr(error, "fp", None) is None:  # urllib made it without a body
            return error.code, b""
        response = error
    body = b""
    with response:
        while chunk := response.read1(16 * 1024):  # what arrived, not a full block
            body += chunk
            if len(body) > max_bytes:
                raise ValueError(f"answer longer than {max_bytes} bytes")
            if time.monotonic() > deadline:  # a slow drip ends here
                raise TimeoutError(f"answer took longer than {timeout} s")
    return response.status, body


# --8<-- [end:fetch]


# --8<-- [start:verifier]
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


class JWKSVerifier:
    """Verify access tokens against the keys an issuer publishes at a JWKS URL.

    The key set is hostile input like any other: a document that is not a JSON key
    set, holds no usable key, is larger than ``max_bytes`` or takes longer than
    ``timeout`` in all is a failed fetch, and a failed fetch never replaces the keys
    already cached. Symmetric (``oct``) keys, keys for another use, and keys too weak
    for ``check_key`` are dropped. One fetch at a time runs in a worker thread, never
    under the lock: while it runs, other verifications use the cached keys.

    Args:
        jwks_url: The issuer's JWKS endpoint (https in production).
        algorithm: The one algorithm accepted: RS256, ES256 or EdDSA. A public key
            set cannot carry an HMAC secret, so HS256 is refused.
        audience: This service's identifier, as for ``verify_token``.
        issuer: The exact issuer expected.
        typ: Required ``typ`` header, e.g. ``"at+jwt"``; None to skip the check.
        cache_seconds: How long a fetched key set is used before it is fetched again.
        timeout: The most one fetch may take, connecting and reading included.
        retry_seconds: After a failed fetch, how long before the next attempt.
        max_bytes: The largest key set document accepted.
        clock: Monotonic clock in seconds, replaceable in tests.

    Raises:
        ValueError: ``algorithm`` is not asymmetric, or the URL is not http(s).
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
        retry_seconds: float = 30,
        max_bytes: int = 64 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if algorithm not in PUBLIC_KEY_ALGORITHMS:
            raise ValueError(
                f"{algorithm!r} cannot be verified with a published key set; use one "
                f"of {', '.join(PUBLIC_KEY_ALGORITHMS)}"
            )
        if urllib.parse.urlsplit(jwks_url).scheme not in {"http", "https"}:
            raise ValueError("the JWKS URL must be http:// or https://")
        self._url = jwks_url
        self._algorithm = algorithm
        self._audience = audience
        self._issuer = issuer
        self._typ = typ
        self._cache_seconds = cache_seconds
        self._timeout = timeout
        self._retry_seconds = retry_seconds
        self._max_bytes = max_bytes
        self._clock = clock
        # Reentrant: a fetch that is done before its callback is added runs the callback
        # at once, in the thread that holds the lock.
        self._lock = threading.RLock()
        self._keys: dict[str, tuple[str, Any]] = {}  # kid -> (algorithm, key)
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last fetch started
        self._refetched = False  # this window's one refetch for an unknown kid is used
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="jwks-fetch")
        self._inflight: Future[dict[str, tuple[str, Any]]] | None = None

    def _download(self) -> dict[str, tuple[str, Any]]:
        """Fetch and parse the key set within ``timeout`` in all; raise on anything
        wrong (in the worker thread)."""
        # The scheme was checked in __init__: http or https only.
        request = urllib.request.Request(  # noqa: S310
            self._url, headers={"Accept": "application/json"}
        )
        status, body = fetch(request, timeout=self._timeout, max_bytes=self._max_bytes)
        if status != 200:
            raise ValueError(f"JWKS answered {status}")
        document = json.loads(body)
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise ValueError("not a JWKS document")
        keys = dict(filter(None, map(_usable_key, entries)))
        if not keys:
            raise ValueError("no usable key in the JWKS document")
        return keys

    def _stored(self, future: Future[dict[str, tuple[str, Any]]]) -> None:
        with self._lock:
            if future.exception() is None:
                self._keys, self._fetched_at = future.result(), self._clock()

    def _fetch(self) -> Future[dict[str, tuple[str, Any]]]:
        """The fetch in flight, or a new one (call with the lock held)."""
        if self._inflight is None or self._inflight.done():
            self._attempted_at = self._clock()
            self._inflight = self._worker.submit(self._download)
            self._inflight.add_done_callback(self._stored)
        return self._inflight

    def signing_key(self, kid: str) -> Any:
        """Return the public key for ``kid``, fetching the key set when it is due.

        A stale key set is refreshed, and an unknown ``kid`` refetched at most once
        per cache window. The caller that starts a fetch waits for it (up to
        ``timeout``); calls meanwhile use the cached keys. A fetch that fails or times
        out leaves the cached keys in use.

        Raises:
            TokenError: The kid is unknown or for another algorithm, or no key set
                could be fetched at all.
        """
        with self._lock:
            now = self._clock()
            busy = self._inflight is not None and not self._inflight.done()
            age = None if self._fetched_at is None else now - self._fetched_at
            stale = age is None or age >= self._cache_seconds
            retry_due = self._attempted_at is None or (
                now - self._attempted_at >= self._retry_seconds
            )
            unknown = kid not in self._keys
            wait: Future[dict[str, tuple[str, Any]]] | None = None
            if busy:
                if not self._keys or unknown:
                    wait = self._inflight  # nothing better to use: wait for it
            elif stale and retry_due:
                wait = self._fetch()  # a new window, with its one refetch unused
                self._refetched = False
            elif unknown and not self._refetched:
                wait = self._fetch()  # a new kid: perhaps a new key was published
                self._refetched = True
        failed = False
        if wait is not None:
            try:
                wait.result(timeout=self._timeout)
                self._stored(wait)  # the callback may not have run yet
            except Exception:  # any failed fetch keeps the cache
                failed = True
        with self._lock:
            found = self._keys.get(kid)
        if found is None:
            unavailable = failed and (unknown or not self._keys)
            reason = "signing keys unavailable" if unavailable else "unknown key ID"
            raise TokenError(reason)
        algorithm, key = found
        if algorithm != self._algorithm:
            raise TokenError("key published for another algorithm")
        return key

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

    def close(self) -> None:
        """Stop the fetch worker (a fetch in flight ends within ``timeout``)."""
        self._worker.shutdown(wait=False, cancel_futures=True)


def _usable_key(entry: object) -> tuple[str, tuple[str, Any]] | None:
    """(kid, (algorithm, key)) for a usable public signing key; None for the rest."""
    if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
        return None
    if entry.get("kty") not in {"RSA", "EC", "OKP"}:  # never "oct": a shared secret
        return None
    if entry.get("use", "sig") != "sig" or "d" in entry:  # a private key is a leak
        return None
    try:
        jwk = jwt.PyJWK(entry)
        algorithm = jwk.algorithm_name
        if algorithm not in PUBLIC_KEY_ALGORITHMS:
            return None
        check_key(algorithm, jwk.key)  # the right type, and strong enough
    except Exception:  # a key we cannot use is left out
        return None
    kid = entry["kid"]
    return (kid, (algorithm, jwk.key)) if 0 < len(kid) <= 128 else None


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
