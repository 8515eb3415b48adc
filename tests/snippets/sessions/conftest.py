"""Fixtures for the session tests: a clock the test moves, and a store that uses it."""

from __future__ import annotations

import pytest
import redis

from snippets.sessions.session_store import RedisSessionStore
from tests.helpers import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_700_000_000.0)


@pytest.fixture
def store(redis_client: redis.Redis, key_prefix: str, clock: ManualClock) -> RedisSessionStore:
    return RedisSessionStore(
        redis_client,
        prefix=key_prefix,
        idle_timeout=30 * 60,
        absolute_timeout=8 * 3600,
        now=clock,
    )
