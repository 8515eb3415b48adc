"""Login throttling: limits per account and per address, one round trip, fail closed."""

from __future__ import annotations

import time

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snippets.sessions.login_throttle import (
    ACCOUNT_LIMIT,
    WINDOW_SECONDS,
    LoginThrottle,
    LoginThrottled,
    ThrottleUnavailable,
    address_key,
    check_rate,
    counter_key,
)
from snippets.sessions.session_store import require_noeviction
from tools.redis_server import RedisServer

pytestmark = pytest.mark.also_on_cluster


def test_an_account_is_throttled_after_its_limit_and_says_for_how_long(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    throttle = LoginThrottle(redis_client, prefix=key_prefix)
    for n in range(ACCOUNT_LIMIT):
        throttle.attempt("alice", f"198.51.100.{n}")  # from many addresses
    with pytest.raises(LoginThrottled) as refused:
        throttle.attempt("Alice ", "198.51.100.99")  # the same account, however written
    assert 0 < refused.value.retry_after <= WINDOW_SECONDS
    throttle.attempt("bob", "198.51.100.99")  # other accounts are not held back


def test_an_address_is_throttled_across_accounts(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    throttle = LoginThrottle(redis_client, prefix=key_prefix, address_limit=5)
    for n in range(5):
        throttle.attempt(f"user-{n}", "203.0.113.7")  # password spraying from one place
    with pytest.raises(LoginThrottled):
        throttle.attempt("user-99", "203.0.113.7")
    throttle.attempt("user-99", "203.0.113.8")


def test_a_success_clears_the_accounts_count(redis_client: redis.Redis, key_prefix: str) -> None:
    throttle = LoginThrottle(redis_client, prefix=key_prefix, account_limit=3)
    for _ in range(3):
        throttle.attempt("alice", "192.0.2.1")
    throttle.succeeded("alice")
    for _ in range(3):
        throttle.attempt("alice", "192.0.2.1")
    with pytest.raises(LoginThrottled):
        throttle.attempt("alice", "192.0.2.1")


def test_the_window_ends_by_itself(redis_client: redis.Redis, key_prefix: str) -> None:
    throttle = LoginThrottle(redis_client, prefix=key_prefix, account_limit=1)
    throttle.attempt("alice", "192.0.2.1")
    with pytest.raises(LoginThrottled):
        throttle.attempt("alice", "192.0.2.1")
    key = counter_key(key_prefix, "account", "alice")
    assert 0 < redis_client.ttl(key) <= WINDOW_SECONDS  # never a lock for good
    redis_client.pexpire(key, 1)  # as if the window had run out
    deadline = time.monotonic() + 5
    while redis_client.exists(key):
        assert time.monotonic() < deadline
    throttle.attempt("alice", "192.0.2.1")


@pytest.mark.counts_round_trips
def test_an_attempt_is_one_round_trip(counting_redis, key_prefix: str, redis_topology: str) -> None:  # type: ignore[no-untyped-def]
    client, round_trips = counting_redis
    throttle = LoginThrottle(client, prefix=key_prefix)
    round_trips.count = 0
    throttle.attempt("alice", "192.0.2.1")
    # One pipeline: one request, or one per node holding one of the two keys on a cluster.
    keys = [counter_key(key_prefix, "account", "alice"), address_key(key_prefix, "192.0.2.1")]
    nodes = (
        1 if redis_topology == "single" else len({client.get_node_from_key(k).name for k in keys})
    )
    assert round_trips.count == nodes


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    account=st.one_of(
        st.text(max_size=3000),
        st.binary(max_size=64),
        st.integers(),
        st.none(),
        st.lists(st.text(), max_size=3),
    ),
    address=st.one_of(st.text(max_size=200), st.none(), st.integers()),
)
def test_any_input_is_counted_or_throttled_never_another_exception(  # type: ignore[no-untyped-def]
    redis_client: redis.Redis, key_prefix: str, account, address
) -> None:
    throttle = LoginThrottle(redis_client, prefix=key_prefix)
    try:
        throttle.attempt(account, address)
        throttle.succeeded(account)
    except LoginThrottled:
        pass  # the same junk address came back often enough
    for key in [counter_key(key_prefix, "account", account), address_key(key_prefix, address)]:
        assert len(key) < len(key_prefix) + 100  # bounded, whatever came in


def test_anonymous_writes_are_bounded_per_address(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    for _ in range(3):
        check_rate(
            redis_client, "oidc-start", "192.0.2.1", limit=3, window_seconds=60, prefix=key_prefix
        )
    with pytest.raises(LoginThrottled) as refused:
        check_rate(
            redis_client, "oidc-start", "192.0.2.1", limit=3, window_seconds=60, prefix=key_prefix
        )
    assert 0 < refused.value.retry_after <= 60
    check_rate(
        redis_client, "oidc-start", "192.0.2.2", limit=3, window_seconds=60, prefix=key_prefix
    )


def test_redis_down_refuses_the_attempt(private_redis: RedisServer) -> None:
    from snippets.sessions.session_store import connect

    client = connect(private_redis.url)
    throttle = LoginThrottle(client)
    throttle.attempt("alice", "192.0.2.1")
    private_redis.stop()
    try:
        with pytest.raises(ThrottleUnavailable):
            throttle.attempt("alice", "192.0.2.1")
        with pytest.raises(ThrottleUnavailable):
            check_rate(client, "x", "192.0.2.1", limit=1, window_seconds=1)
    finally:
        private_redis.start()
        client.close()


# -- the eviction policy the store needs ---------------------------------------------------


@pytest.mark.parametrize(
    "policy", ["allkeys-lru", "volatile-lru", "allkeys-random", "volatile-ttl"]
)
def test_a_redis_that_may_evict_is_refused(private_redis: RedisServer, policy: str) -> None:
    """Filling memory under an evicting policy once evicted a blocklist entry and let a
    revoked token pass."""
    client = redis.Redis.from_url(private_redis.url)
    client.config_set("maxmemory-policy", policy)
    with pytest.raises(RuntimeError, match="maxmemory-policy noeviction"):
        require_noeviction(client)
    client.config_set("maxmemory-policy", "noeviction")
    require_noeviction(client)  # the setting the page asks for
    client.close()


def test_the_policy_is_checked_on_every_node_of_a_cluster(redis_cluster) -> None:  # type: ignore[no-untyped-def]
    from redis.cluster import RedisCluster

    client = RedisCluster.from_url(redis_cluster.url())
    require_noeviction(client)
    # Not the node a cluster client asks by default: a check of one node would miss it.
    node = next(n for n in client.get_nodes() if n != client.get_default_node())
    client.config_set("maxmemory-policy", "allkeys-lru", target_nodes=node)
    try:
        with pytest.raises(RuntimeError, match="allkeys-lru"):
            require_noeviction(client)
    finally:
        client.config_set("maxmemory-policy", "noeviction", target_nodes=node)
        client.close()
