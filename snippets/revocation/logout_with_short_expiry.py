"""Short expiry as a pattern: minutes-long access tokens, days-long rotating refresh
tokens.

Logging in returns a 15-minute JWT and an opaque refresh token. Every API request
verifies the JWT and checks the blocklist and the user's cut-off (one round trip).
Refreshing rotates the refresh token. Logging out revokes the refresh family and
blocklists the access token still in the client's hands, so it is refused at once rather
than for the rest of its 15 minutes.

Built on ``snippets.tokens`` (issuing and verifying) and the other
``snippets.revocation`` modules. Run it with a secret in the environment::

    export JWT_SECRET="$(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
    REDIS_URL=redis://127.0.0.1:6379/0 python -m
    snippets.revocation.logout_with_short_expiry
"""

from __future__ import annotations

# --8<-- [start:setup]
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import redis

from snippets.revocation.logout_everywhere import check_access_token
from snippets.revocation.revoke_access_token import (
    TokenRefused,
    connect,
    revoke_access_token,
)
from snippets.revocation.rotate_refresh_token import (
    REFRESH_LIFETIME,
    issue_refresh_token,
    revoke_refresh_family,
    rotate_refresh_token,
)
from snippets.tokens.issue_access_token import issue_access_token
from snippets.tokens.keys import load_hmac_secret
from snippets.tokens.verify_token import DEFAULT_LEEWAY, TokenError, verify_token

ISSUER = "https://auth.example.com"
AUDIENCE = "https://api.example.com"
ALGORITHM, KID = "HS256", "hs256-1"
# --8<-- [end:setup]


# --8<-- [start:lifetimes]
ACCESS_LIFETIME = timedelta(minutes=15)  # the most a stolen access token is worth
# REFRESH_LIFETIME: a refresh token unused for 7 days expires (rotate_refresh_token.py).
# FAMILY_LIFETIME: a login ends after 30 days however often it refreshes; then log in
# again.
# --8<-- [end:lifetimes]


# --8<-- [start:pattern]
@dataclass(frozen=True)
class TokenPair:
    """What the client receives at login and at every refresh.

    Attributes:
        access_token: A signed JWT, sent as ``Authorization: Bearer ...``.
        refresh_token: An opaque token, sent only to the refresh endpoint.
        expires_in: Seconds until the access token expires.
    """

    access_token: str
    refresh_token: str
    expires_in: int


def _access_token(subject: str, key: bytes, now: float) -> str:
    return issue_access_token(
        subject,
        key,
        algorithm=ALGORITHM,
        kid=KID,
        issuer=ISSUER,
        audience=AUDIENCE,
        lifetime=ACCESS_LIFETIME,
        now=now,
    )


def log_in(
    r: redis.Redis,
    key: bytes,
    subject: str,
    *,
    prefix: str = "",
    now: Callable[[], float] = time.time,
) -> TokenPair:
    """Start a session for ``subject`` once the password (or other factor) is checked.

    Raises:
        RevocationUnavailable: Redis did not answer; no tokens were issued.
    """
    refresh = issue_refresh_token(
        r, issuer=ISSUER, subject=subject, prefix=prefix, now=now
    )
    return TokenPair(
        _access_token(subject, key, now()),
        refresh,
        int(ACCESS_LIFETIME.total_seconds()),
    )


def _verify(access_token: str, key: bytes, now: Callable[[], float]) -> dict[str, Any]:
    # The one set of checks every access token of this pattern must pass.
    return verify_token(
        access_token,
        key,
        algorithm=ALGORITHM,
        audience=AUDIENCE,
        issuer=ISSUER,
        typ="at+jwt",
        now=now(),
    )


def authenticate(
    r: redis.Redis,
    key: bytes,
    access_token: str,
    *,
    prefix: str = "",
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Return the claims of an access token that is valid, not revoked and not logged
    out.

    Raises:
        TokenError: The token fails verification (bad signature, expired, ...).
        TokenRefused: The token was revoked or issued before the user's cut-off.
        RevocationUnavailable: Redis did not answer: refuse the request (fail closed).
    """
    claims = _verify(access_token, key, now)
    check_access_token(r, claims, prefix=prefix)
    return claims


def refresh(
    r: redis.Redis,
    key: bytes,
    refresh_token: str,
    *,
    prefix: str = "",
    now: Callable[[], float] = time.time,
) -> TokenPair:
    """Trade a refresh token for a new pair; the presented refresh token is retired.

    Raises:
        TokenRefused: The refresh token is malformed, unknown, expired, reused or
            revoked.
        RevocationUnavailable: Redis did not answer; nothing was rotated.
    """
    rotation = rotate_refresh_token(
        r, refresh_token, prefix=prefix, now=now, lifetime=REFRESH_LIFETIME
    )
    return TokenPair(
        _access_token(rotation.subject, key, rotation.issued_at),
        rotation.refresh_token,
        int(ACCESS_LIFETIME.total_seconds()),
    )


def log_out(
    r: redis.Redis,
    key: bytes,
    refresh_token: str,
    access_token: str | None = None,
    *,
    prefix: str = "",
    now: Callable[[], float] = time.time,
) -> None:
    """Revoke the refresh family, then blocklist the access token the client still
    holds.

    An access token that no longer verifies (expired, say) needs no blocklist entry.

    Raises:
        TokenRefused: The refresh token is malformed.
        RevocationUnavailable: Redis did not answer; the user is NOT logged out.
    """
    revoke_refresh_family(r, refresh_token, prefix=prefix)
    if access_token is None:
        return
    try:
        claims = _verify(access_token, key, now)
    except TokenError:
        return
    revoke_access_token(
        r, claims, prefix=prefix, now=now, leeway=DEFAULT_LEEWAY.total_seconds()
    )


# --8<-- [end:pattern]


def main() -> None:
    # --8<-- [start:demo]
    r = connect(os.environ["REDIS_URL"])
    prefix = os.environ.get("REDIS_KEY_PREFIX", "app:")
    key = load_hmac_secret("JWT_SECRET")
    pair = log_in(r, key, "user-42", prefix=prefix)
    print(
        pair.expires_in, authenticate(r, key, pair.access_token, prefix=prefix)["sub"]
    )
    #> 900 user-42
    pair = refresh(r, key, pair.refresh_token, prefix=prefix)  # every few minutes
    print(authenticate(r, key, pair.access_token, prefix=prefix)["sub"])
    #> user-42

    log_out(r, key, pair.refresh_token, pair.access_token, prefix=prefix)
    for attempt in (
        lambda: authenticate(r, key, pair.access_token, prefix=prefix),
        lambda: refresh(r, key, pair.refresh_token, prefix=prefix),
    ):
        try:
            attempt()
        except TokenRefused as exc:
            print(exc.reason)
            #> revoked
            #> family_revoked
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
