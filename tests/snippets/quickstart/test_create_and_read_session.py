from __future__ import annotations

import hashlib

import pytest
import redis

from snippets.quickstart import create_and_read_session as module
from snippets.quickstart.create_and_read_session import (
    ABSOLUTE_TIMEOUT_SECONDS,
    IDLE_TIMEOUT_SECONDS,
    create_session,
    read_session,
    session_key,
)
from tests.helpers import ManualClock


def test_created_session_reads_back(redis_client: redis.Redis, key_prefix: str) -> None:
    sid = create_session(redis_client, {"user_id": 7}, prefix=key_prefix)
    assert read_session(redis_client, sid, prefix=key_prefix) == {"user_id": 7}


def test_ids_are_fresh_and_long(redis_client: redis.Redis, key_prefix: str) -> None:
    ids = {create_session(redis_client, {}, prefix=key_prefix) for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 43 for i in ids)  # 256 bits, base64url


def test_redis_holds_no_usable_session_id(redis_client: redis.Redis, key_prefix: str) -> None:
    sid = create_session(redis_client, {"user_id": 7}, prefix=key_prefix)
    keys = [k.decode() for k in redis_client.scan_iter(match=f"{key_prefix}*")]
    assert keys == [session_key(key_prefix, sid)]
    assert keys[0].endswith(hashlib.sha256(sid.encode()).hexdigest())
    assert sid not in keys[0]


def test_reading_slides_the_idle_timeout(redis_client: redis.Redis, key_prefix: str) -> None:
    sid = create_session(redis_client, {}, prefix=key_prefix)
    (key,) = redis_client.scan_iter(match=f"{key_prefix}*")
    redis_client.expire(key, 5)
    read_session(redis_client, sid, prefix=key_prefix)
    assert IDLE_TIMEOUT_SECONDS - 5 < redis_client.ttl(key) <= IDLE_TIMEOUT_SECONDS


def test_deleted_session_is_gone(redis_client: redis.Redis, key_prefix: str) -> None:
    sid = create_session(redis_client, {}, prefix=key_prefix)
    for key in redis_client.scan_iter(match=f"{key_prefix}*"):
        redis_client.delete(key)
    assert read_session(redis_client, sid, prefix=key_prefix) is None


@pytest.mark.parametrize(
    "bad", ["", "x", "*", "a" * 42, "a" * 44, "a" * 42 + "=", "../" * 15, None, 43, b"a" * 43]
)
def test_malformed_ids_never_reach_redis(counting_redis, key_prefix: str, bad: object) -> None:
    client, round_trips = counting_redis
    assert read_session(client, bad, prefix=key_prefix) is None  # type: ignore[arg-type]
    assert round_trips.count == 0


def test_reading_takes_one_round_trip(counting_redis, key_prefix: str) -> None:
    client, round_trips = counting_redis
    sid = create_session(client, {"user_id": 7}, prefix=key_prefix)
    round_trips.count = 0
    assert read_session(client, sid, prefix=key_prefix) == {"user_id": 7}
    assert round_trips.count == 1


def test_a_busy_session_still_ends_at_its_absolute_lifetime(
    redis_client: redis.Redis, key_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock(1_800_000_000)
    monkeypatch.setattr(module.time, "time", clock)
    sid = create_session(redis_client, {"user_id": 7}, prefix=key_prefix)
    deadline = clock.now + ABSOLUTE_TIMEOUT_SECONDS
    step = IDLE_TIMEOUT_SECONDS - 60  # a request before every idle deadline
    while clock.now + step < deadline:
        clock.advance(step)
        assert read_session(redis_client, sid, prefix=key_prefix) == {"user_id": 7}
    clock.now = deadline
    assert read_session(redis_client, sid, prefix=key_prefix) is None
    assert redis_client.exists(session_key(key_prefix, sid)) == 0  # deleted, not just refused


@pytest.mark.parametrize("decode_responses", [False, True])
def test_works_with_either_kind_of_client(
    redis_url: str, key_prefix: str, decode_responses: bool
) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=decode_responses)
    try:
        sid = create_session(client, {"user_id": 7}, prefix=key_prefix)
        assert read_session(client, sid, prefix=key_prefix) == {"user_id": 7}
    finally:
        client.close()
