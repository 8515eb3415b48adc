"""Fixtures for the revocation tests: a controllable clock, claims, a fail-fast client."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from snippets.revocation.logout_everywhere import check_access_token, check_access_token_async
from snippets.revocation.revoke_access_token import connect, connect_async
from snippets.revocation.rotate_refresh_token import (
    rotate_refresh_token,
    rotate_refresh_token_async,
)
from tests.async_bridge import LoopThread, either
from tests.helpers import ManualClock
from tools.redis_server import RedisServer

T0 = 1_700_000_000  # the tests' "now", in seconds since the epoch


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def make_claims() -> Callable[..., dict[str, Any]]:
    """Claims as a verifier returns them; keyword arguments override any claim."""

    def make(**overrides: Any) -> dict[str, Any]:
        claims = {
            "iss": "https://auth.example.com",
            "aud": "https://api.example.com",
            "sub": "user-42",
            "jti": secrets.token_urlsafe(16),
            "iat": T0,
            "exp": T0 + 900,
        }
        return {**claims, **overrides}

    return make


@pytest.fixture
def outage_client(private_redis: RedisServer) -> Iterator[redis.Redis]:
    """A fail-fast client (as the snippets build it) of a server the test may stop."""
    client = connect(f"redis://{private_redis.host}:{private_redis.port}/0")
    yield client
    client.close()


class _OneClient:
    """The test's default client, made on first use and only once, however many threads
    ask at the same time.

    Made without the lock, 64 racing threads each made (and, on the cluster, initialised)
    a client of their own: under load one of those start-ups timed out, outside the code
    under test (seen as a raw ``redis.TimeoutError`` on a busy run).
    """

    def __init__(self, make: Callable[..., Any]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._client: Any = None

    def get(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._make()
            return self._client


@pytest.fixture
def rotate(
    api: str, redis_clients: Callable[..., Any], loop_thread: LoopThread
) -> Callable[..., Any]:
    """``rotate(token, client=None, **options)``: the ``api``'s rotate_refresh_token, on
    ``client`` or a client of the test's topology."""
    rotate_with = either(api, rotate_refresh_token, rotate_refresh_token_async, loop_thread)
    default = _OneClient(redis_clients)

    def call(token: object, *, client: Any = None, **options: Any) -> Any:
        return rotate_with(default.get() if client is None else client, token, **options)

    return call


@pytest.fixture
def check(
    api: str, redis_clients: Callable[..., Any], loop_thread: LoopThread
) -> Callable[..., Any]:
    """``check(claims, client=None, **options)``: the ``api``'s check_access_token."""
    check_with = either(api, check_access_token, check_access_token_async, loop_thread)
    default = _OneClient(redis_clients)

    def call(claims: object, *, client: Any = None, **options: Any) -> Any:
        return check_with(default.get() if client is None else client, claims, **options)

    return call


@pytest.fixture
def api_outage_client(
    api: str, private_redis: RedisServer, loop_thread: LoopThread
) -> Iterator[Any]:
    """The ``api``'s fail-fast client (as the snippets build it) of a stoppable server."""
    url = f"redis://{private_redis.host}:{private_redis.port}/0"
    if api == "sync":
        client = connect(url)
        yield client
        client.close()
    else:
        aclient = connect_async(url)
        yield aclient
        loop_thread.run(aclient.aclose())
