"""With every node of the cluster gone, every snippet that talks to Redis fails closed.

The clients are made the way `snippets/scaling/connect_cluster.py` makes them and learn
the slot map while the cluster is up; then every node stops. redis-py's cluster clients
then raise ``RedisClusterException`` ("Redis Cluster cannot be connected"), which is not a
``redis.RedisError``: each entry point must still end in its documented "unavailable"
exception (a 503 in an app), never in that one (a 500).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from snippets.converting.dual_accept_migration import (
    DualAcceptMigration,
    MigrationStateUnavailable,
)
from snippets.converting.exchange_session_for_jwt import session_is_live
from snippets.converting.id_token_to_session import begin_login
from snippets.converting.phantom_token_gateway import (
    TokenStoreUnavailable,
    issue_opaque_token,
    revoke_opaque_token,
)
from snippets.revocation.logout_everywhere import (
    check_access_token,
    check_access_token_async,
    logout_everywhere,
)
from snippets.revocation.revoke_access_token import (
    RevocationUnavailable,
    ensure_not_revoked,
    raise_cutoff,
    raise_cutoff_async,
    revoke_access_token,
)
from snippets.revocation.rotate_refresh_token import (
    issue_refresh_token,
    revoke_refresh_family,
    revoke_user_families,
    rotate_refresh_token,
    rotate_refresh_token_async,
)
from snippets.scaling.connect_cluster import connect_cluster, connect_cluster_async
from snippets.sessions.login_throttle import LoginThrottle, ThrottleUnavailable, check_rate
from snippets.sessions.session_store import (
    AsyncRedisSessionStore,
    RedisSessionStore,
    SessionStoreUnavailable,
)
from tests.async_bridge import LoopThread
from tools.redis_cluster import LocalCluster

pytestmark = pytest.mark.cluster  # starts a cluster of its own

ISS = "https://auth.example.com"
SID = "A" * 43  # a well-formed session ID: only Redis can say it is unknown
REFRESH = "B" * 22 + "." + "C" * 43  # a well-formed refresh token
HANDLE = "d" * 64


def _claims() -> dict[str, Any]:
    now = time.time()
    return {"iss": ISS, "sub": "user-42", "jti": "j" * 22, "iat": now, "exp": now + 900}


@pytest.fixture(scope="module")
def dead(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A sync and an async client that knew the cluster, after all its nodes stopped."""
    cluster = LocalCluster(tmp_path_factory.mktemp("dead-cluster"))
    cluster.start()
    loop = LoopThread()
    try:
        sync = connect_cluster(cluster.url())
        sync.ping()
        asynchronous = loop.run(connect_cluster_async(cluster.url()))
        loop.run(asynchronous.ping())
    finally:
        cluster.stop()
    yield {"r": sync, "ar": asynchronous, "loop": loop}
    sync.close()
    loop.run(asynchronous.aclose())
    loop.close()


def _sync(call: Callable[[Any], object]) -> Callable[[dict[str, Any]], object]:
    return lambda d: call(d["r"])


def _async(call: Callable[[Any], Any]) -> Callable[[dict[str, Any]], object]:
    return lambda d: d["loop"].run(call(d["ar"]))


def _no_credential(token: str) -> str | None:
    return None


# name -> (the call, the "unavailable" exception its snippet documents)
CALLS: dict[str, tuple[Callable[[dict[str, Any]], object], type[Exception]]] = {
    "RedisSessionStore.create": (
        _sync(lambda r: RedisSessionStore(r).create("alice")),
        SessionStoreUnavailable,
    ),
    "RedisSessionStore.validate": (
        _sync(lambda r: RedisSessionStore(r).validate(SID)),
        SessionStoreUnavailable,
    ),
    "RedisSessionStore.rotate": (
        _sync(lambda r: RedisSessionStore(r).rotate(SID)),
        SessionStoreUnavailable,
    ),
    "RedisSessionStore.destroy": (
        _sync(lambda r: RedisSessionStore(r).destroy(SID)),
        SessionStoreUnavailable,
    ),
    "RedisSessionStore.destroy_all": (
        _sync(lambda r: RedisSessionStore(r).destroy_all("alice")),
        SessionStoreUnavailable,
    ),
    "RedisSessionStore.list_sessions": (
        _sync(lambda r: RedisSessionStore(r).list_sessions("alice")),
        SessionStoreUnavailable,
    ),
    "RedisSessionStore.end_session": (
        _sync(lambda r: RedisSessionStore(r).end_session("alice", HANDLE)),
        SessionStoreUnavailable,
    ),
    "AsyncRedisSessionStore.create": (
        _async(lambda r: AsyncRedisSessionStore(r).create("alice")),
        SessionStoreUnavailable,
    ),
    "AsyncRedisSessionStore.validate": (
        _async(lambda r: AsyncRedisSessionStore(r).validate(SID)),
        SessionStoreUnavailable,
    ),
    "AsyncRedisSessionStore.rotate": (
        _async(lambda r: AsyncRedisSessionStore(r).rotate(SID)),
        SessionStoreUnavailable,
    ),
    "AsyncRedisSessionStore.list_sessions": (
        _async(lambda r: AsyncRedisSessionStore(r).list_sessions("alice")),
        SessionStoreUnavailable,
    ),
    "AsyncRedisSessionStore.end_session": (
        _async(lambda r: AsyncRedisSessionStore(r).end_session("alice", HANDLE)),
        SessionStoreUnavailable,
    ),
    "LoginThrottle.attempt": (
        _sync(lambda r: LoginThrottle(r).attempt("alice", "192.0.2.1")),
        ThrottleUnavailable,
    ),
    "LoginThrottle.succeeded": (
        _sync(lambda r: LoginThrottle(r).succeeded("alice")),
        ThrottleUnavailable,
    ),
    "check_rate": (
        _sync(lambda r: check_rate(r, "oidc", "192.0.2.1", limit=5, window_seconds=60)),
        ThrottleUnavailable,
    ),
    "revoke_access_token": (
        _sync(lambda r: revoke_access_token(r, _claims())),
        RevocationUnavailable,
    ),
    "ensure_not_revoked": (
        _sync(lambda r: ensure_not_revoked(r, _claims())),
        RevocationUnavailable,
    ),
    "raise_cutoff": (
        _sync(lambda r: raise_cutoff(r, issuer=ISS, subject="user-42")),
        RevocationUnavailable,
    ),
    "raise_cutoff_async": (
        _async(lambda r: raise_cutoff_async(r, issuer=ISS, subject="user-42")),
        RevocationUnavailable,
    ),
    "check_access_token": (
        _sync(lambda r: check_access_token(r, _claims())),
        RevocationUnavailable,
    ),
    "check_access_token_async": (
        _async(lambda r: check_access_token_async(r, _claims())),
        RevocationUnavailable,
    ),
    "logout_everywhere": (
        _sync(lambda r: logout_everywhere(r, issuer=ISS, subject="user-42")),
        RevocationUnavailable,
    ),
    "issue_refresh_token": (
        _sync(lambda r: issue_refresh_token(r, issuer=ISS, subject="user-42")),
        RevocationUnavailable,
    ),
    "rotate_refresh_token": (
        _sync(lambda r: rotate_refresh_token(r, REFRESH)),
        RevocationUnavailable,
    ),
    "rotate_refresh_token_async": (
        _async(lambda r: rotate_refresh_token_async(r, REFRESH)),
        RevocationUnavailable,
    ),
    "revoke_refresh_family": (
        _sync(lambda r: revoke_refresh_family(r, REFRESH)),
        RevocationUnavailable,
    ),
    "revoke_user_families": (
        _sync(lambda r: revoke_user_families(r, issuer=ISS, subject="user-42")),
        RevocationUnavailable,
    ),
    "issue_opaque_token": (
        _sync(lambda r: issue_opaque_token(r, "user-42")),
        TokenStoreUnavailable,
    ),
    "revoke_opaque_token": (
        _sync(lambda r: revoke_opaque_token(r, "o" * 43)),
        TokenStoreUnavailable,
    ),
    "session_is_live": (_sync(lambda r: session_is_live(r, HANDLE)), SessionStoreUnavailable),
    "begin_login": (
        _sync(lambda r: begin_login(r, redirect_uri="http://127.0.0.1/callback")),
        SessionStoreUnavailable,
    ),
    "DualAcceptMigration.old_usage": (
        _sync(
            lambda r: DualAcceptMigration(
                r, name="m", accept_new=_no_credential, accept_old=_no_credential
            ).old_usage()
        ),
        MigrationStateUnavailable,
    ),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_an_unreachable_cluster_fails_closed_with_the_documented_error(
    dead: dict[str, Any], name: str
) -> None:
    call, unavailable = CALLS[name]
    with pytest.raises(unavailable):
        call(dead)
