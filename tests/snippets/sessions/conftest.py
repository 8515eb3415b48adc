"""Fixtures for the session tests: a clock the test moves, and a store that uses it."""

from __future__ import annotations

import pytest
import redis

from snippets.sessions.session_store import RedisSessionStore


class Clock:
    """A clock that only moves when the test says so."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(redis_client: redis.Redis, key_prefix: str, clock: Clock) -> RedisSessionStore:
    return RedisSessionStore(
        redis_client, prefix=key_prefix, idle_timeout=30 * 60, absolute_timeout=8 * 3600,
        now=clock,
    )
