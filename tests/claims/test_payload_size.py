"""Payload size: a JWT carries its claims on every request; a session cookie carries a short
ID of fixed length while the data stays on the server."""

from __future__ import annotations

import redis

from benchmarks.measure import TYPICAL_EXTRA_CLAIMS
from snippets.sessions.session_cookie import COOKIE_NAME, build_session_cookie
from snippets.sessions.session_store import RedisSessionStore
from tests.claims.conftest import T0, Keys
from tests.helpers import ManualClock


def _authorization(token: str) -> bytes:
    return f"Authorization: Bearer {token}\r\n".encode()


def _cookie(session_id: str) -> bytes:
    return f"Cookie: {COOKIE_NAME}={session_id}\r\n".encode()


def test_the_token_grows_with_every_claim_it_carries(all_keys: dict[str, Keys]) -> None:
    for keys in all_keys.values():
        minimal = keys.issue("user-42")
        typical = keys.issue("user-42", **TYPICAL_EXTRA_CLAIMS)
        one_more = keys.issue("user-42", **TYPICAL_EXTRA_CLAIMS, department="research")
        assert len(minimal) < len(typical) < len(one_more), keys.algorithm
        # The claims themselves ride along, on every request that carries the token.
        assert keys.verify(typical)["email"] == TYPICAL_EXTRA_CLAIMS["email"]


def test_the_session_cookie_stays_small_whatever_the_session_holds(
    redis_client: redis.Redis, key_prefix: str, all_keys: dict[str, Keys]
) -> None:
    store = RedisSessionStore(redis_client, prefix=key_prefix, now=ManualClock(T0))
    empty = store.create("user-42")
    full = store.create("user-42", {**TYPICAL_EXTRA_CLAIMS, "cart": ["sku-1"] * 500})
    assert len(empty) == len(full)
    assert len(build_session_cookie(empty)) == len(build_session_cookie(full))
    assert store.validate(full).data["cart"] == ["sku-1"] * 500  # the data stayed server-side
    # Even the smallest token's header outweighs the cookie's, for every algorithm.
    for keys in all_keys.values():
        assert len(_authorization(keys.issue("user-42"))) > len(_cookie(full)), keys.algorithm
