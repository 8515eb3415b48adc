from __future__ import annotations

import math
import time

import jwt
import pytest
import redis

from snippets.revocation.revoke_access_token import (
    MAX_CLAIM_CHARS,
    RevocationUnavailable,
    TokenRefused,
    blocklist_key,
    ensure_not_revoked,
    revoke_access_token,
)
from tests.snippets.revocation.conftest import T0

pytestmark = pytest.mark.also_on_cluster


def test_revoked_token_is_refused_for_exactly_its_remaining_life(
    redis_client: redis.Redis, key_prefix: str, make_claims, clock
) -> None:
    claims = make_claims(exp=T0 + 900)
    ensure_not_revoked(redis_client, claims, prefix=key_prefix)  # accepted before
    clock.now = T0 + 300
    assert revoke_access_token(redis_client, claims, prefix=key_prefix, now=clock) is True
    with pytest.raises(TokenRefused) as refused:
        ensure_not_revoked(redis_client, claims, prefix=key_prefix)
    assert refused.value.reason == "revoked"
    # exp - now, plus the verifier's 10 s of leeway: until the token can no longer verify
    assert redis_client.ttl(blocklist_key(claims, prefix=key_prefix)) == 610


def test_entry_outlives_exp_by_the_verifiers_leeway(
    redis_client: redis.Redis, key_prefix: str, make_claims, clock
) -> None:
    claims = make_claims(exp=T0 + 900)
    clock.now = T0 + 100.5  # a fractional clock rounds the TTL up, never down
    revoke_access_token(redis_client, claims, prefix=key_prefix, leeway=10, now=clock)
    assert redis_client.ttl(blocklist_key(claims, prefix=key_prefix)) == math.ceil(809.5)


def test_expired_token_writes_no_entry(
    redis_client: redis.Redis, key_prefix: str, make_claims, clock
) -> None:
    claims = make_claims(exp=T0 - 11)  # past exp and the verifier's leeway
    assert revoke_access_token(redis_client, claims, prefix=key_prefix, now=clock) is False
    assert list(redis_client.scan_iter(match=f"{key_prefix}*")) == []
    no_leeway = make_claims(exp=T0 - 1)
    assert (
        revoke_access_token(redis_client, no_leeway, prefix=key_prefix, leeway=0, now=clock)
        is False
    )


def test_a_token_the_verifier_still_accepts_is_revoked_by_default(
    redis_client: redis.Redis, key_prefix: str, make_claims, clock
) -> None:
    """verify_token accepts until exp + 10 s; the default leeway here used to be 0, so a
    token revoked in that window wrote no entry and verified again."""
    claims = make_claims(exp=T0 - 1)  # expired a second ago: verify_token still accepts it
    assert revoke_access_token(redis_client, claims, prefix=key_prefix, now=clock)
    assert redis_client.ttl(blocklist_key(claims, prefix=key_prefix)) == 9
    with pytest.raises(TokenRefused):
        ensure_not_revoked(redis_client, claims, prefix=key_prefix)


def test_only_the_revoked_token_is_refused(
    redis_client: redis.Redis, key_prefix: str, make_claims
) -> None:
    revoked = make_claims(jti="same-jti")
    revoke_access_token(redis_client, revoked, prefix=key_prefix, now=lambda: T0)
    ensure_not_revoked(redis_client, make_claims(), prefix=key_prefix)  # other jti
    ensure_not_revoked(  # the same jti from another issuer is another token
        redis_client,
        make_claims(jti="same-jti", iss="https://other.example.com"),
        prefix=key_prefix,
    )


def test_keys_are_bounded_and_reveal_no_claim(key_prefix: str, make_claims) -> None:
    small = blocklist_key(make_claims(jti="a"), prefix=key_prefix)
    big = blocklist_key(make_claims(jti="j" * MAX_CLAIM_CHARS), prefix=key_prefix)
    assert len(small) == len(big) < len(key_prefix) + 120
    assert "user-42" not in big and "jjjj" not in big and "example" not in big
    # NUL cannot make two different (iss, jti) pairs share a key.
    one = blocklist_key(make_claims(iss="a\0b", jti="c"), prefix=key_prefix)
    two = blocklist_key(make_claims(iss="a", jti="b\0c"), prefix=key_prefix)
    assert one != two


@pytest.mark.parametrize(
    "override",
    [
        {"jti": None},
        {"jti": ""},
        {"jti": 7},
        {"iss": None},
        {"sub": None},
        {"jti": "j" * (MAX_CLAIM_CHARS + 1)},
        {"exp": None},
        {"exp": "1700000900"},
        {"exp": True},
        {"exp": float("nan")},
        {"exp": float("inf")},
    ],
    ids=str,
)
def test_malformed_claims_are_refused_without_touching_redis(
    counting_redis, key_prefix: str, make_claims, override: dict
) -> None:
    client, round_trips = counting_redis
    claims = make_claims(**override)
    with pytest.raises(TokenRefused) as refused:
        revoke_access_token(client, claims, prefix=key_prefix, now=lambda: T0)
    assert refused.value.reason == "malformed"
    if "exp" not in override:
        with pytest.raises(TokenRefused):
            ensure_not_revoked(client, claims, prefix=key_prefix)
    assert round_trips.count == 0


def test_check_is_one_round_trip(counting_redis, key_prefix: str, make_claims) -> None:
    client, round_trips = counting_redis
    claims = make_claims()
    ensure_not_revoked(client, claims, prefix=key_prefix)
    assert round_trips.count == 1
    revoke_access_token(client, claims, prefix=key_prefix, now=lambda: T0)
    round_trips.count = 0
    with pytest.raises(TokenRefused):
        ensure_not_revoked(client, claims, prefix=key_prefix)
    assert round_trips.count == 1


def test_outage_fails_closed_and_service_returns(
    outage_client: redis.Redis, private_redis, make_claims
) -> None:
    revoked, fine = make_claims(), make_claims()
    revoke_access_token(outage_client, revoked, now=lambda: T0)
    outage_client.save()  # production runs with AOF or replicas; a restart must not forget
    private_redis.stop()
    try:
        for claims in (revoked, fine, revoked):
            started = time.monotonic()
            with pytest.raises(RevocationUnavailable):
                ensure_not_revoked(outage_client, claims)
            assert time.monotonic() - started < 2  # fails fast, does not hang
        with pytest.raises(RevocationUnavailable):
            revoke_access_token(outage_client, fine, now=lambda: T0)
    finally:
        private_redis.start()
    ensure_not_revoked(outage_client, fine)  # service is back
    with pytest.raises(TokenRefused):
        ensure_not_revoked(outage_client, revoked)


def test_refusal_is_a_jwt_error_and_an_outage_is_not() -> None:
    # Code that answers 401 on jwt.InvalidTokenError refuses revoked tokens too, and an outage
    # (503) is never mistaken for a bad token.
    assert issubclass(TokenRefused, jwt.InvalidTokenError)
    assert not issubclass(RevocationUnavailable, jwt.InvalidTokenError)
