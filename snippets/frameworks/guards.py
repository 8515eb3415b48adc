"""The two guards every framework needs, with no framework in them.

"The current session" reads the session cookie and asks the session store; "the current
bearer token" reads the ``Authorization`` header, verifies the token, checks its scopes
and asks the blocklist and the user's cut-off. Each comes in a sync version (the
blocking Redis client) and an async one (``redis.asyncio``). `answer_for` says how
every error they raise is answered over HTTP, so that FastAPI, Flask and Django
(snippets/frameworks/) answer alike:

- ``TokenError``, ``TokenRefused``: 401 with ``WWW-Authenticate: Bearer
  error="invalid_token"`` (RFC 6750, section 3);
- `InsufficientScope`: 403 with ``error="insufficient_scope"`` and the scopes needed;
- `NotSignedIn`: 401;
- ``SessionStoreUnavailable``, ``RevocationUnavailable``: 503 with ``Retry-After``.

A store that is down gives 503, never 401 (the credential may be fine) and never 500.

Run it against a Redis server of your choice::

    REDIS_URL=redis://127.0.0.1:6379/0 python -m snippets.frameworks.guards
"""

from __future__ import annotations

# --8<-- [start:setup]
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import redis
import redis.asyncio

from snippets.revocation.logout_everywhere import (
    check_access_token,
    check_access_token_async,
)
from snippets.revocation.revoke_access_token import (
    RevocationUnavailable,
    TokenRefused,
)
from snippets.sessions.session_cookie import read_session_cookie
from snippets.sessions.session_store import (
    AsyncRedisSessionStore,
    RedisSessionStore,
    Session,
    SessionStoreUnavailable,
    connect,
    connect_async,
)
from snippets.tokens.verify_token import TokenError, verify_token

RETRY_AFTER_SECONDS = 5  # what a 503 tells clients to wait before trying again
# RFC 6750, section 2.1: "Bearer", one space, then a b64token.
_BEARER = re.compile(r"Bearer ([A-Za-z0-9\-._~+/]+=*)", re.IGNORECASE)
# RFC 6750, section 3: a scope token is printable ASCII but space, '"' and '\'.
_SCOPE_TOKEN = re.compile(r"[!#-\[\]-~]+")
# --8<-- [end:setup]


# --8<-- [start:settings]
@dataclass
class AuthSettings:
    """What the guards need; build one per process, at start-up.

    Attributes:
        redis_url: The Redis of the sessions and of the revocation state.
        key: The key that verifies access tokens (a public key, or an HMAC secret).
        algorithm: The one algorithm accepted with ``key``.
        issuer: The ``iss`` required.
        audience: This API's identifier, required in ``aud``.
        prefix: Put in front of every Redis key.
        now: The clock, seconds since the epoch. Tests pass their own.
    """

    redis_url: str
    key: Any
    algorithm: str
    issuer: str
    audience: str
    prefix: str = ""
    now: Callable[[], float] = time.time
    client: redis.Redis = field(init=False, repr=False)
    sessions: RedisSessionStore = field(init=False, repr=False)
    _async: dict[str, Any] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.client = connect(self.redis_url)
        self.sessions = RedisSessionStore(self.client, prefix=self.prefix, now=self.now)

    @property
    def async_client(self) -> redis.asyncio.Redis:
        """The ``redis.asyncio`` client, made on first use (only async apps need it)."""
        if "client" not in self._async:
            self._async["client"] = connect_async(self.redis_url)
        client: redis.asyncio.Redis = self._async["client"]
        return client

    @property
    def async_sessions(self) -> AsyncRedisSessionStore:
        if "sessions" not in self._async:
            self._async["sessions"] = AsyncRedisSessionStore(
                self.async_client, prefix=self.prefix, now=self.now
            )
        store: AsyncRedisSessionStore = self._async["sessions"]
        return store

    def close(self) -> None:
        self.client.close()

    async def aclose(self) -> None:
        self.close()
        if "client" in self._async:
            await self._async.pop("client").aclose()
            self._async.clear()


# --8<-- [end:settings]


# --8<-- [start:errors]
class NotSignedIn(Exception):
    """No live session came with the request: answer 401."""


class InsufficientScope(Exception):
    """A valid token lacks a scope the endpoint requires: answer 403.

    Attributes:
        scopes: The scopes the endpoint requires, space-separated.
    """

    def __init__(self, scopes: str) -> None:
        super().__init__(f"requires scope {scopes}")
        self.scopes = scopes


@dataclass(frozen=True)
class Answer:
    """An HTTP answer to an error: status, JSON body and headers."""

    status: int
    body: dict[str, str]
    headers: dict[str, str]


GUARD_ERRORS = (
    TokenError,
    TokenRefused,
    InsufficientScope,
    NotSignedIn,
    SessionStoreUnavailable,
    RevocationUnavailable,
)


def answer_for(error: Exception) -> Answer:
    """The answer to one of `GUARD_ERRORS`: generic bodies, nothing about the cause."""
    if isinstance(error, TokenError | TokenRefused):
        challenge = 'Bearer error="invalid_token"'
        body = {"detail": "invalid or missing bearer token"}
        return Answer(401, body, {"WWW-Authenticate": challenge})
    if isinstance(error, InsufficientScope):
        challenge = f'Bearer error="insufficient_scope", scope="{error.scopes}"'
        body = {"detail": "insufficient scope"}
        return Answer(403, body, {"WWW-Authenticate": challenge})
    if isinstance(error, NotSignedIn):
        return Answer(401, {"detail": "not signed in"}, {})
    if isinstance(error, SessionStoreUnavailable | RevocationUnavailable):
        body = {"detail": "service unavailable, try again shortly"}
        return Answer(503, body, {"Retry-After": str(RETRY_AFTER_SECONDS)})
    raise TypeError(f"not a guard error: {error!r}")


# --8<-- [end:errors]


# --8<-- [start:session]
def current_session(settings: AuthSettings, cookie_header: object) -> Session:
    """The live session named by the request's ``Cookie`` header.

    Raises:
        NotSignedIn: No session cookie, a malformed one, or no live session behind it.
        SessionStoreUnavailable: Redis could not answer.
    """
    session = settings.sessions.validate(read_session_cookie(cookie_header))
    if session is None:
        raise NotSignedIn
    return session


async def current_session_async(
    settings: AuthSettings, cookie_header: object
) -> Session:
    """`current_session` with ``redis.asyncio``."""
    cookie = read_session_cookie(cookie_header)
    session = await settings.async_sessions.validate(cookie)
    if session is None:
        raise NotSignedIn
    return session


# --8<-- [end:session]


# --8<-- [start:bearer]
def scope_string(scopes: Iterable[str]) -> str:
    """Required scopes as one header-safe string; a ValueError for a bad name."""
    names = list(scopes)
    if not all(_SCOPE_TOKEN.fullmatch(name) for name in names):
        raise ValueError(f"not a valid scope name in {names!r}")
    return " ".join(names)


def bearer_token(authorization: object) -> str:
    """The token of an ``Authorization: Bearer ...`` header, or a ``TokenError``."""
    match = _BEARER.fullmatch(authorization) if isinstance(authorization, str) else None
    if match is None:
        raise TokenError("bearer token required")
    return match[1]


def verified_claims(
    settings: AuthSettings, authorization: object, scopes: Iterable[str] = ()
) -> dict[str, Any]:
    """Verify the bearer token of an ``Authorization`` header, and its scopes.

    Raises:
        TokenError: No bearer token, or the verifier refused it.
        InsufficientScope: A required scope is missing from the ``scope`` claim.
    """
    required = scope_string(scopes)
    claims = verify_token(
        bearer_token(authorization),
        settings.key,
        algorithm=settings.algorithm,
        typ="at+jwt",  # RFC 9068: an ID token is no access token
        audience=settings.audience,
        issuer=settings.issuer,
        now=settings.now(),
    )
    granted = claims.get("scope")
    held = set(granted.split(" ")) if isinstance(granted, str) else set()
    if not set(required.split()) <= held:
        raise InsufficientScope(required)
    return claims


def current_claims(
    settings: AuthSettings, authorization: object, scopes: Iterable[str] = ()
) -> dict[str, Any]:
    """`verified_claims`, then the blocklist and the user's cut-off (one ``MGET``).

    Raises:
        TokenError: No bearer token, or the verifier refused it.
        InsufficientScope: A required scope is missing.
        TokenRefused: Revoked, or issued before the user's "log out everywhere".
        RevocationUnavailable: Redis could not answer.
    """
    claims = verified_claims(settings, authorization, scopes)
    check_access_token(settings.client, claims, prefix=settings.prefix)
    return claims


async def current_claims_async(
    settings: AuthSettings, authorization: object, scopes: Iterable[str] = ()
) -> dict[str, Any]:
    """`current_claims` with ``redis.asyncio``."""
    claims = verified_claims(settings, authorization, scopes)
    client = settings.async_client
    await check_access_token_async(client, claims, prefix=settings.prefix)
    return claims


# --8<-- [end:bearer]


def main() -> None:
    # --8<-- [start:demo]
    from snippets.tokens.issue_access_token import issue_access_token
    from snippets.tokens.keys import generate_private_key

    private_key = generate_private_key("EdDSA")
    settings = AuthSettings(
        redis_url=os.environ["REDIS_URL"],
        key=private_key.public_key(),
        algorithm="EdDSA",
        issuer="https://auth.example.com",
        audience="https://api.example.com",
        prefix=os.environ.get("REDIS_KEY_PREFIX", "app:"),
    )
    token = issue_access_token(
        "user-42",
        private_key,
        algorithm="EdDSA",
        kid="k1",
        issuer=settings.issuer,
        audience=settings.audience,
        extra_claims={"scope": "orders:read"},
    )
    claims = current_claims(settings, f"Bearer {token}", ["orders:read"])
    print(claims["sub"])
    #> user-42
    for error in (
        TokenError("expired"),
        InsufficientScope("orders:write"),
        SessionStoreUnavailable("down"),
    ):
        answer = answer_for(error)
        print(answer.status, answer.body["detail"])
        #> 401 invalid or missing bearer token
        #> 403 insufficient scope
        #> 503 service unavailable, try again shortly
    # --8<-- [end:demo]
    settings.close()


if __name__ == "__main__":
    main()
