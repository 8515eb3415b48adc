"""Migration: accept the old and the new credential for a while, count the old, then
retire it.

Moving from one credential to another (here: HS256 bearer tokens kept in
``localStorage`` to a server-side session cookie) cannot happen on one day: clients
update at their own pace. For the dual-accept period every request may present either. A
request with the old credential is accepted, counted in Redis per day (so every process
adds to one count), and can be upgraded on the spot to the new credential. When the
count has stayed at zero long enough, ``retire`` flips one Redis flag and every process
refuses the old credential from its next request on.

The old and new checks are plain callables returning a user ID or None, so the same
class serves any pair: sessions to JWTs, one cookie name to another, one signing key to
the next.

Run it against a Redis server of your choice (``JWT_SECRET`` signs the demo's old
tokens)::

    export REDIS_URL=redis://127.0.0.1:6379/0 JWT_SECRET=...
    python -m snippets.converting.dual_accept_migration
"""

from __future__ import annotations

# --8<-- [start:setup]
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis

from snippets.sessions.redis_errors import REDIS_ERRORS
from snippets.sessions.session_store import RedisSessionStore, connect
from snippets.tokens.issue_access_token import issue_access_token
from snippets.tokens.keys import load_hmac_secret
from snippets.tokens.verify_token import TokenError, verify_token

COUNT_DAYS_KEPT = 30
# --8<-- [end:setup]


# --8<-- [start:errors]
class CredentialRefused(Exception):
    """Neither credential is valid, or only the retired one was shown: answer 401."""


class MigrationStateUnavailable(Exception):
    """Redis could not answer, so it is unknown whether the old credential is retired:
    503."""


# --8<-- [end:errors]


# --8<-- [start:migration]
@dataclass(frozen=True)
class Identity:
    """Who made the request, and with which credential.

    Attributes:
        user_id: The authenticated user.
        via: ``"new"`` or ``"old"``; a response to ``"old"`` may hand out the new
            credential.
    """

    user_id: str
    via: str


# KEYS: retired flag, today's accepted count, refused count. ARGV: TTL of a count (s).
_COUNT_OLD = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCR', KEYS[3])
  return 0
end
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return 1
"""


class DualAcceptMigration:
    """Accept a new and an old credential; count the old; retire it when nobody uses it.

    Args:
        r: Redis shared by every process of the application.
        name: Names this migration in Redis keys, e.g. ``"hs256-to-session"``.
        accept_new: Returns the user ID for a valid new credential, else None.
        accept_old: Returns the user ID for a valid old credential, else None.
        prefix: Put in front of every key.
        now: The clock, seconds since the epoch. Tests pass their own.
    """

    def __init__(
        self,
        r: redis.Redis,
        *,
        name: str,
        accept_new: Callable[[str], str | None],
        accept_old: Callable[[str], str | None],
        prefix: str = "",
        now: Callable[[], float] = time.time,
    ) -> None:
        self._r, self._base = r, f"{prefix}migration:{name}:"
        self._accept_new, self._accept_old, self._now = accept_new, accept_old, now
        self._count_old = r.register_script(_COUNT_OLD)

    def _day(self, offset: int = 0) -> str:
        day = datetime.fromtimestamp(self._now(), UTC) - timedelta(days=offset)
        return day.strftime("%Y-%m-%d")

    def authenticate(
        self, *, new: str | None = None, old: str | None = None
    ) -> Identity:
        """Authenticate a request that carries the new credential, the old one, or both.

        Raises:
            CredentialRefused: No valid credential, or only the old one after
                retirement.
            MigrationStateUnavailable: Redis could not answer for an old credential.
        """
        if new and (user_id := self._accept_new(new)):
            return Identity(user_id, "new")
        if old and (user_id := self._accept_old(old)):
            keys = [
                self._base + "retired",
                self._base + "old:" + self._day(),
                self._base + "old-refused",
            ]
            try:
                accepted = self._count_old(keys, [COUNT_DAYS_KEPT * 86400])
            except REDIS_ERRORS as exc:
                raise MigrationStateUnavailable(
                    f"migration state unavailable: {exc}"
                ) from exc
            if accepted:
                return Identity(user_id, "old")
            raise CredentialRefused("the old credential has been retired")
        raise CredentialRefused("no valid credential")

    def old_usage(self, days: int = 7) -> dict[str, int]:
        """Requests that used the old credential, per UTC day, newest first.

        Raises:
            MigrationStateUnavailable: Redis could not answer, or holds no count.
        """
        names = [self._day(offset) for offset in range(days)]
        with _state_errors():
            values = self._r.mget([self._base + "old:" + day for day in names])
            return {day: int(v or 0) for day, v in zip(names, values, strict=True)}

    def retire(self) -> None:
        """Refuse the old credential from now on, in every process.

        Raises:
            MigrationStateUnavailable: Redis could not answer; nothing was retired.
        """
        with _state_errors():
            self._r.set(self._base + "retired", "1")

    def refused_after_retirement(self) -> int:
        """How many requests presented the old credential after it was retired.

        Raises:
            MigrationStateUnavailable: Redis could not answer, or holds no count.
        """
        with _state_errors():
            return int(self._r.get(self._base + "old-refused") or 0)


@contextmanager
def _state_errors() -> Iterator[None]:
    # A Redis error, or a reply that is not a count: the state is unavailable.
    try:
        yield
    except REDIS_ERRORS as exc:
        raise MigrationStateUnavailable(f"migration state unavailable: {exc}") from exc
    except ValueError as exc:
        raise MigrationStateUnavailable(f"migration state unavailable: {exc}") from exc


# --8<-- [end:migration]


def main() -> None:
    # --8<-- [start:demo]
    r = connect(os.environ["REDIS_URL"])
    prefix = os.environ.get("REDIS_KEY_PREFIX", "app:")
    clock = [1_795_000_000.0]  # 2026-11-18, a fixed day for the demo
    legacy_secret = load_hmac_secret("JWT_SECRET")
    store = RedisSessionStore(r, prefix=prefix, now=lambda: clock[0])
    issuer, audience = "https://app.example.com", "https://app.example.com/api"

    # the HS256 bearer tokens being retired
    def old_token_user(token: str) -> str | None:
        try:
            claims = verify_token(
                token,
                legacy_secret,
                algorithm="HS256",
                audience=audience,
                issuer=issuer,
                now=clock[0],
            )
        except TokenError:
            return None
        return str(claims["sub"])

    # the session cookie replacing them
    def session_user(session_id: str) -> str | None:
        session = store.validate(session_id)
        return None if session is None else session.user_id

    migration = DualAcceptMigration(
        r,
        name="hs256-to-session",
        accept_new=session_user,
        accept_old=old_token_user,
        prefix=prefix,
        now=lambda: clock[0],
    )
    old = issue_access_token(
        "alice",
        legacy_secret,
        algorithm="HS256",
        kid="legacy",
        issuer=issuer,
        audience=audience,
        now=clock[0],
    )
    who = migration.authenticate(old=old)
    print(who)
    #> Identity(user_id='alice', via='old')
    new = store.create(who.user_id)  # upgrade: the response sets the session cookie
    print(migration.authenticate(new=new, old=old))
    #> Identity(user_id='alice', via='new')
    print(migration.old_usage(days=2))
    #> {'2026-11-18': 1, '2026-11-17': 0}
    migration.retire()  # once the count has stayed at zero for long enough
    try:
        migration.authenticate(old=old)
    except CredentialRefused as exc:
        print(exc, migration.refused_after_retirement())
        #> the old credential has been retired 1
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
