"""Opaque refresh tokens that rotate on every use, with reuse detection by family.

A refresh token is ``<family_id>.<secret>``: 128 random bits naming the family (the
chain of tokens that descend from one login) and 256 random bits of secret. Redis stores
only the SHA-256 of each secret. Every use retires the presented token and returns a new
one in the same family; presenting a retired token revokes the whole family, so the
thief and the victim are both logged out and every descendant is refused. Rotation is
one Lua script: one round trip, atomic, so of many concurrent uses of one token exactly
one succeeds.

All keys of a family share the hash tag ``{rf:<family_id>}`` (one Redis Cluster slot)
and reach the script through ``KEYS``; the time reaches it through ``ARGV`` from a
``now`` callable.

Run it against a Redis server of your choice::

    REDIS_URL=redis://127.0.0.1:6379/0 python -m
    snippets.revocation.rotate_refresh_token
"""

from __future__ import annotations

# --8<-- [start:setup]
import hashlib
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
import redis.asyncio

from snippets.revocation.revoke_access_token import (
    RevocationUnavailable,
    TokenRefused,
    connect,
    raise_cutoff,
    raise_cutoff_async,
    user_tag,
)
from snippets.sessions.redis_errors import REDIS_ERRORS

REFRESH_LIFETIME = 7 * 24 * 3600  # a refresh token unused for a week expires
# Two tabs refreshing at once present the same token: within this many seconds of its
# use, the second gets the same successor instead of revoking the family.
GRACE_SECONDS = 5
# a login lasts at most 30 days, however often it refreshes
FAMILY_LIFETIME = (30 * 24 * 3600)
_REFRESH_TOKEN = re.compile(
    r"(?P<family>[A-Za-z0-9_-]{22})\.(?P<secret>[A-Za-z0-9_-]{43})"
)
# --8<-- [end:setup]


# --8<-- [start:format]
def _text(value: bytes | str) -> str:
    # A reply is bytes, or str from a client made with decode_responses=True.
    return value.decode() if isinstance(value, bytes) else value


def _parse(refresh_token: object) -> tuple[str, str]:
    """Return (family_id, hash of the secret), or refuse: nothing unchecked reaches
    Redis."""
    if not isinstance(refresh_token, str) or len(refresh_token) != 66:
        raise TokenRefused("malformed")
    match = _REFRESH_TOKEN.fullmatch(refresh_token)
    if match is None:
        raise TokenRefused("malformed")
    return match["family"], hashlib.sha256(match["secret"].encode()).hexdigest()


def _family_key(prefix: str, family_id: str) -> str:
    return f"{prefix}{{rf:{family_id}}}:family"


def _token_key(prefix: str, family_id: str, secret_hash: str) -> str:
    return f"{prefix}{{rf:{family_id}}}:token:{secret_hash}"


# --8<-- [end:format]


# --8<-- [start:issue]
def issue_refresh_token(
    r: redis.Redis,
    *,
    issuer: str,
    subject: str,
    prefix: str = "",
    lifetime: int = REFRESH_LIFETIME,
    family_lifetime: int = FAMILY_LIFETIME,
    now: Callable[[], float] = time.time,
) -> str:
    """Start a new family (at login) and return its first refresh token.

    Args:
        r: The Redis client.
        issuer: The ``iss`` of the access tokens this family will mint.
        subject: The user (``sub``) the family belongs to.
        prefix: Prepended to every key.
        lifetime: Seconds an unused refresh token stays valid.
        family_lifetime: Seconds after which the whole family expires, used or not.
        now: The clock, in seconds since the epoch.

    Returns:
        The refresh token, ``<family_id>.<secret>`` (66 URL-safe characters).

    Raises:
        RevocationUnavailable: Redis did not answer; no token was issued.
    """
    family_id, secret = secrets.token_urlsafe(16), secrets.token_urlsafe(32)
    _, secret_hash = _parse(f"{family_id}.{secret}")
    started = int(now())
    family_exp = started + family_lifetime
    index = user_tag({"iss": issuer, "sub": subject}, prefix=prefix) + "families"
    pipe = r.pipeline(transaction=False)  # one round trip; the keys live in two slots
    pipe.sadd(index, family_id)  # lets "log out everywhere" find this family
    pipe.expire(index, family_lifetime + 1)
    family = _family_key(prefix, family_id)
    pipe.hset(
        family,
        mapping={"status": "active", "exp": family_exp, "iss": issuer, "sub": subject},
    )
    pipe.expire(family, family_lifetime + 1)
    token = _token_key(prefix, family_id, secret_hash)
    pipe.hset(
        token, mapping={"state": "active", "exp": min(started + lifetime, family_exp)}
    )
    pipe.expire(token, family_lifetime + 1)
    try:
        pipe.execute()
    except REDIS_ERRORS as exc:
        raise RevocationUnavailable("could not store the refresh token") from exc
    return f"{family_id}.{secret}"


# --8<-- [end:issue]


# --8<-- [start:rotate]
_ROTATE = """
local now = tonumber(ARGV[1])
local family = redis.call('HMGET', KEYS[1], 'status', 'exp', 'iss', 'sub')
local token = redis.call('HMGET', KEYS[2], 'state', 'exp', 'grace_until')
if not family[1] or not token[1] then return {'unknown'} end
if family[1] ~= 'active' then return {'family_revoked'} end
if token[1] ~= 'active' then
  -- Used seconds ago by a concurrent request of the same client (two tabs): the
  -- same successor, kept only for the grace window.
  local successor = redis.call('GET', KEYS[4])
  if successor and now < tonumber(token[3] or '0') then
    return {'ok', family[3], family[4], successor}
  end
  -- A retired token came back: someone holds a copy. Revoke every descendant.
  redis.call('HSET', KEYS[1], 'status', 'revoked', 'reason', 'reuse',
             'revoked_at', ARGV[1])
  return {'reused', family[3], family[4]}
end
local family_exp = tonumber(family[2])
if now >= tonumber(token[2]) or now >= family_exp then return {'expired'} end
redis.call('HSET', KEYS[2], 'state', 'used', 'used_at', ARGV[1],
           'grace_until', now + tonumber(ARGV[4]) / 1000)
redis.call('HSET', KEYS[3], 'state', 'active',
           'exp', math.min(now + tonumber(ARGV[2]), family_exp))
redis.call('EXPIRE', KEYS[3], math.max(1, family_exp - now + 1))
if tonumber(ARGV[4]) > 0 then
  redis.call('SET', KEYS[4], ARGV[3], 'PX', ARGV[4])
end
return {'ok', family[3], family[4], ARGV[3]}
"""


@dataclass(frozen=True)
class Rotation:
    """The result of a successful rotation.

    Attributes:
        refresh_token: The new refresh token; the presented one is now retired.
        issuer: The family's issuer, for the new access token.
        subject: The family's user, for the new access token (never taken from the
            request).
        issued_at: When the rotation took effect: use it as the new access token's
            ``iat``, so that a "log out everywhere" that revoked the family just after
            it still cuts that token off, however late it is minted.
    """

    refresh_token: str
    issuer: str
    subject: str
    issued_at: float


def rotate_refresh_token(
    r: redis.Redis,
    refresh_token: object,
    *,
    prefix: str = "",
    lifetime: int = REFRESH_LIFETIME,
    grace: float = GRACE_SECONDS,
    now: Callable[[], float] = time.time,
) -> Rotation:
    """Retire ``refresh_token`` and return its successor, atomically, in one round trip.

    Args:
        r: The Redis client.
        refresh_token: The token the client presented (hostile until proven otherwise).
        prefix: Prepended to every key.
        lifetime: Seconds the new refresh token stays valid (capped by the family's
            end).
        grace: For this many seconds after a use, presenting the same token again
            returns the same successor (a concurrent request of the same client, two
            tabs); later, it is reuse. The successor is kept in Redis for that long
            only. 0 makes any second use reuse.
        now: The clock, in seconds since the epoch.

    Returns:
        The new refresh token and the family's issuer and subject.

    Raises:
        TokenRefused: ``"malformed"``, ``"unknown"`` (never issued, or expired and
            gone), ``"expired"``, ``"reused"`` (a retired token: the family is now
            revoked, and the user's access tokens so far are cut off) or
            ``"family_revoked"``.
        RevocationUnavailable: Redis did not answer; nothing was rotated.
    """
    _, new_token, keys = _rotation_keys(refresh_token, prefix)
    at = now()
    try:
        args: list[str | int] = [int(at), lifetime, new_token, int(grace * 1000)]
        result = r.register_script(_ROTATE)(keys=keys, args=args)
    except REDIS_ERRORS as exc:
        raise RevocationUnavailable("could not rotate the refresh token") from exc
    outcome = [_text(v) for v in result]  # ok or reused (with iss, sub), or [reason]
    if outcome[0] == "reused":  # cut off the access tokens the family minted, too
        raise_cutoff(r, issuer=outcome[1], subject=outcome[2], prefix=prefix, now=now)
    return _rotation(outcome, at)


def _rotation_keys(refresh_token: object, prefix: str) -> tuple[str, str, list[str]]:
    """The family, a new token, and the script's keys: family, presented, successor,
    and the presented token's grace entry."""
    family_id, secret_hash = _parse(refresh_token)
    new_secret = secrets.token_urlsafe(32)
    new_hash = hashlib.sha256(new_secret.encode()).hexdigest()
    presented = _token_key(prefix, family_id, secret_hash)
    keys = [
        _family_key(prefix, family_id),
        presented,
        _token_key(prefix, family_id, new_hash),
        presented + ":grace",
    ]
    return family_id, f"{family_id}.{new_secret}", keys


def _rotation(outcome: list[str], at: float) -> Rotation:
    if outcome[0] != "ok":
        raise TokenRefused(outcome[0])
    return Rotation(outcome[3], outcome[1], outcome[2], at)  # ours, or a twin's


# --8<-- [end:rotate]


# --8<-- [start:async_rotate]
async def rotate_refresh_token_async(
    r: redis.asyncio.Redis,
    refresh_token: object,
    *,
    prefix: str = "",
    lifetime: int = REFRESH_LIFETIME,
    grace: float = GRACE_SECONDS,
    now: Callable[[], float] = time.time,
) -> Rotation:
    """`rotate_refresh_token` for ``redis.asyncio``: the same script, one round trip,
    the same errors."""
    _, new_token, keys = _rotation_keys(refresh_token, prefix)
    at = now()
    try:
        script = r.register_script(_ROTATE)
        args: list[str | int] = [int(at), lifetime, new_token, int(grace * 1000)]
        result = await script(keys=keys, args=args)
    except REDIS_ERRORS as exc:
        raise RevocationUnavailable("could not rotate the refresh token") from exc
    outcome = [_text(v) for v in result]
    if outcome[0] == "reused":
        await raise_cutoff_async(
            r, issuer=outcome[1], subject=outcome[2], prefix=prefix, now=now
        )
    return _rotation(outcome, at)


# --8<-- [end:async_rotate]


# --8<-- [start:revoke]
_REVOKE = """
-- gone or revoked
if redis.call('HGET', KEYS[1], 'status') ~= 'active' then return 0 end
if #KEYS > 1 and redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', 'revoked', 'reason', ARGV[1])
return 1
"""


def revoke_refresh_family(
    r: redis.Redis, refresh_token: str, *, prefix: str = "", reason: str = "logout"
) -> bool:
    """Revoke the family of ``refresh_token`` (logout): it and every descendant are
    refused.

    Returns:
        True if a live family was revoked; False if the token is unknown or the family
        is already revoked or gone.

    Raises:
        TokenRefused: The token is malformed.
        RevocationUnavailable: Redis did not answer; nothing was revoked.
    """
    family_id, secret_hash = _parse(refresh_token)
    keys = [_family_key(prefix, family_id), _token_key(prefix, family_id, secret_hash)]
    try:
        return bool(r.register_script(_REVOKE)(keys=keys, args=[reason]))
    except REDIS_ERRORS as exc:
        raise RevocationUnavailable("could not revoke the refresh family") from exc


def revoke_user_families(
    r: redis.Redis, *, issuer: str, subject: str, prefix: str = ""
) -> int:
    """Revoke every refresh family of one user (used by "log out everywhere").

    Returns:
        How many live families were revoked.

    Raises:
        RevocationUnavailable: Redis did not answer; some families may still be live.
    """
    index = user_tag({"iss": issuer, "sub": subject}, prefix=prefix) + "families"
    revoke = r.register_script(_REVOKE)
    try:
        family_ids = [_text(f) for f in r.smembers(index)]
        # One script call per family: each family lives in its own hash slot, so on
        # Redis Cluster they cannot share a script, a transaction or even a pipelined
        # EVALSHA.
        return sum(
            revoke(keys=[_family_key(prefix, family_id)], args=["logout_everywhere"])
            for family_id in family_ids
        )
    except REDIS_ERRORS as exc:
        raise RevocationUnavailable(
            "could not revoke the user's refresh families"
        ) from exc


# --8<-- [end:revoke]


def main() -> None:
    # --8<-- [start:demo]
    r = connect(os.environ["REDIS_URL"])
    prefix = os.environ.get("REDIS_KEY_PREFIX", "app:")
    first = issue_refresh_token(
        r, issuer="https://auth.example.com", subject="user-42", prefix=prefix
    )
    print(len(first))
    #> 66
    second = rotate_refresh_token(r, first, prefix=prefix)  # the client refreshes
    print(second.subject, second.refresh_token != first)
    #> user-42 True
    try:
        rotate_refresh_token(r, first, prefix=prefix)  # a stolen copy of the old token
    except TokenRefused as exc:
        print(exc.reason)
        #> reused
    try:
        # the family is gone
        rotate_refresh_token(r, second.refresh_token, prefix=prefix)
    except TokenRefused as exc:
        print(exc.reason)
        #> family_revoked
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
