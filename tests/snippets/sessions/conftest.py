"""Fixtures for the session tests: a clock the test moves, and a store that uses it."""

from __future__ import annotations

import pytest
import redis

from snippets.sessions.session_store import RedisSessionStore
from tests.helpers import ManualClock


class Clock(ManualClock):
    """The shared manual clock, starting where these tests expect."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        super().__init__(now)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(redis_client: redis.Redis, key_prefix: str, clock: Clock) -> RedisSessionStore:
    return RedisSessionStore(
        redis_client,
        prefix=key_prefix,
        idle_timeout=30 * 60,
        absolute_timeout=8 * 3600,
        now=clock,
    )
