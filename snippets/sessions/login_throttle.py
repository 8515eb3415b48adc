"""Login throttling on Redis: per account and per client address, one round trip.

Every login attempt counts against two fixed windows: the account it names and the
address it comes from. Past either limit the attempt is refused with
`LoginThrottled`, which carries how many seconds remain in the window (answer 429 with
``Retry-After``), before any password is hashed, so guessing is slow and a flood cannot
make the server hash passwords all day. A successful login clears its account's count,
so a user who mistyped twice is not held back later. Nothing is ever locked for good:
a window ends by itself.

Both counters are read and written in one pipeline (one round trip on one server; on a
Redis Cluster, where the two keys live in different slots, one request to each node
holding one). The account is hashed into its key, so a key listing shows no user name
and no input of any size reaches Redis.

The same counter bounds anything anonymous requests may write: `check_rate` limits,
for example, how many OIDC login starts one address may make per minute.

Run it against a Redis server of your choice::

    REDIS_URL=redis://127.0.0.1:6379/0 python -m snippets.sessions.login_throttle
"""

from __future__ import annotations

# --8<-- [start:setup]
import hashlib
import os
import time
from dataclasses import dataclass

import redis

from snippets.sessions.redis_errors import REDIS_ERRORS

ACCOUNT_LIMIT = 10  # attempts per account per window
ADDRESS_LIMIT = 100  # attempts per client address per window (shared networks)
WINDOW_SECONDS = 15 * 60
MAX_ADDRESS_CHARS = 64  # an IPv6 address with a zone fits; longer input is not one
# --8<-- [end:setup]


# --8<-- [start:errors]
class LoginThrottled(Exception):
    """Too many attempts for this account or from this address: answer 429.

    Attributes:
        retry_after: Whole seconds until the window ends (for ``Retry-After``).
    """

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many attempts; retry after {retry_after} s")
        self.retry_after = retry_after


class ThrottleUnavailable(Exception):
    """Redis could not answer: refuse the attempt with 503, never let it through."""


# --8<-- [end:errors]


# --8<-- [start:throttle]
def counter_key(prefix: str, kind: str, value: object) -> str:
    """The key of one counter: the value hashed, whatever it holds (any type, size)."""
    text = value if isinstance(value, str) else repr(value)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{prefix}throttle:{kind}:{digest}"


def _count(
    r: redis.Redis, keys: list[str], window_seconds: int
) -> list[tuple[int, int]]:
    """Add one to each counter, starting its window if new: (count, seconds left)."""
    pipe = r.pipeline(transaction=False)  # one round trip (one per node on a cluster)
    for key in keys:
        pipe.incr(key)
        pipe.expire(key, window_seconds, nx=True)  # the window starts at the first
        pipe.ttl(key)
    try:
        replies = pipe.execute()
    except REDIS_ERRORS as exc:
        raise ThrottleUnavailable(f"throttle unavailable: {exc}") from exc
    return [(replies[i], replies[i + 2]) for i in range(0, len(replies), 3)]


def address_key(prefix: str, address: object) -> str:
    """The counter of a client address (anything not a short string counts as one)."""
    fits = isinstance(address, str) and len(address) <= MAX_ADDRESS_CHARS
    return counter_key(prefix, "address", address if fits else "?")


@dataclass(frozen=True)
class LoginThrottle:
    """Count login attempts per account and per address in fixed windows.

    Args:
        r: The Redis client (a single server, or a ``RedisCluster``).
        prefix: Put in front of every key.
        account_limit: Attempts allowed per account per window.
        address_limit: Attempts allowed per client address per window.
        window_seconds: Length of a window.
    """

    r: redis.Redis
    prefix: str = ""
    account_limit: int = ACCOUNT_LIMIT
    address_limit: int = ADDRESS_LIMIT
    window_seconds: int = WINDOW_SECONDS

    def _account_key(self, account: object) -> str:
        name = account.strip().casefold() if isinstance(account, str) else account
        return counter_key(self.prefix, "account", name)

    def attempt(self, account: object, address: object) -> None:
        """Count one attempt for ``account`` from ``address``; refuse it past a limit.

        Call it before checking the password. Any value is accepted (a name that is
        not a string counts as one more unknown name): it is hostile input.

        Raises:
            LoginThrottled: Past the account's or the address's limit.
            ThrottleUnavailable: Redis could not answer.
        """
        keys = [self._account_key(account), address_key(self.prefix, address)]
        counts = _count(self.r, keys, self.window_seconds)
        limits = (self.account_limit, self.address_limit)
        waits = [
            ttl
            for (count, ttl), limit in zip(counts, limits, strict=True)
            if count > limit
        ]
        if waits:
            raise LoginThrottled(max(1, *waits))

    def succeeded(self, account: object) -> None:
        """Clear the account's count after a successful login.

        Raises:
            ThrottleUnavailable: Redis could not answer.
        """
        try:
            self.r.delete(self._account_key(account))
        except REDIS_ERRORS as exc:
            raise ThrottleUnavailable(f"throttle unavailable: {exc}") from exc


def check_rate(
    r: redis.Redis,
    name: str,
    address: object,
    *,
    limit: int,
    window_seconds: int,
    prefix: str = "",
) -> None:
    """Allow ``limit`` requests of kind ``name`` per address per window; one round trip.

    For anonymous requests that make the server write (an OIDC login start, a
    password-reset mail): what one address can make Redis store stays bounded.

    Raises:
        LoginThrottled: Past the limit (answer 429 with ``retry_after``).
        ThrottleUnavailable: Redis could not answer.
    """
    key = address_key(f"{prefix}{name}:", address)
    ((count, ttl),) = _count(r, [key], window_seconds)
    if count > limit:
        raise LoginThrottled(max(1, ttl))


# --8<-- [end:throttle]


def main() -> None:
    # --8<-- [start:demo]
    from snippets.sessions.session_store import connect

    r = connect(os.environ["REDIS_URL"])
    prefix = os.environ.get("REDIS_KEY_PREFIX", "app:") + f"{time.time_ns()}:"
    throttle = LoginThrottle(r, prefix=prefix, account_limit=3)
    answers = []
    for _ in range(4):  # a fourth wrong password within the window
        try:
            throttle.attempt("alice", "203.0.113.7")
            answers.append("checked")
        except LoginThrottled as exc:
            answers.append(f"retry after {exc.retry_after} s")
    print(answers)
    #> ['checked', 'checked', 'checked', 'retry after 900 s']
    throttle.attempt("bob", "203.0.113.7")  # another account from there: still fine
    # --8<-- [end:demo]
    r.delete(*r.scan_iter(match=prefix + "*"))


if __name__ == "__main__":
    main()
