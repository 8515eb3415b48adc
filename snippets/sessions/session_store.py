"""A server-side session store on Redis with idle and absolute timeouts.

The client receives a random 256-bit session ID once. Redis only ever sees the SHA-256
of that ID, so a key listing or a dump of Redis holds no ID anyone could send back. Each
session is a Redis hash holding the user, the data (JSON) and three times in
milliseconds: when it was created, its absolute deadline (never moves) and its idle
deadline (moves with use, but never past the absolute one). Expiry is decided in Python
by comparing those deadlines with the store's clock; Redis TTLs only clean up behind
it.

Every user also has an index, a sorted set of the hashed IDs ("handles") of their
sessions scored by absolute deadline, which makes "list my sessions" and "log out
everywhere" possible.

The same code runs on one Redis server and on a Redis Cluster, where a session's record
and its user's index live in different hash slots. No script or transaction touches more
than one key; operations on several keys are sequences of single-key steps, ordered so
that a crash or a concurrent call between two steps is safe:

- create indexes the handle first, then writes the record (never overwriting a key): a
  live session is never missing from its index; a crash in between leaves a stale
  entry, harmless.
- validate is one plain read of the record; it writes only to move the idle deadline
  (at most once a granularity) or to delete an expired record.
- destroy deletes the record (the ID is dead), then drops the entry from the index.
- rotate indexes the new handle, then claims the old record (reads and deletes it in one
  script: of concurrent rotations exactly one wins), writes the new record, and drops
  the old entry. A crash after the claim logs the user out; it never leaves two live
  IDs.
- destroy_all ends every handle in the index: it deletes the record, or, when the
  record is not written yet, leaves an "ended" marker that stops it ever being
  written; it repeats until the index holds nothing new. Sessions that existed when
  it began, even one being rotated, end. A login that begins during it may survive
  it, as with any design short of a lock.
- list_sessions prunes entries past their absolute deadline and records past a deadline;
  an entry with no record is skipped, not pruned (it may be a login still being
  written).
- end_session ends one handle of the user's index, as destroy_all ends each.

Run it against a Redis server of your choice::

    REDIS_URL=redis://127.0.0.1:6379/0 python -m snippets.sessions.session_store
"""

from __future__ import annotations

# --8<-- [start:setup]
import hashlib
import json
import os
import re
import secrets
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NamedTuple, TypeGuard

import redis
import redis.asyncio
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from snippets.sessions.redis_errors import REDIS_ERRORS

IDLE_TIMEOUT_SECONDS = 30 * 60
# Validation writes the new idle deadline only once it has moved by more than this, so a
# session in use costs one plain read per request. It may then end up to this much
# early, never late.
IDLE_GRANULARITY_SECONDS = 60
ABSOLUTE_TIMEOUT_SECONDS = 8 * 60 * 60
MAX_USER_ID_LENGTH = 256
# secrets.token_urlsafe(32): 32 random bytes as 43 base64url characters, no padding.
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")
HANDLE = re.compile(r"[0-9a-f]{64}")  # session_handle(): a SHA-256 in lower-case hex
# --8<-- [end:setup]


# --8<-- [start:client]
def connect(url: str) -> redis.Redis:
    """Open a Redis client that gives up quickly instead of hanging a request.

    Args:
        url: A ``redis://`` or ``rediss://`` URL.

    Returns:
        A client whose calls fail within about a second when Redis is down or stuck.
    """
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=0.25,  # a dead host fails fast...
        socket_timeout=0.25,  # ...and so does a stuck one
        retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.1), retries=2),
        health_check_interval=30,
    )


def connect_async(url: str) -> redis.asyncio.Redis:
    """`connect` for ``redis.asyncio``: the same timeouts and retries."""
    return redis.asyncio.Redis.from_url(
        url,
        socket_connect_timeout=0.25,
        socket_timeout=0.25,
        retry=redis.asyncio.retry.Retry(
            ExponentialWithJitterBackoff(base=0.01, cap=0.1), retries=2
        ),
        health_check_interval=30,
    )


def require_noeviction(client: redis.Redis | redis.asyncio.Redis | Any) -> None:
    """Refuse to run on a Redis that may evict keys to make room.

    Under any ``maxmemory-policy`` but ``noeviction``, a full Redis deletes keys it
    chose: a session may vanish (a logout for its user), and so may a blocklist entry or
    a cut-off, after which a revoked token passes again. With ``noeviction`` a full
    Redis refuses writes instead, which every snippet answers as "store unavailable"
    (fail closed). Call it once at start-up, with a blocking client.

    Raises:
        RuntimeError: The policy may evict; the message says what to set.
        SessionStoreUnavailable: Redis could not answer.

    Warns:
        RuntimeWarning: The server does not allow ``CONFIG GET`` (some managed
            services): check the policy in its console.
    """
    # A cluster client asks one node by default: ask every node, replicas included.
    every_node = {"target_nodes": "all"} if hasattr(client, "get_primaries") else {}
    try:
        reply = client.config_get("maxmemory-policy", **every_node)
    except redis.ResponseError:
        warnings.warn(
            "could not read Redis' maxmemory-policy (CONFIG GET is not allowed): "
            "make sure it is noeviction",
            RuntimeWarning,
            stacklevel=2,
        )
        return
    except REDIS_ERRORS as exc:
        raise SessionStoreUnavailable(f"session store unavailable: {exc}") from exc
    name = "maxmemory-policy"
    policies = {_text(v) for k, v in _flat_items(reply) if _text(k) == name}
    if policies != {"noeviction"}:
        raise RuntimeError(
            f"Redis may evict keys (maxmemory-policy {', '.join(sorted(policies))}): "
            "sessions, blocklist entries and cut-offs could vanish and a revoked token "
            "pass again. Set maxmemory-policy noeviction (in redis.conf, or "
            "CONFIG SET maxmemory-policy noeviction)."
        )


def _flat_items(reply: Any) -> list[tuple[Any, Any]]:
    # One server answers {name: value}; a cluster client, {node: {name: value}}.
    items = list(reply.items()) if isinstance(reply, dict) else []
    flat = [(k, v) for k, v in items if not isinstance(v, dict)]
    for _, value in items:
        if isinstance(value, dict):
            flat += _flat_items(value)
    return flat


# --8<-- [end:client]


# --8<-- [start:errors]
class SessionStoreUnavailable(Exception):
    """Redis could not be reached or did not answer in time.

    Raised instead of ``redis.RedisError`` by every method of `RedisSessionStore`. No
    session is ever valid while this is raised: answer ``503 Service Unavailable``, not
    ``200``, and never fall back to trusting the cookie. The next call tries Redis
    again, so service comes back by itself as soon as Redis does.
    """


@contextmanager
def _store_errors() -> Iterator[None]:
    try:
        yield
    except REDIS_ERRORS as exc:
        raise SessionStoreUnavailable(f"session store unavailable: {exc}") from exc


# --8<-- [end:errors]


class Session(NamedTuple):
    """A live session as the store sees it (immutable: a tuple with named fields, the
    cheapest record Python builds, since every validation builds one).

    Attributes:
        user_id: The user the session belongs to.
        data: What the application stored in it.
        handle: The SHA-256 of the session ID in hex: safe to show and log, useless as a
            cookie.
        created_at: Creation time, seconds since the epoch.
        expires_at: The absolute deadline, which never moves.
        idle_expires_at: The idle deadline, pushed forward by each use (never past
            ``expires_at``).
    """

    user_id: str
    data: dict[str, Any]
    handle: str
    created_at: float
    expires_at: float
    idle_expires_at: float


# --8<-- [start:scripts]
# Every script touches exactly one key, so it runs unchanged on one server and on a
# cluster. A record is one string (see `pack_record`): in Lua, string.sub(v, 16, 28)
# is the absolute deadline, 29-41 the idle deadline, 42-45 the user's length, then the
# user.

# Validation itself is a plain GET; these two run only when it must write.

# KEYS: session. ARGV: now (ms), new idle deadline (13 digits), user. Pushes the idle
# deadline forward, never back and never past the absolute deadline, and only on the
# live record of the same user: never recreates a record that a logout deleted
# meanwhile. 1 if it moved.
_SLIDE = """
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, 2) ~= 'S1' then return 0 end
if string.sub(v, 46, 45 + tonumber(string.sub(v, 42, 45))) ~= ARGV[3] then return 0 end
local idle = tonumber(ARGV[2])
if idle <= tonumber(string.sub(v, 29, 41)) then return 0 end
if idle > tonumber(string.sub(v, 16, 28)) then return 0 end
redis.call('SET', KEYS[1], string.sub(v, 1, 28) .. ARGV[2] .. string.sub(v, 42),
           'PX', idle - tonumber(ARGV[1]))
return 1
"""

# KEYS: session. ARGV: the idle and absolute deadlines (13 digits) that were read, past.
# Deletes the record only if it still is the one read: a concurrent request may have
# moved the idle deadline meanwhile. 1 if deleted.
_EXPIRE = """
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 29, 41) ~= ARGV[1] or string.sub(v, 16, 28) ~= ARGV[2] then
  return 0
end
redis.call('DEL', KEYS[1])
return 1
"""

# KEYS: session. Takes the record away: returns it and deletes it, so of concurrent
# claims exactly one gets it. nil if there is no record (or only an "ended" marker).
_CLAIM = """
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, 2) ~= 'S1' then return false end
redis.call('DEL', KEYS[1])
return v
"""

# KEYS: session. Deletes the record and returns its user; nil if there is none.
_DESTROY = """
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, 2) ~= 'S1' then return false end
redis.call('DEL', KEYS[1])
return string.sub(v, 46, 45 + tonumber(string.sub(v, 42, 45)))
"""

# KEYS: session. ARGV: now, absolute deadline (ms), user. Ends the handle for good:
# deletes the user's record (1), or, if there is no record yet, leaves an "ended" marker
# until the absolute deadline so that a create or rotation still in flight cannot write
# it later (0).
_END = """
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 2) == 'S1'
   and string.sub(v, 46, 45 + tonumber(string.sub(v, 42, 45))) == ARGV[3] then
  redis.call('DEL', KEYS[1])
  return 1
end
local ttl = tonumber(ARGV[2]) - tonumber(ARGV[1])
if not v and ttl > 0 then
  redis.call('SET', KEYS[1], 'E1' .. ARGV[1], 'PX', ttl)
end
return 0
"""
# --8<-- [end:scripts]


# --8<-- [start:keys]
def session_handle(session_id: str) -> str:
    """The session's name in Redis, in logs and in the device list: the SHA-256 of its
    ID, so a key listing of Redis reveals no usable session ID."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def session_key(prefix: str, handle: str) -> str:
    """The Redis key of a session's record (one string, see `pack_record`)."""
    return f"{prefix}session:{handle}"


_HEADER = 45  # "S1", three 13-digit times, a 4-digit length


def pack_record(
    user_id: str, payload: str, created: int, absolute: int, idle: int
) -> bytes:
    """A session record as one string, so that one ``GET`` reads it all.

    ``S1``, then the creation time, the absolute and the idle deadline in milliseconds
    as 13 digits each (fixed width: a slide rewrites the idle deadline in place), the
    user ID's length in bytes as 4 digits, the user ID, and the data as JSON.
    """
    user = user_id.encode()
    if not 0 <= min(created, absolute, idle) <= max(created, absolute, idle) < 10**13:
        raise ValueError("times must be 0 to 13 digits of milliseconds")
    header = b"S1%013d%013d%013d%04d" % (created, absolute, idle, len(user))
    return header + user + payload.encode()


def unpack_record(value: bytes | str | None) -> tuple[str, str, int, int, int] | None:
    """The user, the data (JSON text), the creation time and the absolute and idle
    deadlines (ms) of a record; None for no record or an "ended" marker.

    Raises:
        ValueError: The value is not a record this store wrote (a Redis reply is
            trusted no more than any other input).
    """
    if value is None:
        return None
    raw = value.encode() if isinstance(value, str) else value
    if raw[:2] == b"E1":
        return None  # a handle ended before its record was written
    if raw[:2] != b"S1" or len(raw) < _HEADER or not raw[2:_HEADER].isdigit():
        raise ValueError("not a session record")
    end = _HEADER + int(raw[41:_HEADER])
    if len(raw) < end:
        raise ValueError("truncated session record")
    user, data = raw[_HEADER:end].decode(), raw[end:].decode()
    return user, data, int(raw[2:15]), int(raw[15:28]), int(raw[28:41])


def user_index_key(prefix: str, user_id: str) -> str:
    """The Redis key of a user's session index (a sorted set of handles)."""
    return f"{prefix}user:{user_id}:sessions"


# --8<-- [end:keys]


# --8<-- [start:class]
_MAX_END_PASSES = 16


def _text(value: bytes | str) -> str:
    """A Redis reply as text; one that is not UTF-8 is a store fault, not a crash."""
    if isinstance(value, str):
        return value
    try:
        return value.decode()
    except UnicodeDecodeError as exc:
        raise SessionStoreUnavailable("malformed reply from the session store") from exc


def _is_session_id(value: object) -> TypeGuard[str]:
    return type(value) is str and SESSION_ID.fullmatch(value) is not None


def _is_handle(value: object) -> TypeGuard[str]:
    return type(value) is str and HANDLE.fullmatch(value) is not None


class _Verdict(NamedTuple):
    """What validation decided from the record it read: the session, and a write."""

    session: Session | None
    script: Any = None  # the script to run on the record, if any
    args: tuple[str | int | bytes, ...] = ()


class _StoreRules:
    """Settings, keys and every decision of the store: no I/O, so the sync and the
    async store share one copy of the rules and differ only in how they call Redis."""

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "",
        idle_timeout: float = IDLE_TIMEOUT_SECONDS,
        absolute_timeout: float = ABSOLUTE_TIMEOUT_SECONDS,
        idle_granularity: float = IDLE_GRANULARITY_SECONDS,
        now: Callable[[], float] = time.time,
    ) -> None:
        if not 0 < idle_timeout <= absolute_timeout:
            raise ValueError("need 0 < idle_timeout <= absolute_timeout")
        if not 0 <= idle_granularity < idle_timeout:
            raise ValueError("need 0 <= idle_granularity < idle_timeout")
        self._r = client
        self._prefix = prefix
        self._idle_ms = int(idle_timeout * 1000)
        self._absolute_ms = int(absolute_timeout * 1000)
        self._granularity_ms = int(idle_granularity * 1000)
        self._now = now
        # register_script runs EVALSHA and loads the script only if Redis lacks it.
        self._slide = client.register_script(_SLIDE)
        self._expire = client.register_script(_EXPIRE)
        self._claim = client.register_script(_CLAIM)
        self._destroy = client.register_script(_DESTROY)

    def _session_key(self, handle: str) -> str:
        return session_key(self._prefix, handle)

    def _index_key(self, user_id: str) -> str:
        return user_index_key(self._prefix, user_id)

    def _now_ms(self) -> int:
        return int(self._now() * 1000)

    @staticmethod
    def _check_user_id(user_id: str) -> None:
        if not isinstance(user_id, str) or not 0 < len(user_id) <= MAX_USER_ID_LENGTH:
            raise ValueError(
                f"user_id must be a str of 1 to {MAX_USER_ID_LENGTH} characters"
            )

    @staticmethod
    def _payload(data: Mapping[str, Any] | None) -> str:
        return json.dumps(dict(data or {}), separators=(",", ":"))

    def _write_record(
        self,
        key: str,
        user_id: str,
        payload: str,
        created: int,
        absolute: int,
        now: int,
    ) -> Any:
        """Write a record with a fresh idle deadline, never over an existing key (a
        live record, or the marker `_END` leaves): SET NX, truthy if written."""
        idle = min(now + self._idle_ms, absolute)
        value = pack_record(user_id, payload, created, absolute, idle)
        return self._r.set(key, value, px=idle - now, nx=True)

    def _index_add(self, user_id: str, handle: str, absolute: int, now: int) -> Any:
        """A pipeline that puts ``handle`` in the user's index (one round trip)."""
        index = self._index_key(user_id)
        pipe = self._r.pipeline(transaction=False)
        # entries past their absolute deadline
        pipe.zremrangebyscore(index, "-inf", now)
        pipe.zadd(index, {handle: absolute})
        pipe.pexpire(index, absolute - now, nx=True)
        pipe.pexpire(index, absolute - now, gt=True)
        return pipe

    def _judge(self, handle: str, value: bytes | str | None) -> _Verdict:
        """Decide validation from the record, against the store's clock."""
        try:  # a record is trusted no more than any other reply
            record = unpack_record(value)
            if record is None:
                return _Verdict(None)  # unknown, expired, or only an "ended" marker
            user, data, created, absolute, idle = record
            stored = json.loads(data)
            if not isinstance(stored, dict):
                raise ValueError("session data is not a JSON object")
        except (ValueError, UnicodeDecodeError) as exc:
            raise SessionStoreUnavailable("malformed session record") from exc
        now = self._now_ms()
        if now >= absolute or now >= idle:  # delete, unless a request slid it
            return _Verdict(None, self._expire, (b"%013d" % idle, b"%013d" % absolute))
        new_idle = min(now + self._idle_ms, absolute)
        moved = new_idle - idle > self._granularity_ms  # else: nothing to write
        session = Session(
            user,
            stored,
            handle,
            created / 1000,
            absolute / 1000,
            (new_idle if moved else idle) / 1000,
        )
        if not moved:
            return _Verdict(session)  # the common case
        return _Verdict(session, self._slide, (now, b"%013d" % new_idle, user))

    def _claimed(self, value: Any, now: int) -> tuple[str, str, int, int] | None:
        """What a rotation carries over from the record it claimed: user, data,
        creation time, absolute deadline; None if the record was past a deadline."""
        try:
            record = unpack_record(value)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SessionStoreUnavailable("malformed session record") from exc
        if record is None or now >= min(record[3], record[4]):
            return None
        return record[:4]

    def _owner(self, value: Any) -> tuple[str, int] | None:
        """The user and absolute deadline of a record, as rotation first reads them."""
        try:
            record = unpack_record(value)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SessionStoreUnavailable("malformed session record") from exc
        return None if record is None else (record[0], record[3])

    def _end_handles(self, user_id: str, entries: list[tuple[Any, float]]) -> Any:
        """A pipeline that ends every handle in ``entries`` (split per node on a
        cluster)."""
        now = self._now_ms()
        pipe = self._r.pipeline(transaction=False)
        for handle, deadline in entries:
            key = self._session_key(_text(handle))
            # EVAL by name: a cluster pipeline has no eval() method.
            pipe.execute_command("EVAL", _END, 1, key, now, int(deadline), user_id)
        return pipe

    def _unindex_and_reread(self, index: str, entries: list[tuple[Any, float]]) -> Any:
        pipe = self._r.pipeline(transaction=False)
        pipe.zrem(index, *(handle for handle, _ in entries))
        pipe.zrange(index, 0, -1, withscores=True)
        return pipe

    def _read_index(self, index: str, now: int) -> Any:
        """A pipeline that prunes entries past their absolute deadline and reads the
        rest."""
        pipe = self._r.pipeline(transaction=False)
        pipe.zremrangebyscore(index, "-inf", now)
        pipe.zrange(index, 0, -1)
        return pipe

    def _read_records(self, handles: list[str]) -> Any:
        pipe = self._r.pipeline(transaction=False)
        for handle in handles:
            pipe.get(self._session_key(handle))
        return pipe

    def _listed(
        self, user_id: str, handles: list[str], records: list[Any], now: int
    ) -> tuple[list[Session], list[str]]:
        """The live sessions among ``records``, oldest first, and the dead handles."""
        live, dead = [], []
        for handle, value in zip(handles, records, strict=True):
            try:
                record = unpack_record(value)
                if record is None or record[0] != user_id:
                    continue  # not written yet, ended, or expired away: not listed
                _, data, created, absolute, idle = record
                stored = json.loads(data)
            except (ValueError, UnicodeDecodeError) as exc:
                raise SessionStoreUnavailable("malformed session record") from exc
            if now >= min(absolute, idle):
                dead.append(handle)  # past a deadline: it never comes back
                continue
            times = (created / 1000, absolute / 1000, idle / 1000)
            live.append(Session(user_id, stored, handle, *times))
        return sorted(live, key=lambda s: s.created_at), dead

    def _prune(self, index: str, dead: list[str]) -> Any:
        pipe = self._r.pipeline(transaction=False)
        for handle in dead:
            pipe.delete(self._session_key(handle))
        pipe.zrem(index, *dead)
        return pipe


class RedisSessionStore(_StoreRules):
    """Sessions in Redis: create, validate, rotate, destroy, destroy all, list, end one.

    Every method raises `SessionStoreUnavailable` when Redis is unreachable or too slow,
    and nothing else for bad input: a malformed, unknown or expired ID is simply not a
    session. `AsyncRedisSessionStore` is the same store for ``redis.asyncio``.

    Args:
        client: A redis-py client (bytes or decoded responses), or a
            ``redis.cluster.RedisCluster``; see `connect`.
        prefix: Put in front of every key this store writes.
        idle_timeout: Seconds without use after which a session ends.
        absolute_timeout: Seconds after creation after which a session ends, used or
            not.
        idle_granularity: Validation writes the idle deadline only once it has moved
            by more than this many seconds.
        now: The clock, seconds since the epoch. Tests pass their own.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "",
        idle_timeout: float = IDLE_TIMEOUT_SECONDS,
        absolute_timeout: float = ABSOLUTE_TIMEOUT_SECONDS,
        idle_granularity: float = IDLE_GRANULARITY_SECONDS,
        now: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            client,
            prefix=prefix,
            idle_timeout=idle_timeout,
            absolute_timeout=absolute_timeout,
            idle_granularity=idle_granularity,
            now=now,
        )

    # --8<-- [end:class]

    # --8<-- [start:create]
# (RedisSessionStore, continued: a method of the class above)
    def create(self, user_id: str, data: Mapping[str, Any] | None = None) -> str:
        """Start a session for ``user_id`` and return its new ID, to be sent once.

        Always a fresh ID from ``secrets``: never reuse an ID the client sent (that
        would let an attacker fix the victim's session ID before login). Two round
        trips: the handle goes into the user's index first, then the record is written,
        so a live session is never missing from the index that "log out everywhere"
        reads.

        Args:
            user_id: Whose session this is.
            data: JSON-serialisable data kept on the server.

        Returns:
            The session ID (43 characters) for the cookie.

        Raises:
            SessionStoreUnavailable: Redis could not answer; no session was started.
        """
        self._check_user_id(user_id)
        payload, now = self._payload(data), self._now_ms()
        absolute = now + self._absolute_ms
        with _store_errors():
            # A 256-bit clash will not happen, but a "log out everywhere" that ends this
            # handle before its record is written may: then draw a new ID.
            for _ in range(5):
                session_id = secrets.token_urlsafe(32)
                handle = session_handle(session_id)
                key = self._session_key(handle)
                self._index_add(user_id, handle, absolute, now).execute()
                if self._write_record(key, user_id, payload, now, absolute, now):
                    return session_id
        raise RuntimeError("could not find an unused session ID")

    # --8<-- [end:create]

    # --8<-- [start:validate]
# (RedisSessionStore, continued: a method of the class above)
    def validate(self, session_id: object) -> Session | None:
        """Return the live session for ``session_id``, sliding its idle deadline.

        One plain read (``GET``) in Redis, and nothing at all for a malformed ID.
        Both deadlines are decided here against the store's clock. It writes only when
        the idle deadline has moved by more than the granularity (a second round trip,
        once a minute by default), or to delete an expired record.

        Args:
            session_id: The untrusted value from the cookie.

        Returns:
            The session, or None if the ID is malformed, unknown or expired.

        Raises:
            SessionStoreUnavailable: Redis could not answer; the session is not valid.
        """
        if not _is_session_id(session_id):
            return None  # never send attacker-shaped input to Redis
        handle = session_handle(session_id)
        key = self._session_key(handle)
        try:  # what _store_errors does, spelled out on the one hot path
            verdict = self._judge(handle, self._r.get(key))
            if verdict.script is not None:  # at most once a granularity, or expiry
                verdict.script([key], verdict.args)
        except REDIS_ERRORS as exc:
            raise SessionStoreUnavailable(f"session store unavailable: {exc}") from exc
        return verdict.session

    # --8<-- [end:validate]

    # --8<-- [start:rotate]
# (RedisSessionStore, continued: a method of the class above)
    def rotate(
        self, session_id: object, data: Mapping[str, Any] | None = None
    ) -> str | None:
        """Move a live session to a new ID; the old ID stops working at once.

        Call it when privileges change (step-up, role change) and whenever a session
        that existed before login becomes a logged-in one. The data, the user and the
        absolute deadline carry over; the idle deadline restarts.

        Five single-key steps: read the user, put the new handle in the user's index,
        claim (read and delete) the old record, write the new one, drop the old handle
        from the index. The claim is atomic, so of concurrent rotations of one ID
        exactly one wins. A crash after the claim logs the user out; it never leaves two
        live IDs.

        Args:
            session_id: The current, untrusted ID.
            data: If given, replaces the session's data.

        Returns:
            The new ID for the cookie, or None if ``session_id`` is not a live session.

        Raises:
            SessionStoreUnavailable: Redis could not answer.
        """
        if not _is_session_id(session_id):
            return None
        old_key = self._session_key(session_handle(session_id))
        with _store_errors():
            owner = self._owner(self._r.get(old_key))
            if owner is None:
                return None
            (user_id, absolute_ms), now = owner, self._now_ms()
            new_id = secrets.token_urlsafe(32)
            new = session_handle(new_id)
            # The new handle is indexed before the old record goes, so "log out
            # everywhere" running at any moment of the rotation finds one of the two.
            self._index_add(user_id, new, absolute_ms, now).execute()
            claimed = self._claimed(self._claim([old_key]), now)
            old = session_handle(session_id)
            index = self._index_key(user_id)
            if claimed is None:  # gone, or past a deadline (deleted)
                self._r.zrem(index, new, old)
                return None
            _, old_data, created, absolute_ms = claimed
            payload = old_data if data is None else self._payload(data)
            new_key = self._session_key(new)
            # Not written only if "log out everywhere" ended the new handle meanwhile.
            done = self._write_record(
                new_key, user_id, payload, created, absolute_ms, now
            )
            self._r.zrem(index, *((old,) if done else (old, new)))
        return new_id if done else None

    # --8<-- [end:rotate]

    # --8<-- [start:destroy]
# (RedisSessionStore, continued: a method of the class above)
    def destroy(self, session_id: object) -> bool:
        """End one session (logout). The ID is worthless from this call on.

        Two round trips: delete the record (the ID is dead from here), then drop its
        handle from the user's index.

        Args:
            session_id: The untrusted ID from the cookie.

        Returns:
            True if a session was ended, False if there was none.

        Raises:
            SessionStoreUnavailable: Redis could not answer; the session may still be
                live.
        """
        if not _is_session_id(session_id):
            return False
        handle = session_handle(session_id)
        with _store_errors():
            user = self._destroy([self._session_key(handle)])
            if user is None:
                return False
            self._r.zrem(self._index_key(_text(user)), handle)
        return True

    # --8<-- [end:destroy]

    # --8<-- [start:destroy_all]
# (RedisSessionStore, continued: a method of the class above)
    def destroy_all(self, user_id: str) -> int:
        """End every session of ``user_id`` (password change, "log out everywhere").

        Reads the user's index and ends every handle in it: a record is deleted, and a
        handle whose record is not written yet (a login or rotation in flight) is marked
        as ended, so that it can never be written. Ended handles leave the index, and
        the index is read again until it holds nothing new. Every session that existed
        when the call began, including one being rotated meanwhile, is over when it
        returns. A login that starts while it runs may survive it, as it may on any
        store short of a global lock.

        Args:
            user_id: Whose sessions to end. Other users' sessions are not touched.

        Returns:
            How many live session records were deleted.

        Raises:
            SessionStoreUnavailable: Redis could not answer; the sessions may still be
                live.
        """
        self._check_user_id(user_id)
        index = self._index_key(user_id)
        ended = 0
        with _store_errors():
            # (handle, absolute deadline) pairs
            entries = self._r.zrange(index, 0, -1, withscores=True)
            for _ in range(_MAX_END_PASSES):
                if not entries:
                    return ended
                ended += sum(self._end_handles(user_id, entries).execute())
                entries = self._unindex_and_reread(index, entries).execute()[1]
        raise RuntimeError(f"new sessions of {user_id!r} kept appearing; call again")

    # --8<-- [end:destroy_all]

    # --8<-- [start:list_sessions]
# (RedisSessionStore, continued: a method of the class above)
    def list_sessions(self, user_id: str) -> list[Session]:
        """List the live sessions of ``user_id``, oldest first, pruning dead index
        entries.

        Index entries past their absolute deadline are pruned, and so are records past a
        deadline, with their entries. An entry whose record is missing is skipped but
        kept until its deadline: it may be a login whose record is still being written.

        Args:
            user_id: Whose sessions to list.

        Returns:
            One `Session` per live session. Its ``handle`` identifies it without being
            usable as a session ID.

        Raises:
            SessionStoreUnavailable: Redis could not answer.
        """
        self._check_user_id(user_id)
        index = self._index_key(user_id)
        now = self._now_ms()
        with _store_errors():
            indexed = self._read_index(index, now).execute()[1]
            handles = [_text(h) for h in indexed]
            records = self._read_records(handles).execute() if handles else []
            live, dead = self._listed(user_id, handles, records, now)
            if dead:
                self._prune(index, dead).execute()
        return live

    # --8<-- [end:list_sessions]

    # --8<-- [start:end_session]
# (RedisSessionStore, continued: a method of the class above)
    def end_session(self, user_id: str, handle: object) -> bool:
        """End one of ``user_id``'s sessions by its handle: "log out that device".

        The handle is what `list_sessions` shows (`Session.handle`), so the page that
        lists a user's devices ends one without ever holding its session ID. Only a
        session in ``user_id``'s own index ends: another user's handle, a made-up one
        or one already over ends nothing, and a malformed one never reaches Redis.
        Three round trips: find the handle in the index, end it (the step
        `destroy_all` takes for each handle), drop it from the index.

        A rotation of that session finishing at the same moment moves it to a new
        handle, and the call returns False: list the sessions again and end the new
        one.

        Args:
            user_id: The signed-in user, from their own session: never from the
                request.
            handle: The untrusted handle from the request.

        Returns:
            True if a live session was ended, False if there was none to end.

        Raises:
            SessionStoreUnavailable: Redis could not answer; the session may still be
                live.
        """
        self._check_user_id(user_id)
        if not _is_handle(handle):
            return False
        index = self._index_key(user_id)
        with _store_errors():
            deadline = self._r.zscore(index, handle)
            if deadline is None:
                return False  # not this user's session, or no longer listed
            pipe = self._end_handles(user_id, [(handle, deadline)])
            ended: list[int] = pipe.execute()
            self._r.zrem(index, handle)
        return ended == [1]

    # --8<-- [end:end_session]


# --8<-- [start:async_class]
class AsyncRedisSessionStore(_StoreRules):
    """`RedisSessionStore` for ``redis.asyncio``: the same rules, keys and scripts, and
    the same round trips, awaited. For ``async def`` endpoints, where a blocking
    client would stall every other request on the event loop.

    Args:
        client: A ``redis.asyncio.Redis`` (or ``redis.asyncio.cluster.RedisCluster``);
            see `connect_async`.
        prefix: Put in front of every key this store writes.
        idle_timeout: Seconds without use after which a session ends.
        absolute_timeout: Seconds after creation after which a session ends.
        idle_granularity: Validation writes the idle deadline only once it has moved
            by more than this many seconds.
        now: The clock, seconds since the epoch. Tests pass their own.
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        prefix: str = "",
        idle_timeout: float = IDLE_TIMEOUT_SECONDS,
        absolute_timeout: float = ABSOLUTE_TIMEOUT_SECONDS,
        idle_granularity: float = IDLE_GRANULARITY_SECONDS,
        now: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            client,
            prefix=prefix,
            idle_timeout=idle_timeout,
            absolute_timeout=absolute_timeout,
            idle_granularity=idle_granularity,
            now=now,
        )

    # --8<-- [end:async_class]

    # --8<-- [start:async_create]
# (AsyncRedisSessionStore, continued)
    async def create(self, user_id: str, data: Mapping[str, Any] | None = None) -> str:
        """`RedisSessionStore.create`, awaited."""
        self._check_user_id(user_id)
        payload, now = self._payload(data), self._now_ms()
        absolute = now + self._absolute_ms
        with _store_errors():
            for _ in range(5):
                session_id = secrets.token_urlsafe(32)
                handle = session_handle(session_id)
                key = self._session_key(handle)
                await self._index_add(user_id, handle, absolute, now).execute()
                if await self._write_record(key, user_id, payload, now, absolute, now):
                    return session_id
        raise RuntimeError("could not find an unused session ID")

    # --8<-- [end:async_create]

    # --8<-- [start:async_validate]
# (AsyncRedisSessionStore, continued)
    async def validate(self, session_id: object) -> Session | None:
        """`RedisSessionStore.validate`, awaited: one ``GET``, a write at most once a
        granularity."""
        if not _is_session_id(session_id):
            return None  # never send attacker-shaped input to Redis
        handle = session_handle(session_id)
        key = self._session_key(handle)
        try:
            verdict = self._judge(handle, await self._r.get(key))
            if verdict.script is not None:
                await verdict.script([key], verdict.args)
        except REDIS_ERRORS as exc:
            raise SessionStoreUnavailable(f"session store unavailable: {exc}") from exc
        return verdict.session

    # --8<-- [end:async_validate]

    # --8<-- [start:async_rotate]
# (AsyncRedisSessionStore, continued)
    async def rotate(
        self, session_id: object, data: Mapping[str, Any] | None = None
    ) -> str | None:
        """`RedisSessionStore.rotate`, awaited: the same five single-key steps."""
        if not _is_session_id(session_id):
            return None
        old_key = self._session_key(session_handle(session_id))
        with _store_errors():
            owner = self._owner(await self._r.get(old_key))
            if owner is None:
                return None
            (user_id, absolute_ms), now = owner, self._now_ms()
            new_id = secrets.token_urlsafe(32)
            new = session_handle(new_id)
            await self._index_add(user_id, new, absolute_ms, now).execute()
            claimed = self._claimed(await self._claim([old_key]), now)
            old = session_handle(session_id)
            index = self._index_key(user_id)
            if claimed is None:
                await self._r.zrem(index, new, old)
                return None
            _, old_data, created, absolute_ms = claimed
            payload = old_data if data is None else self._payload(data)
            new_key = self._session_key(new)
            done = await self._write_record(
                new_key, user_id, payload, created, absolute_ms, now
            )
            await self._r.zrem(index, *((old,) if done else (old, new)))
        return new_id if done else None

    # --8<-- [end:async_rotate]

    # --8<-- [start:async_destroy]
# (AsyncRedisSessionStore, continued)
    async def destroy(self, session_id: object) -> bool:
        """`RedisSessionStore.destroy`, awaited."""
        if not _is_session_id(session_id):
            return False
        handle = session_handle(session_id)
        with _store_errors():
            user = await self._destroy([self._session_key(handle)])
            if user is None:
                return False
            await self._r.zrem(self._index_key(_text(user)), handle)
        return True

    # --8<-- [end:async_destroy]

    # --8<-- [start:async_destroy_all]
# (AsyncRedisSessionStore, continued)
    async def destroy_all(self, user_id: str) -> int:
        """`RedisSessionStore.destroy_all`, awaited."""
        self._check_user_id(user_id)
        index = self._index_key(user_id)
        ended = 0
        with _store_errors():
            entries = await self._r.zrange(index, 0, -1, withscores=True)
            for _ in range(_MAX_END_PASSES):
                if not entries:
                    return ended
                ended += sum(await self._end_handles(user_id, entries).execute())
                entries = (await self._unindex_and_reread(index, entries).execute())[1]
        raise RuntimeError(f"new sessions of {user_id!r} kept appearing; call again")

    # --8<-- [end:async_destroy_all]

    # --8<-- [start:async_list_sessions]
# (AsyncRedisSessionStore, continued)
    async def list_sessions(self, user_id: str) -> list[Session]:
        """`RedisSessionStore.list_sessions`, awaited."""
        self._check_user_id(user_id)
        index = self._index_key(user_id)
        now = self._now_ms()
        with _store_errors():
            indexed = (await self._read_index(index, now).execute())[1]
            handles = [_text(h) for h in indexed]
            records = await self._read_records(handles).execute() if handles else []
            live, dead = self._listed(user_id, handles, records, now)
            if dead:
                await self._prune(index, dead).execute()
        return live

    # --8<-- [end:async_list_sessions]

    # --8<-- [start:async_end_session]
# (AsyncRedisSessionStore, continued)
    async def end_session(self, user_id: str, handle: object) -> bool:
        """`RedisSessionStore.end_session`, awaited."""
        self._check_user_id(user_id)
        if not _is_handle(handle):
            return False
        index = self._index_key(user_id)
        with _store_errors():
            deadline = await self._r.zscore(index, handle)
            if deadline is None:
                return False
            pipe = self._end_handles(user_id, [(handle, deadline)])
            ended: list[int] = await pipe.execute()
            await self._r.zrem(index, handle)
        return ended == [1]

    # --8<-- [end:async_end_session]


def main() -> None:
    # --8<-- [start:demo_setup]
    r = connect(os.environ["REDIS_URL"])
    prefix = os.environ.get("REDIS_KEY_PREFIX", "app:")
    clock = [1_700_000_000.0]  # a clock the demo can move; production uses time.time
    store = RedisSessionStore(r, prefix=prefix, now=lambda: clock[0])
    # --8<-- [end:demo_setup]
    # --8<-- [start:demo_timeouts]
    session_id = store.create("carol")
    accepted = 0
    for _ in range(16):  # in use every 29 minutes: the idle deadline keeps sliding...
        clock[0] += 29 * 60
        accepted += store.validate(session_id) is not None
    print(accepted)
    #> 16
    clock[0] += 29 * 60  # ...until 8 hours after login, when the absolute deadline hits
    print(store.validate(session_id))
    #> None
    idle_id = store.create("carol")
    clock[0] += 31 * 60  # 31 minutes without a request
    print(store.validate(idle_id))
    #> None
    # --8<-- [end:demo_timeouts]
    # --8<-- [start:demo]
    laptop = store.create("alice", {"role": "reader"})
    phone = store.create("alice", {"role": "reader"})
    bob = store.create("bob", {"role": "reader"})
    session = store.validate(laptop)  # a Session, or None if it is not one
    print(len(laptop), session and session.user_id)
    #> 43 alice
    print(store.validate("forged-or-truncated"))
    #> None
    print(len(store.list_sessions("alice")))
    #> 2
    # --8<-- [end:demo]
    # --8<-- [start:demo_logout]
    # logout: the ID is dead at once
    print(store.destroy(laptop), store.validate(laptop))
    #> True None
    store.create("alice")
    print(store.destroy_all("alice"))  # password change: every device logged out
    #> 2
    session = store.validate(bob)
    print(store.validate(phone), session and session.user_id)
    #> None bob
    # --8<-- [end:demo_logout]
    # --8<-- [start:demo_rotate]
    before = store.create("dave", {"role": "reader"})
    # privilege change: new ID, same session
    admin = store.rotate(before, {"role": "admin"})
    session = store.validate(admin)
    print(store.validate(before), session and session.data)
    #> None {'role': 'admin'}
    # --8<-- [end:demo_rotate]
    for user in ("bob", "carol", "dave"):
        store.destroy_all(user)


if __name__ == "__main__":
    main()
