"""Fixtures for the revocation tests: a controllable clock, claims, a fail-fast client."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from snippets.revocation.revoke_access_token import connect
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
