from __future__ import annotations

import pytest
import redis

from snippets.revocation.logout_everywhere import (
    MAX_ACCESS_TOKEN_LIFETIME,
    check_access_token,
    cutoff_key,
    logout_everywhere,
)
from snippets.revocation.revoke_access_token import (
    RevocationUnavailable,
    TokenRefused,
    blocklist_key,
    revoke_access_token,
)
from snippets.revocation.rotate_refresh_token import issue_refresh_token, rotate_refresh_token
from tests.snippets.revocation.conftest import T0

pytestmark = pytest.mark.also_on_cluster


ISS = "https://auth.example.com"


def _reason(r: redis.Redis, claims: dict, prefix: str) -> str | None:
    try:
        check_access_token(r, claims, prefix=prefix)
    except TokenRefused as exc:
        return exc.reason
    return None


def test_cutoff_refuses_older_tokens_only(
    redis_client: redis.Redis, key_prefix: str, make_claims, clock
) -> None:
    clock.now = T0 + 0.7  # logout at 0.7 s into second T0
    logout_everywhere(redis_client, issuer=ISS, subject="user-42", prefix=key_prefix, now=clock)
    assert _reason(redis_client, make_claims(iat=T0 - 600), key_prefix) == "logged_out"
    assert _reason(redis_client, make_claims(iat=T0 - 1), key_prefix) == "logged_out"
    # Same second as the cut-off: iat cannot say before or after, so it is refused (chosen).
    assert _reason(redis_client, make_claims(iat=T0), key_prefix) == "logged_out"
    assert _reason(redis_client, make_claims(iat=T0 + 1), key_prefix) is None
    # Other users, and the same subject at another issuer, are untouched.
    assert _reason(redis_client, make_claims(iat=T0 - 600, sub="user-7"), key_prefix) is None
    other_issuer = make_claims(iat=T0 - 600, iss="https://other.example.com")
    assert _reason(redis_client, other_issuer, key_prefix) is None


def test_cutoff_lasts_as_long_as_the_longest_token_and_never_moves_back(
    redis_client: redis.Redis, key_prefix: str, make_claims, clock
) -> None:
    logout_everywhere(
        redis_client, issuer=ISS, subject="user-42", prefix=key_prefix, leeway=10, now=clock
    )
    key = cutoff_key(make_claims(), prefix=key_prefix)
    assert redis_client.ttl(key) == MAX_ACCESS_TOKEN_LIFETIME + 10 + 1
    clock.now = T0 - 30  # a server whose clock is behind
    logout_everywhere(redis_client, issuer=ISS, subject="user-42", prefix=key_prefix, now=clock)
    assert int(redis_client.get(key)) == T0
    assert _reason(redis_client, make_claims(iat=T0), key_prefix) == "logged_out"


def test_logout_everywhere_revokes_every_refresh_family_of_the_user(
    redis_client: redis.Redis, key_prefix: str, clock
) -> None:
    def login(subject: str) -> str:
        return issue_refresh_token(
            redis_client, issuer=ISS, subject=subject, prefix=key_prefix, now=clock
        )

    laptop, phone, other = login("user-42"), login("user-42"), login("user-7")
    assert (
        logout_everywhere(redis_client, issuer=ISS, subject="user-42", prefix=key_prefix, now=clock)
        == 2
    )
    for token in (laptop, phone):
        with pytest.raises(TokenRefused) as refused:
            rotate_refresh_token(redis_client, token, prefix=key_prefix, now=clock)
        assert refused.value.reason == "family_revoked"
    rotate_refresh_token(redis_client, other, prefix=key_prefix, now=clock)


def test_blocklist_and_cutoff_are_checked_in_one_round_trip(
    counting_redis, key_prefix: str, make_claims, clock
) -> None:
    client, round_trips = counting_redis
    revoked, fresh = make_claims(iat=T0 + 5), make_claims(iat=T0 + 5)
    logout_everywhere(client, issuer=ISS, subject="user-42", prefix=key_prefix, now=clock)
    clock.now = T0 + 5
    revoke_access_token(client, revoked, prefix=key_prefix, now=clock)
    round_trips.count = 0
    assert _reason(client, revoked, key_prefix) == "revoked"
    assert round_trips.count == 1
    assert _reason(client, fresh, key_prefix) is None
    assert _reason(client, make_claims(iat=T0 - 1), key_prefix) == "logged_out"
    assert round_trips.count == 3
    # The two keys share a hash tag: one MGET works on Redis Cluster too.
    tags = {
        k.split("}")[0]
        for k in (blocklist_key(revoked, prefix=key_prefix), cutoff_key(revoked, prefix=key_prefix))
    }
    assert len(tags) == 1


@pytest.mark.parametrize(
    "override", [{"iat": None}, {"iat": "0"}, {"sub": ""}, {"jti": None}], ids=str
)
def test_malformed_claims_never_reach_redis(
    counting_redis, key_prefix: str, make_claims, override: dict
) -> None:
    client, round_trips = counting_redis
    assert _reason(client, make_claims(**override), key_prefix) == "malformed"
    assert round_trips.count == 0


def test_outage_fails_closed_and_service_returns(
    outage_client: redis.Redis, private_redis, make_claims, clock
) -> None:
    old, new = make_claims(iat=T0 - 60), make_claims(iat=T0 + 60)
    logout_everywhere(outage_client, issuer=ISS, subject="user-42", now=clock)
    outage_client.save()
    private_redis.stop()
    try:
        for claims in (old, new):
            with pytest.raises(RevocationUnavailable):
                check_access_token(outage_client, claims)
        with pytest.raises(RevocationUnavailable):
            logout_everywhere(outage_client, issuer=ISS, subject="user-42", now=clock)
    finally:
        private_redis.start()
    assert _reason(outage_client, old, "") == "logged_out"
    assert _reason(outage_client, new, "") is None
