from __future__ import annotations

import contextlib

import pytest
import redis

from snippets.revocation.logout_everywhere import logout_everywhere
from snippets.revocation.revoke_access_token import (
    MAX_ACCESS_TOKEN_LIFETIME,
    RevocationUnavailable,
    TokenRefused,
    blocklist_key,
    cutoff_key,
    revoke_access_token,
)
from snippets.revocation.rotate_refresh_token import issue_refresh_token, rotate_refresh_token
from tests.snippets.revocation.conftest import T0
from tools.round_trips import RoundTripCounter

pytestmark = pytest.mark.also_on_cluster


ISS = "https://auth.example.com"


def _reason(check, claims: dict, prefix: str, client=None) -> str | None:  # type: ignore[no-untyped-def]
    """What the check (sync or async, see the ``check`` fixture) says of ``claims``."""
    try:
        check(claims, prefix=prefix, client=client)
    except TokenRefused as exc:
        return exc.reason
    return None


def test_cutoff_refuses_older_tokens_only(
    redis_client: redis.Redis, key_prefix: str, make_claims, clock, check
) -> None:
    clock.now = T0 + 0.7  # logout at 0.7 s into second T0
    logout_everywhere(redis_client, issuer=ISS, subject="user-42", prefix=key_prefix, now=clock)
    assert _reason(check, make_claims(iat=T0 - 600), key_prefix) == "logged_out"
    assert _reason(check, make_claims(iat=T0 - 1), key_prefix) == "logged_out"
    # Same second as the cut-off: iat cannot say before or after, so it is refused (chosen).
    assert _reason(check, make_claims(iat=T0), key_prefix) == "logged_out"
    # The cut-off is rounded up to the next second, so a fractional iat before the logout is
    # refused; a token of that next second is refused too (chosen: at most one more login).
    assert _reason(check, make_claims(iat=T0 + 0.5), key_prefix) == "logged_out"
    assert _reason(check, make_claims(iat=T0 + 1), key_prefix) == "logged_out"
    assert _reason(check, make_claims(iat=T0 + 2), key_prefix) is None
    # Other users, and the same subject at another issuer, are untouched.
    assert _reason(check, make_claims(iat=T0 - 600, sub="user-7"), key_prefix) is None
    other_issuer = make_claims(iat=T0 - 600, iss="https://other.example.com")
    assert _reason(check, other_issuer, key_prefix) is None


def test_cutoff_lasts_as_long_as_the_longest_token_and_never_moves_back(
    redis_client: redis.Redis, key_prefix: str, make_claims, clock, check
) -> None:
    logout_everywhere(redis_client, issuer=ISS, subject="user-42", prefix=key_prefix, now=clock)
    key = cutoff_key(make_claims(), prefix=key_prefix)
    assert redis_client.ttl(key) == MAX_ACCESS_TOKEN_LIFETIME + 10 + 1
    clock.now = T0 - 30  # a server whose clock is behind
    logout_everywhere(redis_client, issuer=ISS, subject="user-42", prefix=key_prefix, now=clock)
    assert int(redis_client.get(key)) == T0  # T0 rounded up is T0
    assert _reason(check, make_claims(iat=T0), key_prefix) == "logged_out"


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


@pytest.mark.counts_round_trips
def test_blocklist_and_cutoff_are_checked_in_one_round_trip(
    redis_client: redis.Redis, redis_clients, check, key_prefix: str, make_claims, clock
) -> None:
    round_trips = RoundTripCounter()
    counted = redis_clients(counter=round_trips)
    client = redis_client
    revoked, fresh = make_claims(iat=T0 + 5), make_claims(iat=T0 + 5)
    logout_everywhere(client, issuer=ISS, subject="user-42", prefix=key_prefix, now=clock)
    clock.now = T0 + 5
    revoke_access_token(client, revoked, prefix=key_prefix, now=clock)
    round_trips.count = 0
    assert _reason(check, revoked, key_prefix, counted) == "revoked"
    assert round_trips.count == 1
    assert _reason(check, fresh, key_prefix, counted) is None
    assert _reason(check, make_claims(iat=T0 - 1), key_prefix, counted) == "logged_out"
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
@pytest.mark.counts_round_trips
def test_malformed_claims_never_reach_redis(
    redis_clients, check, key_prefix: str, make_claims, override: dict
) -> None:
    round_trips = RoundTripCounter()
    counted = redis_clients(counter=round_trips)
    assert _reason(check, make_claims(**override), key_prefix, counted) == "malformed"
    assert round_trips.count == 0


def test_outage_fails_closed_and_service_returns(
    outage_client: redis.Redis, api_outage_client, check, private_redis, make_claims, clock
) -> None:
    old, new = make_claims(iat=T0 - 60), make_claims(iat=T0 + 60)
    logout_everywhere(outage_client, issuer=ISS, subject="user-42", now=clock)
    outage_client.save()
    private_redis.stop()
    try:
        for claims in (old, new):
            with pytest.raises(RevocationUnavailable):
                check(claims, client=api_outage_client)
        with pytest.raises(RevocationUnavailable):
            logout_everywhere(outage_client, issuer=ISS, subject="user-42", now=clock)
    finally:
        private_redis.start()
    assert _reason(check, old, "", api_outage_client) == "logged_out"
    assert _reason(check, new, "", api_outage_client) is None


@pytest.mark.parametrize("stored", [b"not a number", b"1.5", "\u00e9".encode(), b""])
def test_a_corrupted_cutoff_is_a_store_error_never_another_exception(
    redis_client: redis.Redis, check, key_prefix: str, make_claims, stored: bytes
) -> None:
    claims = make_claims()
    redis_client.set(cutoff_key(claims, prefix=key_prefix), stored)
    with pytest.raises(RevocationUnavailable, match="malformed cut-off"):
        check(claims, prefix=key_prefix)


# -- nothing minted survives "log out everywhere" ------------------------------------------


@pytest.mark.parametrize("when", ["before revoking the families", "after revoking them"])
def test_a_refresh_racing_the_logout_mints_nothing_that_outlives_it(  # type: ignore[no-untyped-def]
    redis_client: redis.Redis, key_prefix: str, clock, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """A refresh lands while "log out everywhere" runs, a second later than the call began.
    Whatever it mints must be refused once the call has returned."""
    import secrets as _secrets

    from snippets.revocation import logout_everywhere as module
    from snippets.revocation.logout_with_short_expiry import authenticate, log_in, refresh

    key = _secrets.token_urlsafe(48).encode()
    clock.now = T0 + 0.9
    pair = log_in(redis_client, key, "user-42", prefix=key_prefix, now=clock)
    minted: list[str] = []
    real = module.revoke_user_families

    def racing_refresh() -> None:
        clock.advance(1.3)  # the refresh arrives in the next second
        with contextlib.suppress(TokenRefused):  # too late: the family is revoked already
            pair2 = refresh(redis_client, key, pair.refresh_token, prefix=key_prefix, now=clock)
            minted.append(pair2.access_token)

    def revoke_with_a_race(*args, **kwargs):  # type: ignore[no-untyped-def]
        if when == "before revoking the families":
            racing_refresh()
        result = real(*args, **kwargs)
        if when == "after revoking them":
            racing_refresh()
        return result

    monkeypatch.setattr(module, "revoke_user_families", revoke_with_a_race)
    module.logout_everywhere(
        redis_client, issuer=ISS, subject="user-42", prefix=key_prefix, now=clock
    )
    clock.advance(5)  # a while later, well inside the access token's 15 minutes
    for token in [pair.access_token, *minted]:
        with pytest.raises(TokenRefused, match="logged_out"):
            authenticate(redis_client, key, token, prefix=key_prefix, now=clock)
    assert len(minted) == (1 if when == "before revoking the families" else 0)


def test_threads_refreshing_through_the_logout_keep_nothing(  # type: ignore[no-untyped-def]
    redis_client: redis.Redis, key_prefix: str
) -> None:
    """Four devices refresh in a loop on real threads and the real clock while the user logs
    out everywhere: every access token any of them ever got is refused afterwards."""
    import secrets as _secrets
    import threading
    import time as _time

    from snippets.revocation.logout_with_short_expiry import authenticate, log_in, refresh

    key = _secrets.token_urlsafe(48).encode()
    pairs = [log_in(redis_client, key, "user-42", prefix=key_prefix) for _ in range(4)]
    minted: list[str] = [p.access_token for p in pairs]
    errors: list[BaseException] = []
    stop = threading.Event()
    lock = threading.Lock()

    def device(pair) -> None:  # type: ignore[no-untyped-def]
        try:
            while not stop.is_set():
                pair = refresh(redis_client, key, pair.refresh_token, prefix=key_prefix)
                with lock:
                    minted.append(pair.access_token)
        except TokenRefused:
            return  # logged out: the device stops
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=device, args=(p,)) for p in pairs]
    for t in threads:
        t.start()
    _time.sleep(0.3)
    logout_everywhere(redis_client, issuer=ISS, subject="user-42", prefix=key_prefix)
    for t in threads:
        t.join(10)
    stop.set()
    assert not errors, errors
    assert all(not t.is_alive() for t in threads)  # every device was refused a refresh
    assert len(minted) > 4
    for token in minted:
        with pytest.raises(TokenRefused, match="logged_out"):
            authenticate(redis_client, key, token, prefix=key_prefix)
