"""Phantom token: opaque outside, JWT inside, one Redis lookup, a short bounded cache."""

from __future__ import annotations

import pytest
import redis

from snippets.converting.exchange_session_for_jwt import Signer
from snippets.converting.phantom_token_gateway import (
    OpaqueTokenRefused,
    PhantomTokenGateway,
    TokenStoreUnavailable,
    issue_opaque_token,
    revoke_opaque_token,
)
from snippets.tokens.verify_token import verify_token
from tests.helpers import ManualClock
from tests.snippets.converting.conftest import ISSUER

INSIDE = "https://internal.example.com"


def gateway(
    r: redis.Redis, signer: Signer, prefix: str, clock: ManualClock, **kw: object
) -> PhantomTokenGateway:
    return PhantomTokenGateway(r, signer=signer, audience=INSIDE, prefix=prefix, now=clock, **kw)


def inside(token: str, signer: Signer, clock: ManualClock) -> dict:
    return verify_token(
        token,
        signer.key.public_key(),
        algorithm="EdDSA",
        typ="at+jwt",
        audience=INSIDE,
        issuer=ISSUER,
        now=clock(),
    )


def test_one_lookup_then_cached_and_the_jwt_verifies_without_redis(
    counting_redis: tuple[redis.Redis, object], key_prefix: str, signer: Signer, clock: ManualClock
) -> None:
    r, counter = counting_redis
    opaque = issue_opaque_token(r, "alice", scope="orders:read", prefix=key_prefix, now=clock())
    gw = gateway(r, signer, key_prefix, clock)
    counter.count = 0
    first = gw.exchange(opaque)
    assert counter.count == 1
    assert gw.exchange(opaque) == first and counter.count == 1  # served from the cache
    claims = inside(first, signer, clock)
    assert claims["sub"] == "alice" and claims["scope"] == "orders:read"
    assert gw.forward_headers(f"Bearer {opaque}") == {"Authorization": f"Bearer {first}"}
    stored = b"".join(r.get(k) for k in r.scan_iter(f"{key_prefix}phantom:*"))
    assert opaque.encode() not in stored and opaque.encode() not in b"".join(
        r.scan_iter(f"{key_prefix}*")
    )


def test_revocation_lags_at_most_the_cache_time(
    redis_client: redis.Redis, key_prefix: str, signer: Signer, clock: ManualClock
) -> None:
    opaque = issue_opaque_token(redis_client, "alice", prefix=key_prefix, now=clock())
    cached, fresh = (gateway(redis_client, signer, key_prefix, clock) for _ in range(2))
    cached.exchange(opaque)
    assert revoke_opaque_token(redis_client, opaque, prefix=key_prefix)
    with pytest.raises(OpaqueTokenRefused):
        fresh.exchange(opaque)  # a process that had not cached it refuses at once
    clock.advance(9.9)
    cached.exchange(opaque)
    clock.advance(0.1)
    with pytest.raises(OpaqueTokenRefused, match="revoked"):
        cached.exchange(opaque)


def test_cache_and_jwt_never_outlive_the_opaque_token(
    redis_client: redis.Redis, key_prefix: str, signer: Signer, clock: ManualClock
) -> None:
    opaque = issue_opaque_token(redis_client, "alice", lifetime=90, prefix=key_prefix, now=clock())
    gw = gateway(redis_client, signer, key_prefix, clock, cache_seconds=600)
    clock.advance(87)
    claims = inside(gw.exchange(opaque), signer, clock)
    assert claims["exp"] - claims["iat"] == 3  # the opaque token's remaining life
    clock.advance(3)
    with pytest.raises(OpaqueTokenRefused):
        gw.exchange(opaque)  # the cache entry ran out with the token


@pytest.mark.parametrize("bad", [None, "", "A" * 43, "A" * 42, "a.b.c", "é" * 43, 42])
def test_malformed_or_unknown_tokens_are_refused(
    redis_client: redis.Redis, key_prefix: str, signer: Signer, clock: ManualClock, bad: object
) -> None:
    gw = gateway(redis_client, signer, key_prefix, clock)
    with pytest.raises(OpaqueTokenRefused):
        gw.exchange(bad)
    assert not revoke_opaque_token(redis_client, bad, prefix=key_prefix)


def test_forward_headers_wants_a_bearer_token(
    redis_client: redis.Redis, key_prefix: str, signer: Signer, clock: ManualClock
) -> None:
    gw = gateway(redis_client, signer, key_prefix, clock)
    for header in [None, "", "Basic abc", "Bearer "]:
        with pytest.raises(OpaqueTokenRefused):
            gw.forward_headers(header)


def test_cache_is_bounded(
    counting_redis: tuple[redis.Redis, object], key_prefix: str, signer: Signer, clock: ManualClock
) -> None:
    r, counter = counting_redis
    gw = gateway(r, signer, key_prefix, clock, max_entries=3)
    tokens = [issue_opaque_token(r, user, prefix=key_prefix, now=clock()) for user in "abcde"]
    for token in tokens:
        gw.exchange(token)
    counter.count = 0
    for token in tokens[2:]:  # the three most recent stay cached
        gw.exchange(token)
    assert counter.count == 0
    gw.exchange(tokens[0])  # the oldest went when the cache was full: Redis is asked again
    assert counter.count == 1


def test_redis_down_refuses_instead_of_letting_through(
    private_redis: object, signer: Signer, clock: ManualClock
) -> None:
    from snippets.sessions.session_store import connect

    client = connect(f"redis://{private_redis.host}:{private_redis.port}/0")
    opaque = issue_opaque_token(client, "alice", now=clock())
    private_redis.stop()
    with pytest.raises(TokenStoreUnavailable):
        gateway(client, signer, "", clock).exchange(opaque)
    client.close()


def test_a_token_issued_from_a_session_ends_with_it(
    redis_client: redis.Redis, key_prefix: str, signer: Signer, clock: ManualClock
) -> None:
    from snippets.sessions.session_store import RedisSessionStore

    store = RedisSessionStore(redis_client, prefix=key_prefix, now=clock)
    session_id = store.create("alice")
    handle = store.validate(session_id).handle
    opaque = issue_opaque_token(
        redis_client, "alice", session=handle, prefix=key_prefix, now=clock()
    )
    gw = gateway(redis_client, signer, key_prefix, clock)
    assert inside(gw.exchange(opaque), signer, clock)["sid"] == handle
    store.destroy(session_id)  # logout
    clock.advance(10)  # the cache window
    with pytest.raises(OpaqueTokenRefused, match="session"):
        gw.exchange(opaque)


@pytest.mark.parametrize(
    "stored",
    [
        b"not json",
        b"[]",
        b'{"sub": "alice"}',
        b'{"sub": 1, "scope": "", "exp": 9}',
        b'{"sub": "a", "scope": "", "exp": "soon"}',
        b'{"sub": "a", "scope": "", "exp": 9, "sid": 4}',
        b"\xff",
    ],
)
def test_a_corrupted_record_is_a_store_error_never_another_exception(
    redis_client: redis.Redis, key_prefix: str, signer: Signer, clock: ManualClock, stored: bytes
) -> None:
    opaque = issue_opaque_token(redis_client, "alice", prefix=key_prefix, now=clock())
    key = next(iter(redis_client.scan_iter(f"{key_prefix}phantom:*")))
    redis_client.set(key, stored)
    with pytest.raises(TokenStoreUnavailable, match="malformed"):
        gateway(redis_client, signer, key_prefix, clock).exchange(opaque)
