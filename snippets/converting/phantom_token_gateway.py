"""Phantom token: clients hold an opaque token, services inside receive a JWT.

The client (a mobile app, a partner) gets a random opaque token: it reveals nothing and
can be revoked by deleting one Redis key. The gateway at the edge swaps it for a
short-lived JWT, once, with one Redis lookup, and forwards the JWT to the services
behind it, which verify it without Redis. The swap is cached in the gateway's memory for
``cache_seconds`` at most, and never longer than the opaque token or the JWT lives.

Revocation lag: a revoked opaque token can still pass a gateway process that cached it,
for at most ``cache_seconds`` (10 by default); every other process refuses it at once.
The JWTs already forwarded live on for at most their own lifetime (5 minutes): a service
that must not accept them after revocation checks their ``jti`` or keeps them shorter.

Run it against a Redis server of your choice::

    REDIS_URL=redis://127.0.0.1:6379/0 python -m
    snippets.converting.phantom_token_gateway
"""

from __future__ import annotations

# --8<-- [start:setup]
import hashlib
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import redis

from snippets.converting.exchange_session_for_jwt import Signer, session_is_live
from snippets.sessions.redis_errors import REDIS_ERRORS
from snippets.sessions.session_store import connect
from snippets.tokens.issue_access_token import issue_access_token
from snippets.tokens.keys import generate_private_key
from snippets.tokens.verify_token import verify_token

OPAQUE_LIFETIME_SECONDS = 60 * 60
INTERNAL_JWT_LIFETIME = timedelta(minutes=5)
CACHE_SECONDS = 10.0
MAX_CACHE_ENTRIES = 10_000
_OPAQUE = re.compile(r"[A-Za-z0-9_-]{43}")
# --8<-- [end:setup]


# --8<-- [start:errors]
class OpaqueTokenRefused(Exception):
    """The opaque token is malformed, unknown, expired or revoked: answer 401."""


class TokenStoreUnavailable(Exception):
    """Redis could not answer: refuse the request with 503, never let it through."""


# --8<-- [end:errors]


# --8<-- [start:issue]
def _key(prefix: str, token: str) -> str:
    return f"{prefix}phantom:{hashlib.sha256(token.encode()).hexdigest()}"


def issue_opaque_token(
    r: redis.Redis,
    subject: str,
    *,
    scope: str = "",
    session: str | None = None,
    lifetime: int = OPAQUE_LIFETIME_SECONDS,
    prefix: str = "",
    now: float | None = None,
) -> str:
    """Issue an opaque token for ``subject``; Redis keeps what it stands for.

    Args:
        r: The Redis that gateways look tokens up in.
        subject: The user or client the token stands for.
        scope: Space-separated scopes, copied into the JWT.
        session: The handle of the session the token was issued from (its ``sid``):
            the token then ends with that session, at logout or log out everywhere.
        lifetime: Seconds until the token expires.
        prefix: Put in front of every key.
        now: Current time in seconds since the epoch; ``time.time()`` when omitted.

    Returns:
        43 random base64url characters; only their SHA-256 is stored.
    """
    token = secrets.token_urlsafe(32)
    expires = int(time.time() if now is None else now) + lifetime
    record = json.dumps(
        {"sub": subject, "scope": scope, "exp": expires, "sid": session}
    )
    try:
        r.set(_key(prefix, token), record, ex=lifetime, nx=True)
    except REDIS_ERRORS as exc:
        raise TokenStoreUnavailable(f"token store unavailable: {exc}") from exc
    return token


def revoke_opaque_token(r: redis.Redis, token: object, *, prefix: str = "") -> bool:
    """Revoke an opaque token; gateways refuse it within ``cache_seconds``.

    Returns:
        True if a live token was revoked.
    """
    if not isinstance(token, str) or not _OPAQUE.fullmatch(token):
        return False
    try:
        return bool(r.delete(_key(prefix, token)))
    except REDIS_ERRORS as exc:
        raise TokenStoreUnavailable(f"token store unavailable: {exc}") from exc


# --8<-- [end:issue]


# --8<-- [start:gateway]
def _record(raw: bytes | str) -> tuple[str, str, float, str | None]:
    """(sub, scope, exp, sid) of a stored token; a malformed record is a store error,
    never another exception (a Redis reply is input too)."""
    try:
        record = json.loads(raw)
        subject, scope, expires = record["sub"], record["scope"], record["exp"]
        sid = record.get("sid")
        if not (
            isinstance(subject, str)
            and subject
            and isinstance(scope, str)
            and isinstance(expires, int)
            and not isinstance(expires, bool)
            and (sid is None or isinstance(sid, str))
        ):
            raise ValueError("unexpected field types")
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise TokenStoreUnavailable("malformed token record") from exc
    return subject, scope, expires, sid


class PhantomTokenGateway:
    """Swap opaque tokens for internal JWTs, with a short in-process cache.

    Args:
        r: The Redis that holds the opaque tokens.
        signer: Key, algorithm, kid and issuer of the internal JWTs.
        audience: The ``aud`` of the internal JWTs: the services behind the gateway.
        prefix: The key prefix `issue_opaque_token` used.
        cache_seconds: Longest time a swap is reused: the revocation lag of this
            process.
        jwt_lifetime: Longest life of an internal JWT.
        max_entries: Cache size cap; the oldest entries go first.
        now: The clock, seconds since the epoch. Tests pass their own.
    """

    def __init__(
        self,
        r: redis.Redis,
        *,
        signer: Signer,
        audience: str,
        prefix: str = "",
        cache_seconds: float = CACHE_SECONDS,
        jwt_lifetime: timedelta = INTERNAL_JWT_LIFETIME,
        max_entries: int = MAX_CACHE_ENTRIES,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._r, self._signer, self._audience, self._prefix = (
            r,
            signer,
            audience,
            prefix,
        )
        self._cache_seconds, self._jwt_lifetime = cache_seconds, jwt_lifetime
        self._max_entries, self._now = max_entries, now
        # token hash -> (jwt, reuse until)
        self._cache: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def exchange(self, opaque_token: object) -> str:
        """Return an internal JWT for a live opaque token.

        Raises:
            OpaqueTokenRefused: Malformed, unknown, expired or revoked.
            TokenStoreUnavailable: Redis could not answer.
        """
        if not isinstance(opaque_token, str) or not _OPAQUE.fullmatch(opaque_token):
            raise OpaqueTokenRefused("malformed token")  # nothing odd reaches Redis
        key = _key(self._prefix, opaque_token)
        now = self._now()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and now < cached[1]:
                return cached[0]
        try:
            raw = self._r.get(key)
        except REDIS_ERRORS as exc:
            raise TokenStoreUnavailable(f"token store unavailable: {exc}") from exc
        if raw is None:
            with self._lock:
                self._cache.pop(key, None)
            raise OpaqueTokenRefused("unknown, expired or revoked token")
        subject, scope, expires, sid = _record(raw)
        remaining = int(expires - now)
        if remaining < 1:
            raise OpaqueTokenRefused("unknown, expired or revoked token")
        # A token issued from a session ends with it (one more read, once per cache).
        if sid is not None and not session_is_live(
            self._r, sid, prefix=self._prefix, now=now
        ):
            raise OpaqueTokenRefused("the session behind this token has ended")
        lifetime = min(self._jwt_lifetime, timedelta(seconds=remaining))
        token = issue_access_token(
            subject,
            self._signer.key,
            algorithm=self._signer.algorithm,
            kid=self._signer.kid,
            issuer=self._signer.issuer,
            audience=self._audience,
            lifetime=lifetime,
            now=now,
            extra_claims={"scope": scope, **({"sid": sid} if sid else {})},
        )
        reuse_until = min(now + self._cache_seconds, now + lifetime.total_seconds())
        with self._lock:
            if len(self._cache) >= self._max_entries:
                self._cache = {k: v for k, v in self._cache.items() if v[1] > now}
                while len(self._cache) >= self._max_entries:
                    del self._cache[next(iter(self._cache))]
            self._cache[key] = (token, reuse_until)
        return token

    def forward_headers(self, authorization: object) -> dict[str, str]:
        """Turn the client's ``Authorization`` header into the one to forward inside.

        Raises:
            OpaqueTokenRefused: No bearer token, or a refused one.
            TokenStoreUnavailable: Redis could not answer.
        """
        if not isinstance(authorization, str):
            raise OpaqueTokenRefused("missing bearer token")
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credentials:
            raise OpaqueTokenRefused("missing bearer token")
        return {"Authorization": f"Bearer {self.exchange(credentials.strip())}"}


# --8<-- [end:gateway]


def main() -> None:
    # --8<-- [start:demo]
    r = connect(os.environ["REDIS_URL"])
    prefix = os.environ.get("REDIS_KEY_PREFIX", "app:")
    clock = [1_700_000_000.0]
    private_key = generate_private_key("EdDSA")
    signer = Signer(private_key, "EdDSA", "gateway-1", "https://gateway.example.com")
    gateway = PhantomTokenGateway(
        r,
        signer=signer,
        audience="https://internal.example.com",
        prefix=prefix,
        now=lambda: clock[0],
    )
    opaque = issue_opaque_token(
        r, "alice", scope="orders:read", prefix=prefix, now=clock[0]
    )
    # the client's token: 43 characters, no claims
    print(len(opaque), opaque.count("."))
    #> 43 0
    inside = gateway.forward_headers(f"Bearer {opaque}")["Authorization"].removeprefix(
        "Bearer "
    )
    claims = verify_token(  # a service behind the gateway: public key, no Redis
        inside,
        private_key.public_key(),
        algorithm="EdDSA",
        typ="at+jwt",
        audience="https://internal.example.com",
        issuer="https://gateway.example.com",
        now=clock[0],
    )
    print(claims["sub"], claims["scope"], claims["exp"] - claims["iat"])
    #> alice orders:read 300
    revoke_opaque_token(r, opaque, prefix=prefix)
    print(gateway.exchange(opaque) == inside)  # still cached: the lag is at most 10 s
    #> True
    clock[0] += 10
    try:
        gateway.exchange(opaque)
    except OpaqueTokenRefused as exc:
        print(exc)
        #> unknown, expired or revoked token
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
