"""Revocation: revoking JWTs takes distributed state and a check on every request; ending
sessions is deleting their records."""

from __future__ import annotations

import pytest
import redis

from snippets.revocation.logout_everywhere import check_access_token, logout_everywhere
from snippets.revocation.revoke_access_token import TokenRefused
from snippets.sessions.session_store import RedisSessionStore
from tests.claims.conftest import ISSUER, T0, Keys
from tests.helpers import ManualClock


def test_logging_a_jwt_user_out_everywhere_needs_a_check_on_every_request(
    keys: Keys, counting_redis: tuple[redis.Redis, object], key_prefix: str
) -> None:
    client, counter = counting_redis
    laptop, phone = keys.issue("user-42", now=T0), keys.issue("user-42", now=T0 + 30)
    logout_everywhere(
        client, issuer=ISSUER, subject="user-42", prefix=key_prefix, now=lambda: T0 + 60
    )
    for token in (laptop, phone):
        claims = keys.verify(token, now=T0 + 61)  # the signature alone still says yes
        counter.count = 0
        with pytest.raises(TokenRefused, match="logged_out"):
            check_access_token(client, claims, prefix=key_prefix)
        assert counter.count == 1  # the price: one Redis round trip per request
    fresh = keys.verify(keys.issue("user-42", now=T0 + 120), now=T0 + 121)
    check_access_token(client, fresh, prefix=key_prefix)  # logging in again works


def test_ending_every_session_of_a_user_is_deleting_their_records(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = RedisSessionStore(redis_client, prefix=key_prefix, now=ManualClock(T0))
    laptop, phone = store.create("alice"), store.create("alice")
    bob = store.create("bob")
    assert store.destroy_all("alice") == 2
    assert store.validate(laptop) is None and store.validate(phone) is None
    assert store.validate(bob).user_id == "bob"  # nobody else is touched
