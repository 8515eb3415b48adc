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
    cutoff_key,
    raise_cutoff,
    revoke_access_token,
    time_claim,
    user_tag,
)
from snippets.revocation.rotate_refresh_token import (
    issue_refresh_token,
    revoke_user_families,
    rotate_refresh_token,
)
from snippets.sessions.redis_errors import REDIS_ERRORS

# --8<-- [end:setup]


# --8<-- [start:logout]
def logout_everywhere(
    r: redis.Redis,
    *,
    issuer: str,
    subject: str,
    prefix: str = "",
    now: Callable[[], float] = time.time,
) -> int:
    """Refuse every access token the user holds now, and revoke every refresh family.

    Two steps, in this order. First the refresh families are revoked, so that no
    refresh after this point mints anything. Then the cut-off is raised to the
    current second, rounded up: a token is refused when ``iat <= cut-off``. A refresh
    that won its rotation before the families were revoked mints its access token
    with the rotation's time as ``iat`` (`Rotation.issued_at`), so it is before the
    cut-off however late it is minted. A token issued later in the same second is
    refused too, which errs on the safe side and costs at most one extra login.

    Args:
        r: The Redis client.
        issuer: The user's issuer (``iss``).
        subject: The user (``sub``).
        prefix: Prepended to every key.
        now: The clock, in seconds since the epoch.

    Returns:
        How many live refresh families were revoked.

    Raises:
        RevocationUnavailable: Redis did not answer; the user may still be logged in.
    """
    revoked = revoke_user_families(r, issuer=issuer, subject=subject, prefix=prefix)
    raise_cutoff(r, issuer=issuer, subject=subject, prefix=prefix, now=now)
    return revoked


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
    except REDIS_ERRORS as exc:
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
    # The cut-off is a whole second (rounded up); iat may be fractional.
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
    except REDIS_ERRORS as exc:
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
    # The cut-off is rounded up to the next second: later tokens are accepted.
    check_access_token(r, claims_at(1_700_000_002), prefix=prefix)
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
