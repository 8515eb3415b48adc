"""Revoke a single access token: a Redis blocklist keyed by the token's issuer and
``jti``.

The functions take claims that a verifier has already checked (signature, ``exp``,
``iss``, ``aud``), so they work with any JWT library. An entry lives exactly as long as
the token it revokes would have; checking a token costs one round trip and fails closed:
when Redis cannot answer, :class:`RevocationUnavailable` is raised and the token is not
accepted.

Run it against a Redis server of your choice::

    REDIS_URL=redis://127.0.0.1:6379/0 python -m snippets.revocation.revoke_access_token
"""

from __future__ import annotations

# --8<-- [start:setup]
import hashlib
import json
import math
import os
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt
import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.retry import Retry

from snippets.sessions.redis_errors import REDIS_ERRORS
from snippets.tokens.verify_token import DEFAULT_LEEWAY, DEFAULT_MAX_LIFETIME

MAX_CLAIM_CHARS = (
    1024  # a verified claim longer than this is refused, not hashed and stored
)
# The verifier accepts a token until exp plus its leeway: revocation must last as long.
DEFAULT_LEEWAY_SECONDS = int(DEFAULT_LEEWAY.total_seconds())
# The longest exp - iat the verifier accepts: a cut-off older than this refuses nothing.
MAX_ACCESS_TOKEN_LIFETIME = int(DEFAULT_MAX_LIFETIME.total_seconds())
# --8<-- [end:setup]


# --8<-- [start:errors]
class TokenRefused(jwt.InvalidTokenError):
    """The token was revoked, logged out, reused, unknown or malformed: answer 401.

    Attributes:
        reason: One of ``"revoked"``, ``"logged_out"``, ``"reused"``,
            ``"family_revoked"``, ``"unknown"``, ``"expired"`` or ``"malformed"``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"token refused: {reason}")
        self.reason = reason


class RevocationUnavailable(Exception):
    """Redis could not be reached or did not answer, so no token can be accepted: answer
    503.

    Deliberately not a ``jwt.InvalidTokenError``: the token may be fine, the check is
    not.
    """


# --8<-- [end:errors]


# --8<-- [start:client]
def connect(url: str) -> redis.Redis:
    """Return a client that fails fast: a check must not hang while Redis is down.

    Args:
        url: A ``redis://`` or ``rediss://`` URL.

    Returns:
        A client with short timeouts and a single immediate retry (for a stale pooled
        connection), instead of redis-py's default of ten retries with growing back-off.
    """
    return redis.Redis.from_url(
        url, socket_timeout=0.5, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 1)
    )


def connect_async(url: str) -> redis.asyncio.Redis:
    """`connect` for ``redis.asyncio``: the same timeouts and single retry."""
    return redis.asyncio.Redis.from_url(
        url,
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
        retry=redis.asyncio.retry.Retry(NoBackoff(), 1),
    )


# --8<-- [end:client]


# --8<-- [start:keys]
def text_claim(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not 0 < len(value) <= MAX_CLAIM_CHARS:
        raise TokenRefused("malformed")
    return value


def time_claim(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
    ):
        raise TokenRefused("malformed")
    return value


def _digest(*parts: str) -> str:
    # JSON, not "a" + "\0" + "b": a NUL inside a claim cannot make two pairs share a
    # key.
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def user_tag(claims: Mapping[str, Any], *, prefix: str = "") -> str:
    """Return the key stem shared by every Redis key about one user of one issuer.

    The ``{...}`` hash tag puts a user's blocklist entries and cut-off in one Redis
    Cluster slot, so a single ``MGET`` can read both.
    """
    iss, sub = text_claim(claims, "iss"), text_claim(claims, "sub")
    return f"{prefix}{{u:{_digest(iss, sub)[:32]}}}:"


def blocklist_key(claims: Mapping[str, Any], *, prefix: str = "") -> str:
    """Return the blocklist key of a token: bounded size, whatever the claims hold."""
    iss, jti = text_claim(claims, "iss"), text_claim(claims, "jti")
    return user_tag(claims, prefix=prefix) + "revoked:" + _digest(iss, jti)


def cutoff_key(claims: Mapping[str, Any], *, prefix: str = "") -> str:
    """Return the key of the user's cut-off (the user is ``iss`` plus ``sub``)."""
    return user_tag(claims, prefix=prefix) + "cutoff"


# --8<-- [end:keys]


# --8<-- [start:revoke]
def revoke_access_token(
    r: redis.Redis,
    claims: Mapping[str, Any],
    *,
    prefix: str = "",
    leeway: float = DEFAULT_LEEWAY_SECONDS,
    now: Callable[[], float] = time.time,
) -> bool:
    """Blocklist a verified access token until it would have expired anyway.

    Args:
        r: The Redis client.
        claims: The token's verified claims; ``iss``, ``sub``, ``jti`` and ``exp`` are
            used.
        prefix: Prepended to every key.
        leeway: The verifier's leeway in seconds: the entry outlives ``exp`` by this
            much (``verify_token``'s own by default, so a revoked token never verifies
            again inside it).
        now: The clock, in seconds since the epoch.

    Returns:
        True if an entry was written; False if the token has already expired (no entry
        needed).

    Raises:
        TokenRefused: The claims are malformed (reason ``"malformed"``).
        RevocationUnavailable: Redis did not answer; the token is NOT revoked.
    """
    key = blocklist_key(claims, prefix=prefix)
    ttl = math.ceil(time_claim(claims, "exp") + leeway - now())
    if ttl <= 0:
        return False
    try:
        r.set(key, b"1", ex=ttl)
    except REDIS_ERRORS as exc:
        raise RevocationUnavailable("could not write the blocklist entry") from exc
    return True


def ensure_not_revoked(
    r: redis.Redis, claims: Mapping[str, Any], *, prefix: str = ""
) -> None:
    """Refuse a blocklisted token, in one round trip; fail closed.

    Raises:
        TokenRefused: The token is blocklisted (``"revoked"``) or its claims are
            malformed.
        RevocationUnavailable: Redis did not answer, so the token cannot be accepted.
    """
    key = blocklist_key(claims, prefix=prefix)
    try:
        listed = r.exists(key)
    except REDIS_ERRORS as exc:
        raise RevocationUnavailable("could not read the blocklist") from exc
    if listed:
        raise TokenRefused("revoked")


_RAISE_CUTOFF = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
redis.call('SET', KEYS[1], math.max(current, tonumber(ARGV[1])), 'EX', ARGV[2])
"""


def _cutoff_args(
    issuer: str, subject: str, prefix: str, now: Callable[[], float]
) -> tuple[list[str], list[int]]:
    key = cutoff_key({"iss": issuer, "sub": subject}, prefix=prefix)
    # Rounded up: a token issued at 100.4 (a fractional iat is allowed) is at or before
    # a cut-off taken at 100.7. A token issued later in that second is refused too.
    ttl = MAX_ACCESS_TOKEN_LIFETIME + DEFAULT_LEEWAY_SECONDS + 1
    return [key], [math.ceil(now()), ttl]


def raise_cutoff(
    r: redis.Redis,
    *,
    issuer: str,
    subject: str,
    prefix: str = "",
    now: Callable[[], float] = time.time,
) -> None:
    """Refuse every access token of the user issued up to now (``iat`` at or before
    the cut-off), for as long as such a token could still verify.

    A Lua max: a process with a slower clock can never move the cut-off back.

    Raises:
        TokenRefused: ``issuer`` or ``subject`` is malformed.
        RevocationUnavailable: Redis did not answer; no token was cut off.
    """
    keys, args = _cutoff_args(issuer, subject, prefix, now)
    try:
        r.register_script(_RAISE_CUTOFF)(keys=keys, args=args)
    except REDIS_ERRORS as exc:
        raise RevocationUnavailable("could not store the cut-off") from exc


async def raise_cutoff_async(
    r: redis.asyncio.Redis,
    *,
    issuer: str,
    subject: str,
    prefix: str = "",
    now: Callable[[], float] = time.time,
) -> None:
    """`raise_cutoff` for ``redis.asyncio``."""
    keys, args = _cutoff_args(issuer, subject, prefix, now)
    try:
        await r.register_script(_RAISE_CUTOFF)(keys=keys, args=args)
    except REDIS_ERRORS as exc:
        raise RevocationUnavailable("could not store the cut-off") from exc


# --8<-- [end:revoke]


def main() -> None:
    # --8<-- [start:demo]
    r = connect(os.environ["REDIS_URL"])
    prefix = os.environ.get("REDIS_KEY_PREFIX", "app:")
    clock = 1_700_000_000  # a fixed "now" keeps the printed TTL exact
    claims = {  # as returned by the verifier
        "iss": "https://auth.example.com",
        "sub": "user-42",
        "jti": secrets.token_urlsafe(16),
        "iat": clock,
        "exp": clock + 900,
    }
    ensure_not_revoked(r, claims, prefix=prefix)  # not revoked: returns quietly
    print(revoke_access_token(r, claims, prefix=prefix, now=lambda: clock + 300))
    #> True
    # the token's remaining life, plus the verifier's 10 s of leeway
    print(r.ttl(blocklist_key(claims, prefix=prefix)))
    #> 610
    try:
        ensure_not_revoked(r, claims, prefix=prefix)
    except TokenRefused as exc:
        print(exc.reason)
        #> revoked
    expired = {**claims, "jti": "old", "exp": clock - 11}  # past exp and leeway
    print(revoke_access_token(r, expired, prefix=prefix, now=lambda: clock))
    #> False
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
