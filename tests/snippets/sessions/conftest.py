"""Fixtures for the session tests: a clock the test moves, and stores that use it.

Every store fixture is parametrised by ``api``: each test runs against `RedisSessionStore`
and against `AsyncRedisSessionStore` (through tests.async_bridge.Blocking), with the same
assertions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from snippets.sessions.session_store import AsyncRedisSessionStore, RedisSessionStore
from tests.async_bridge import Blocking, LoopThread
from tests.helpers import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_700_000_000.0)


@pytest.fixture
def make_store(
    api: str,
    redis_clients: Callable[..., Any],
    loop_thread: LoopThread,
    key_prefix: str,
    clock: ManualClock,
) -> Callable[..., Any]:
    """``make_store(client=None, **options)``: a store of the ``api``'s kind.

    The client defaults to a new one on the test's topology; options default to this
    test's prefix and clock.
    """

    def make(client: Any = None, **options: Any) -> Any:
        options = {"prefix": key_prefix, "now": clock, **options}
        client = client if client is not None else redis_clients()
        if api == "sync":
            return RedisSessionStore(client, **options)
        return Blocking(AsyncRedisSessionStore(client, **options), loop_thread)

    return make


@pytest.fixture
def store(make_store: Callable[..., Any]) -> Any:
    return make_store(idle_timeout=30 * 60, absolute_timeout=8 * 3600)
