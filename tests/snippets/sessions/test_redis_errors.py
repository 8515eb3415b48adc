"""REDIS_ERRORS covers what redis-py's clients raise when the store cannot answer."""

from __future__ import annotations

import inspect

import pytest
import redis
import redis.exceptions

from snippets.sessions.redis_errors import REDIS_ERRORS
from tools.redis_server import RedisServer


def test_it_covers_every_exception_redis_py_defines() -> None:
    """A new exception family in a redis-py release must be looked at, not missed."""
    defined = [
        c
        for _, c in inspect.getmembers(redis.exceptions, inspect.isclass)
        if issubclass(c, Exception) and c.__module__ == "redis.exceptions"
    ]
    missed = {c.__name__ for c in defined if not issubclass(c, REDIS_ERRORS)}
    # Raised for misuse by the caller, never by an unavailable store.
    assert missed == {"ChildDeadlockedError", "IncorrectPolicyType"}, missed


def test_a_stopped_server_raises_one_of_them(private_redis: RedisServer) -> None:
    client = redis.Redis(host=private_redis.host, port=private_redis.port, socket_timeout=0.5)
    client.ping()
    private_redis.stop()
    with pytest.raises(REDIS_ERRORS):
        client.ping()
    client.close()


def test_it_is_not_a_catch_all() -> None:
    assert not issubclass(ValueError, REDIS_ERRORS)
    assert not issubclass(TypeError, REDIS_ERRORS)
