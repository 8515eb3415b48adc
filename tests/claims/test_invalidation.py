"""Invalidation: a JWT stays valid until ``exp`` unless a blocklist is consulted; a deleted
session is refused by the very next request."""

from __future__ import annotations

import pytest
import redis

from snippets.revocation.revoke_access_token import (
    TokenRefused,
    ensure_not_revoked,
    revoke_access_token,
)
from snippets.sessions.session_store import RedisSessionStore
from snippets.tokens.verify_token import DEFAULT_LEEWAY, TokenError
from tests.claims.conftest import T0, Keys
from tests.helpers import ManualClock


def test_a_logged_out_jwt_still_verifies_until_it_expires(
    keys: Keys, redis_client: redis.Redis, key_prefix: str
) -> None:
    token = keys.issue("user-42", now=T0)  # 15-minute lifetime
    claims = keys.verify(token, now=T0 + 60)
    revoke_access_token(redis_client, claims, prefix=key_prefix, now=lambda: T0 + 60)  # logout

    # The signature check alone cannot know: ten minutes later the token still verifies...
    assert keys.verify(token, now=T0 + 660)["sub"] == "user-42"
    # ...and only the blocklist, consulted on every request, refuses it.
    with pytest.raises(TokenRefused, match="revoked"):
        ensure_not_revoked(redis_client, keys.verify(token, now=T0 + 660), prefix=key_prefix)
    # At exp (plus the verifier's allowance for clock skew) it ends by itself.
    with pytest.raises(TokenError, match="expired"):
        keys.verify(token, now=T0 + 900 + DEFAULT_LEEWAY.total_seconds())


def test_a_destroyed_session_is_refused_at_once(
    redis_client: redis.Redis, key_prefix: str, clock: ManualClock
) -> None:
    store = RedisSessionStore(redis_client, prefix=key_prefix, now=clock)
    session_id = store.create("user-42", {"role": "reader"})
    clock.now += 60
    assert store.validate(session_id) is not None
    assert store.destroy(session_id) is True  # logout
    assert store.validate(session_id) is None  # the next request, same second
