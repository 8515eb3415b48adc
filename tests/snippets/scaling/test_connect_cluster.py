"""The snippets on a real Redis Cluster, including a master failing over to its replica."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from snippets.revocation.revoke_access_token import (
    RevocationUnavailable,
    TokenRefused,
    blocklist_key,
    ensure_not_revoked,
    revoke_access_token,
)
from snippets.scaling.connect_cluster import connect_cluster, connect_cluster_async
from snippets.sessions.session_store import (
    AsyncRedisSessionStore,
    RedisSessionStore,
    SessionStoreUnavailable,
)
from tests.async_bridge import run_alone
from tools.redis_cluster import LocalCluster

pytestmark = pytest.mark.cluster  # starts a cluster of its own

ISSUER = "https://auth.example.com"


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    """A cluster this test alone uses, so that it may kill one of its masters."""
    cluster = LocalCluster(tmp_path / "cluster")
    cluster.start()
    yield cluster
    cluster.stop()


def _claims(n: int) -> dict:
    now = time.time()
    return {"iss": ISSUER, "sub": f"user-{n}", "jti": f"jti-{n}", "iat": now, "exp": now + 900}


def test_client_reaches_every_master(redis_cluster: LocalCluster) -> None:
    client = connect_cluster(redis_cluster.url())
    assert len(client.get_primaries()) == 3
    keys = [f"spread:{i}" for i in range(60)]
    for key in keys:
        client.set(key, key, ex=60)
    assert {client.get_node_from_key(k).name for k in keys} == {
        n.name for n in client.get_primaries()
    }
    assert [client.get(k) for k in keys] == [k.encode() for k in keys]
    client.delete(*keys)
    client.close()


def test_failover_fails_closed_and_keeps_replicated_state(own_cluster: LocalCluster) -> None:
    client = connect_cluster(own_cluster.url())
    prefix = "failover:"
    store = RedisSessionStore(client, prefix=prefix)

    live = {f"user-{i}": store.create(f"user-{i}", {"n": i}) for i in range(24)}
    logged_out = [store.create(f"gone-{i}") for i in range(24)]
    for session_id in logged_out:
        assert store.destroy(session_id)
    revoked = [_claims(i) for i in range(24)]
    for claims in revoked:
        assert revoke_access_token(client, claims, prefix=prefix)
    own_cluster.wait_for_replication()

    victim = own_cluster.master_for(blocklist_key(revoked[0], prefix=prefix))
    victim.stop()

    outcomes: Counter[str] = Counter()
    deadline = time.monotonic() + 30
    while not own_cluster.is_healthy():
        assert time.monotonic() < deadline, "no replica was promoted within 30 s"
        for session_id in logged_out:
            try:
                assert store.validate(session_id) is None, "a logged-out session was accepted"
                outcomes["session refused"] += 1
            except SessionStoreUnavailable:
                outcomes["store unavailable"] += 1
        for claims in revoked:
            try:
                ensure_not_revoked(client, claims, prefix=prefix)
                pytest.fail("a revoked token was accepted during the failover")
            except TokenRefused:
                outcomes["token refused"] += 1
            except RevocationUnavailable:
                outcomes["blocklist unavailable"] += 1
    # The outage was observed: some checks failed closed rather than answering.
    assert outcomes["store unavailable"] + outcomes["blocklist unavailable"] > 0, outcomes

    # After the promotion: the same client serves every slot again and nothing replicated was lost.
    for user_id, session_id in live.items():
        session = store.validate(session_id)
        assert session is not None and session.user_id == user_id
    assert all(store.validate(session_id) is None for session_id in logged_out)
    for claims in revoked:
        with pytest.raises(TokenRefused):
            ensure_not_revoked(client, claims, prefix=prefix)
    assert store.validate(store.create("after-failover")) is not None
    client.close()


def test_the_async_client_serves_many_requests_at_once_from_the_start(
    redis_cluster: LocalCluster,
) -> None:
    """Requests arriving together on a client that has just connected all succeed."""

    async def scenario() -> list[str | None]:
        client = await connect_cluster_async(redis_cluster.url())
        store = AsyncRedisSessionStore(client, prefix="async-start:")
        session_id = await store.create("alice")
        users: list[str | None] = []
        for _ in range(20):  # twenty app processes starting up
            fresh = await connect_cluster_async(redis_cluster.url())
            try:
                again = AsyncRedisSessionStore(fresh, prefix="async-start:")
                sessions = await asyncio.gather(*(again.validate(session_id) for _ in range(8)))
                users += [s.user_id if s else None for s in sessions]
            finally:
                await fresh.aclose()
        await store.destroy(session_id)
        await client.aclose()
        return users

    assert run_alone(scenario()) == ["alice"] * 160


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_start_up_gives_up_within_its_deadline(
    flavour: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing listening: start-up retries until its deadline, then raises a store error.
    The sync client connects in its constructor, the async one in ``initialize``."""
    from snippets.scaling import connect_cluster as module
    from snippets.sessions.redis_errors import REDIS_ERRORS
    from tools.redis_server import free_port

    monkeypatch.setattr(module, "STARTUP_SECONDS", 0.5)
    url = f"redis://127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    with pytest.raises(REDIS_ERRORS):
        if flavour == "sync":
            module.connect_cluster(url)
        else:
            run_alone(module.connect_cluster_async(url))
    assert 0.5 <= time.monotonic() - started < 10
