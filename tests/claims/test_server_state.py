"""Server state: a JWT needs nothing stored per token; a session is a record in a shared store."""

from __future__ import annotations

import socket

import pytest
import redis

from snippets.sessions.session_store import RedisSessionStore
from tests.claims.conftest import Keys
from tests.helpers import ManualClock


def _keys_under(client: redis.Redis, prefix: str) -> list[bytes]:
    return list(client.scan_iter(match=f"{prefix}*", count=1000))


def test_a_jwt_is_issued_and_verified_without_touching_redis(
    keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue and verify with every network connection refused: had the JWT code asked Redis,
    or anything else, for state, this would fail."""
    opened: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        opened.append(args)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    token = keys.issue("user-42", role="reader")
    claims = keys.verify(token)
    assert claims["sub"] == "user-42" and claims["role"] == "reader"
    assert opened == []  # the signature is the whole proof: nothing was asked


def test_the_network_guard_above_catches_a_redis_call(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard is real: code that does reach for Redis under it fails."""
    monkeypatch.setattr(socket.socket, "connect", lambda *a: (_ for _ in ()).throw(OSError()))
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(redis_url).ping()


def test_a_session_lives_as_a_record_that_every_request_reads(
    counting_redis: tuple[redis.Redis, object], key_prefix: str, clock: ManualClock
) -> None:
    client, counter = counting_redis
    store = RedisSessionStore(client, prefix=key_prefix, now=clock)
    assert _keys_under(client, key_prefix) == []
    session_id = store.create("user-42", {"role": "reader"})
    assert _keys_under(client, key_prefix), "creating a session writes server-side state"
    store.validate(session_id)  # loads the script into Redis once
    counter.count = 0
    for _ in range(3):
        assert store.validate(session_id).data == {"role": "reader"}
    assert counter.count == 3  # one round trip to the store on every request


def test_without_its_record_a_session_id_is_worthless(
    redis_client: redis.Redis, key_prefix: str, clock: ManualClock
) -> None:
    store = RedisSessionStore(redis_client, prefix=key_prefix, now=clock)
    session_id = store.create("user-42", {"role": "reader"})
    redis_client.delete(*_keys_under(redis_client, key_prefix))  # the state is lost
    assert store.validate(session_id) is None
