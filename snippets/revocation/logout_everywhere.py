"""Log a user out everywhere: a per-user cut-off time that refuses every older access
token.

"Log out everywhere" (after a password change, or from a "sign out of all devices"
button) cannot list the user's access tokens: they are not stored anywhere. Instead it
stores one number per user, the cut-off, and refuses any token whose ``iat`` is not
after it. It also revokes the user's refresh-token families, or the next refresh would
mint a fresh token.

The check reads the token's blocklist entry and the user's cut-off with ONE ``MGET``:
both keys carry the user's hash tag, so they sit in one Redis Cluster slot.

Run it against a Redis server of your choice::

    REDIS_URL=redis://127.0.0.1:6379/0 python -m snippets.revocation.logout_everywhere
"""

from __future__ import annotations

# --8<-- [start:setup]
import math
import os
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

import redis
import redis.asyncio

from snippets.revocation.revoke_access_token import (
    RevocationUnavailable,
    TokenRefused,
    blocklist_key,
    connect,
    revoke_access_token,
    time_claim,
    user_tag,
)
from snippets.revocation.rotate_refresh_token import (
    issue_refresh_token,
    revoke_user_families,
    rotate_refresh_token,
)

MAX_ACCESS_TOKEN_LIFETIME = (
    3600  # the verifier refuses longer-lived tokens; so may the cut-off
)
# --8<-- [end:setup]


# --8<-- [start:logout]
_RAISE_CUTOFF = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
redis.call('SET', KEYS[1], math.max(current, tonumber(ARGV[1])), 'EX', ARGV[2])
"""


def cutoff_key(claims: Mapping[str, Any], *, prefix: str = "") -> str:
    """Return the key of the user's cut-off (the user is ``iss`` plus ``sub``)."""
    return user_tag(claims, prefix=prefix) + "cutoff"


def logout_everywhere(
    r: redis.Redis,
    *,
    issuer: str,
    subject: str,
    prefix: str = "",
    max_token_lifetime: int = MAX_ACCESS_TOKEN_LIFETIME,
    leeway: int = 0,
    now: Callable[[], float] = time.time,
) -> int:
    """Refuse every access token the user holds now, and revoke every refresh family.

    The cut-off is the current second: a token is refused when ``iat <= cut-off``.
    ``iat`` has one-second granularity, so a token issued later in that same second is
    refused too; that errs on the safe side and costs at most one extra login.

    Args:
        r: The Redis client.
        issuer: The user's issuer (``iss``).
        subject: The user (``sub``).
        prefix: Prepended to every key.
        max_token_lifetime: The longest ``exp - iat`` the verifier accepts; the cut-off
            is kept that long (plus ``leeway``), after which every older token has
            expired.
        leeway: The verifier's leeway in seconds.
        now: The clock, in seconds since the epoch.

    Returns:
        How many live refresh families were revoked.

    Raises:
        RevocationUnavailable: Redis did not answer; the user may still be logged in.
    """
    key = cutoff_key({"iss": issuer, "sub": subject}, prefix=prefix)
    ttl = max_token_lifetime + leeway + 1
    try:  # a Lua max: a server with a slower clock cannot move the cut-off back
        r.register_script(_RAISE_CUTOFF)(keys=[key], args=[math.floor(now()), ttl])
    except redis.RedisError as exc:
        raise RevocationUnavailable("could not store the cut-off") from exc
    return revoke_user_families(r, issuer=issuer, subject=subject, prefix=prefix)


# --8<-- [end:logout]


# --8<-- [start:check]
def check_access_token(
    r: redis.Redis, claims: Mapping[str, Any], *, prefix: str = ""
) -> None:
    """Refuse a verified access token that was revoked or issued before the user's
    cut-off.

    One round trip (``MGET`` of two keys in one hash slot); fails closed.

    Args:
        r: The Redis client.
        claims: The token's verified claims; ``iss``, ``sub``, ``jti`` and ``iat`` are
            used.
        prefix: Prepended to every key.

    Raises:
        TokenRefused: ``"revoked"`` (blocklisted), ``"logged_out"`` (``iat`` at or
            before the cut-off) or ``"malformed"``.
        RevocationUnavailable: Redis did not answer, so the token cannot be accepted.
    """
    keys, issued_at = _revocation_keys(claims, prefix)
    try:
        revoked, cutoff = r.mget(keys)
    except redis.RedisError as exc:
        raise RevocationUnavailable("could not read the revocation state") from exc
    _refuse_if_revoked(revoked, cutoff, issued_at)


def _revocation_keys(
    claims: Mapping[str, Any], prefix: str
) -> tuple[list[str], float]:
    keys = [blocklist_key(claims, prefix=prefix), cutoff_key(claims, prefix=prefix)]
    return keys, time_claim(claims, "iat")


def _refuse_if_revoked(
    revoked: bytes | str | None, cutoff: bytes | str | None, issued_at: float
) -> None:
    if revoked is not None:
        raise TokenRefused("revoked")
    if cutoff is None:
        return
    try:  # a reply is trusted no more than the token
        cutoff_second = int(cutoff)
    except ValueError as exc:
        raise RevocationUnavailable("malformed cut-off in Redis") from exc
    if issued_at <= cutoff_second:
        raise TokenRefused("logged_out")


# --8<-- [end:check]


# --8<-- [start:async_check]
async def check_access_token_async(
    r: redis.asyncio.Redis, claims: Mapping[str, Any], *, prefix: str = ""
) -> None:
    """`check_access_token` for ``redis.asyncio``: one ``MGET``, the same errors."""
    keys, issued_at = _revocation_keys(claims, prefix)
    try:
        revoked, cutoff = await r.mget(keys)
    except redis.RedisError as exc:
        raise RevocationUnavailable("could not read the revocation state") from exc
    _refuse_if_revoked(revoked, cutoff, issued_at)


# --8<-- [end:async_check]


def main() -> None:
    # --8<-- [start:demo]
    r = connect(os.environ["REDIS_URL"])
    prefix = os.environ.get("REDIS_KEY_PREFIX", "app:")
    clock = 1_700_000_000.4

    def claims_at(iat: int) -> dict[str, Any]:
        return {
            "iss": "https://auth.example.com",
            "sub": "user-42",
            "jti": secrets.token_urlsafe(16),
            "iat": iat,
            "exp": iat + 900,
        }

    user = {"iss": "https://auth.example.com", "sub": "user-42"}
    r.delete(
        cutoff_key(user, prefix=prefix), user_tag(user, prefix=prefix) + "families"
    )
    laptop = claims_at(1_700_000_000 - 600)  # issued ten minutes ago
    phone = claims_at(1_700_000_000 - 60)  # issued a minute ago
    refresh = issue_refresh_token(
        r,
        issuer="https://auth.example.com",
        subject="user-42",
        prefix=prefix,
        now=lambda: clock - 60,
    )
    check_access_token(r, phone, prefix=prefix)  # accepted: returns quietly

    revoked_families = logout_everywhere(
        r,
        issuer="https://auth.example.com",
        subject="user-42",
        prefix=prefix,
        now=lambda: clock,
    )
    print(revoked_families)
    #> 1
    for claims in (laptop, phone, claims_at(1_700_000_000)):  # the last: same second
        try:
            check_access_token(r, claims, prefix=prefix)
        except TokenRefused as exc:
            print(exc.reason)
            #> logged_out
            #> logged_out
            #> logged_out
    check_access_token(r, claims_at(1_700_000_001), prefix=prefix)  # after: accepted
    try:
        rotate_refresh_token(r, refresh, prefix=prefix, now=lambda: clock + 1)
    except TokenRefused as exc:
        print(exc.reason)
        #> family_revoked

    later = claims_at(1_700_000_005)
    revoke_access_token(r, later, prefix=prefix, now=lambda: clock + 5)
    try:
        # the blocklist, in the same round trip
        check_access_token(r, later, prefix=prefix)
    except TokenRefused as exc:
        print(exc.reason)
        #> revoked
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
