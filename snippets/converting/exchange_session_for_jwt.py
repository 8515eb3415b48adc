"""Token exchange: a live session buys a short-lived JWT for one downstream service.

The browser keeps its session cookie; when a request must reach another service, the
server that holds the session mints a JWT for that service alone (one ``aud``), valid
for minutes, carrying the session's handle as ``sid``. The downstream service verifies
the JWT with the public key only, without Redis. A destroyed or expired session mints
nothing more; a service that must honour logout at once also checks ``sid`` against
Redis, in one round trip.

``sid`` is the session's *handle* (the SHA-256 of the session ID, as `RedisSessionStore`
stores it), never the session ID itself: a JWT is readable by whoever holds it, and the
cookie value must not leak through it.

Run it against a Redis server of your choice::

    REDIS_URL=redis://127.0.0.1:6379/0 python -m
    snippets.converting.exchange_session_for_jwt
"""

from __future__ import annotations

# --8<-- [start:setup]
import os
import re
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import redis

from snippets.sessions.redis_errors import REDIS_ERRORS
from snippets.sessions.session_store import (
    RedisSessionStore,
    SessionStoreUnavailable,
    connect,
    session_key,
    unpack_record,
)
from snippets.tokens.issue_access_token import issue_access_token
from snippets.tokens.keys import generate_private_key
from snippets.tokens.verify_token import TokenError, verify_token

EXCHANGE_LIFETIME = timedelta(minutes=5)
_HANDLE = re.compile(r"[0-9a-f]{64}")
# --8<-- [end:setup]


# --8<-- [start:exchange]
class ExchangeRefused(Exception):
    """No token was minted: the session is not live or the audience is not allowed.

    Answer 401 (no session) or 403 (audience); the message names the reason, never a
    secret.
    """


@dataclass(frozen=True)
class Signer:
    """The exchange service's signing key and the ``iss`` it signs as.

    Attributes:
        key: Private key object (RS256, ES256, EdDSA) or HMAC secret bytes (HS256).
        algorithm: The one algorithm bound to ``key``.
        kid: The key's ID, published with the public key in the JWKS.
        issuer: Value of ``iss`` in every exchanged token.
    """

    key: Any
    algorithm: str
    kid: str
    issuer: str


def exchange_session_for_jwt(
    store: RedisSessionStore,
    session_id: object,
    *,
    audience: str,
    allowed_audiences: Collection[str],
    signer: Signer,
    lifetime: timedelta = EXCHANGE_LIFETIME,
    now: float | None = None,
) -> str:
    """Mint a short-lived access token for one downstream ``audience`` from a live
    session.

    Args:
        store: The session store that holds the session.
        session_id: The untrusted session ID from the cookie.
        audience: The one service the token is for.
        allowed_audiences: The services this exchange may mint tokens for.
        signer: Key, algorithm, kid and issuer to sign with.
        lifetime: Longest life of the token; it never outlives the session either.
        now: Current time in seconds since the epoch; ``time.time()`` when omitted.

    Returns:
        A compact JWT (``typ: at+jwt``) with ``sub``, ``aud``, ``sid`` and a few
        minutes' life.

    Raises:
        ExchangeRefused: The session is not live, or the audience is not allowed.
        SessionStoreUnavailable: Redis could not answer; mint nothing (answer 503).
        TypeError: ``allowed_audiences`` is a string: ``in`` would test substrings
            (the mistake behind CVE-2024-53861).
    """
    if isinstance(allowed_audiences, str | bytes):
        raise TypeError("allowed_audiences must be a collection of names, not a string")
    if not isinstance(audience, str) or audience not in allowed_audiences:
        raise ExchangeRefused("audience not allowed")
    session = store.validate(session_id)  # one round trip; None if destroyed or expired
    if session is None:
        raise ExchangeRefused("no live session")
    issued_at = time.time() if now is None else now
    remaining = min(session.expires_at, session.idle_expires_at) - issued_at
    life = min(lifetime, timedelta(seconds=int(remaining)))
    if life <= timedelta(0):
        raise ExchangeRefused("no live session")
    return issue_access_token(
        session.user_id,
        signer.key,
        algorithm=signer.algorithm,
        kid=signer.kid,
        issuer=signer.issuer,
        audience=audience,
        lifetime=life,
        now=issued_at,
        extra_claims={"sid": session.handle},
    )


# --8<-- [end:exchange]


# --8<-- [start:downstream]
def verify_exchanged_token(
    token: str | bytes,
    public_key: Any,
    *,
    algorithm: str,
    audience: str,
    issuer: str,
    now: float | None = None,
) -> dict[str, Any]:
    """Verify an exchanged token as a downstream service does: with the public key only.

    Args:
        token: The bearer token as received; hostile.
        public_key: The exchange service's public key (from its JWKS).
        algorithm: The one algorithm bound to that key.
        audience: This service's own identifier: a token minted for another is refused.
        issuer: The exchange service's ``iss``.
        now: Current time in seconds since the epoch; ``time.time()`` when omitted.

    Returns:
        The token's claims, ``sid`` included.

    Raises:
        TokenError: The token is refused (signature, audience, expiry, type, no
            ``sid``).
    """
    claims = verify_token(
        token,
        public_key,
        algorithm=algorithm,
        audience=audience,
        issuer=issuer,
        typ="at+jwt",
        max_lifetime=EXCHANGE_LIFETIME,
        now=now,
    )
    if not isinstance(claims.get("sid"), str) or not _HANDLE.fullmatch(claims["sid"]):
        raise TokenError("missing or malformed sid")
    return claims


# --8<-- [end:downstream]


# --8<-- [start:sid-check]
def session_is_live(
    r: redis.Redis, sid: object, *, prefix: str = "", now: float | None = None
) -> bool:
    """Tell whether the session behind ``sid`` is still live: one Redis round trip.

    For the services that must honour logout at once (payments, account changes). It
    reads the session's deadlines where `RedisSessionStore` keeps them and does not
    slide them.

    Args:
        r: A client of the Redis that holds the sessions.
        sid: The ``sid`` claim of a verified token.
        prefix: The session store's key prefix.
        now: Current time in seconds since the epoch; ``time.time()`` when omitted.

    Returns:
        True if the session exists and neither deadline has passed.

    Raises:
        SessionStoreUnavailable: Redis could not answer; treat the session as ended.
    """
    if not (isinstance(sid, str) and _HANDLE.fullmatch(sid)):
        return False
    try:
        value = r.get(session_key(prefix, sid))
    except REDIS_ERRORS as exc:
        raise SessionStoreUnavailable(f"session store unavailable: {exc}") from exc
    try:  # a reply is trusted no more than a token
        record = unpack_record(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SessionStoreUnavailable("malformed session record") from exc
    if record is None:
        return False
    now_ms = (time.time() if now is None else now) * 1000
    return now_ms < min(record[3], record[4])  # the absolute and idle deadlines


# --8<-- [end:sid-check]


def main() -> None:
    # --8<-- [start:demo]
    r = connect(os.environ["REDIS_URL"])
    prefix = os.environ.get("REDIS_KEY_PREFIX", "app:")
    clock = 1_700_000_000.0
    store = RedisSessionStore(r, prefix=prefix, now=lambda: clock)
    private_key = generate_private_key("EdDSA")
    signer = Signer(private_key, "EdDSA", "exchange-2026-11", "https://app.example.com")
    public_key = private_key.public_key()
    services = {"https://orders.example.com", "https://reports.example.com"}
    session_id = store.create("alice", {"role": "reader"})
    token = exchange_session_for_jwt(
        store,
        session_id,
        audience="https://orders.example.com",
        allowed_audiences=services,
        signer=signer,
        now=clock,
    )
    claims = verify_exchanged_token(  # in the orders service: no Redis needed
        token,
        public_key,
        algorithm="EdDSA",
        audience="https://orders.example.com",
        issuer="https://app.example.com",
        now=clock + 60,
    )
    print(claims["sub"], claims["exp"] - claims["iat"], len(claims["sid"]))
    #> alice 300 64
    try:  # the reports service refuses a token minted for the orders service
        verify_exchanged_token(
            token,
            public_key,
            algorithm="EdDSA",
            audience="https://reports.example.com",
            issuer="https://app.example.com",
            now=clock + 60,
        )
    except TokenError as exc:
        print(exc)
        #> audience not accepted
    print(session_is_live(r, claims["sid"], prefix=prefix, now=clock + 60))
    #> True
    store.destroy(session_id)  # logout
    print(session_is_live(r, claims["sid"], prefix=prefix, now=clock + 60))
    #> False
    try:
        exchange_session_for_jwt(
            store,
            session_id,
            audience="https://orders.example.com",
            allowed_audiences=services,
            signer=signer,
            now=clock + 60,
        )
    except ExchangeRefused as exc:
        print(exc)
        #> no live session
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
