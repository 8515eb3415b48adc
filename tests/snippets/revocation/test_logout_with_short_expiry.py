from __future__ import annotations

import secrets

import jwt
import pytest
import redis

from snippets.revocation.logout_with_short_expiry import (
    ACCESS_LIFETIME,
    authenticate,
    log_in,
    log_out,
    refresh,
)
from snippets.revocation.revoke_access_token import (
    RevocationUnavailable,
    TokenRefused,
    blocklist_key,
)
from snippets.revocation.rotate_refresh_token import REFRESH_LIFETIME
from snippets.tokens.verify_token import DEFAULT_LEEWAY, TokenError
from tests.snippets.revocation.conftest import T0

pytestmark = pytest.mark.also_on_cluster


@pytest.fixture
def key() -> bytes:
    return secrets.token_urlsafe(48).encode()


def test_access_tokens_last_minutes_and_refresh_tokens_days(
    redis_client: redis.Redis, key_prefix: str, key: bytes, clock
) -> None:
    pair = log_in(redis_client, key, "user-42", prefix=key_prefix, now=clock)
    claims = authenticate(redis_client, key, pair.access_token, prefix=key_prefix, now=clock)
    assert claims["exp"] - claims["iat"] == pair.expires_in == 15 * 60
    assert ACCESS_LIFETIME.total_seconds() < 3600 and REFRESH_LIFETIME >= 24 * 3600
    clock.now += pair.expires_in + DEFAULT_LEEWAY.total_seconds()
    with pytest.raises(TokenError):  # expired: the client must refresh
        authenticate(redis_client, key, pair.access_token, prefix=key_prefix, now=clock)
    fresh = refresh(redis_client, key, pair.refresh_token, prefix=key_prefix, now=clock)
    assert (
        authenticate(redis_client, key, fresh.access_token, prefix=key_prefix, now=clock)["sub"]
        == "user-42"
    )


def test_logout_revokes_the_family_and_blocklists_the_access_token(
    redis_client: redis.Redis, key_prefix: str, key: bytes, clock
) -> None:
    pair = log_in(redis_client, key, "user-42", prefix=key_prefix, now=clock)
    clock.now += 60
    pair = refresh(redis_client, key, pair.refresh_token, prefix=key_prefix, now=clock)
    other = log_in(redis_client, key, "user-42", prefix=key_prefix, now=clock)  # other device
    clock.now += 100
    log_out(redis_client, key, pair.refresh_token, pair.access_token, prefix=key_prefix, now=clock)
    with pytest.raises(TokenRefused) as refused:
        authenticate(redis_client, key, pair.access_token, prefix=key_prefix, now=clock)
    assert refused.value.reason == "revoked"
    claims = jwt.decode(pair.access_token, options={"verify_signature": False})
    ttl = redis_client.ttl(blocklist_key(claims, prefix=key_prefix))
    assert ttl == 15 * 60 - 100 + DEFAULT_LEEWAY.total_seconds()  # remaining life + leeway
    with pytest.raises(TokenRefused) as refused:
        refresh(redis_client, key, pair.refresh_token, prefix=key_prefix, now=clock)
    assert refused.value.reason == "family_revoked"
    # The other device's session is a different family and stays logged in.
    authenticate(redis_client, key, other.access_token, prefix=key_prefix, now=clock)
    refresh(redis_client, key, other.refresh_token, prefix=key_prefix, now=clock)


def test_logout_with_an_expired_access_token_still_ends_the_session(
    redis_client: redis.Redis, key_prefix: str, key: bytes, clock
) -> None:
    pair = log_in(redis_client, key, "user-42", prefix=key_prefix, now=clock)
    clock.now += 3600
    log_out(redis_client, key, pair.refresh_token, pair.access_token, prefix=key_prefix, now=clock)
    claims = jwt.decode(pair.access_token, options={"verify_signature": False})
    assert not redis_client.exists(blocklist_key(claims, prefix=key_prefix))  # nothing needed
    with pytest.raises(TokenRefused):
        refresh(redis_client, key, pair.refresh_token, prefix=key_prefix, now=clock)


def test_a_stolen_refresh_token_used_after_the_victim_logs_everyone_out(
    redis_client: redis.Redis, key_prefix: str, key: bytes, clock
) -> None:
    stolen = log_in(redis_client, key, "user-42", prefix=key_prefix, now=clock).refresh_token
    victim = refresh(redis_client, key, stolen, prefix=key_prefix, now=clock)
    clock.now += 60  # the thief comes later than a second tab of the victim would
    with pytest.raises(TokenRefused) as refused:
        refresh(redis_client, key, stolen, prefix=key_prefix, now=clock)
    assert refused.value.reason == "reused"
    with pytest.raises(TokenRefused):
        refresh(redis_client, key, victim.refresh_token, prefix=key_prefix, now=clock)


def test_tampered_access_token_is_refused(
    redis_client: redis.Redis, key_prefix: str, key: bytes, clock
) -> None:
    pair = log_in(redis_client, key, "user-42", prefix=key_prefix, now=clock)
    with pytest.raises(TokenError):
        authenticate(redis_client, key, pair.access_token[:-2] + "AA", prefix=key_prefix, now=clock)


def test_outage_refuses_valid_tokens_and_service_returns(
    outage_client: redis.Redis, private_redis, key: bytes
) -> None:
    pair = log_in(outage_client, key, "user-42", now=lambda: T0)
    private_redis.stop()
    try:
        with pytest.raises(RevocationUnavailable):
            authenticate(outage_client, key, pair.access_token, now=lambda: T0)
        with pytest.raises(RevocationUnavailable):
            log_out(outage_client, key, pair.refresh_token, pair.access_token, now=lambda: T0)
    finally:
        private_redis.start()
    assert authenticate(outage_client, key, pair.access_token, now=lambda: T0)["sub"] == "user-42"
