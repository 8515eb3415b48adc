from __future__ import annotations

import hashlib
import threading
import time

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.revocation.revoke_access_token import RevocationUnavailable, TokenRefused, user_tag
from snippets.revocation.rotate_refresh_token import (
    FAMILY_LIFETIME,
    REFRESH_LIFETIME,
    _family_key,
    issue_refresh_token,
    revoke_refresh_family,
    revoke_user_families,
    rotate_refresh_token,
    rotate_refresh_token_async,
)
from tests.async_bridge import run_alone

pytestmark = pytest.mark.also_on_cluster


ISS = "https://auth.example.com"


def _reason(rotate, token: str, prefix: str, clock, client=None) -> str:  # type: ignore[no-untyped-def]
    """Why the rotation (sync or async, see the ``rotate`` fixture) refuses ``token``."""
    with pytest.raises(TokenRefused) as refused:
        rotate(token, prefix=prefix, now=clock, client=client)
    return refused.value.reason


@pytest.fixture
def login(redis_client: redis.Redis, key_prefix: str, clock):
    def make(subject: str = "user-42") -> str:
        return issue_refresh_token(
            redis_client, issuer=ISS, subject=subject, prefix=key_prefix, now=clock
        )

    return make


def test_token_is_opaque_random_and_stored_only_as_a_hash(
    redis_client: redis.Redis, key_prefix: str, login
) -> None:
    tokens = [login() for _ in range(20)]
    assert len(set(tokens)) == 20
    family_id, secret = tokens[0].split(".")
    assert len(family_id) == 22 and len(secret) == 43  # 128 and 256 bits of randomness
    stored = b""
    for key in redis_client.scan_iter(match=f"{{{key_prefix}*"):
        stored += key
    for key in redis_client.scan_iter(match=f"{key_prefix}*"):
        stored += key + repr(redis_client.dump(key)).encode()
    for token in tokens:
        secret = token.split(".")[1]
        assert secret.encode() not in stored
        assert hashlib.sha256(secret.encode()).hexdigest().encode() in stored


def test_each_use_returns_a_new_token_and_retires_the_old(
    rotate, redis_client: redis.Redis, key_prefix: str, login, clock
) -> None:
    first = login()
    second = rotate(first, prefix=key_prefix, now=clock)
    assert (second.issuer, second.subject) == (ISS, "user-42")
    assert second.refresh_token.split(".")[0] == first.split(".")[0]  # same family
    third = rotate(second.refresh_token, prefix=key_prefix, now=clock)
    assert len({first, second.refresh_token, third.refresh_token}) == 3


def test_reuse_revokes_the_whole_family_including_later_descendants(
    rotate, redis_client: redis.Redis, key_prefix: str, login, clock
) -> None:
    chain = [login()]
    for _ in range(3):  # t0 -> t1 -> t2 -> t3, all issued after t1 was retired but t3
        clock.now += 60
        chain.append(rotate(chain[-1], prefix=key_prefix, now=clock).refresh_token)
    other_user = login("user-7")
    assert _reason(rotate, chain[1], key_prefix, clock) == "reused"
    for token in (chain[3], chain[2], chain[0], chain[1]):
        assert _reason(rotate, token, key_prefix, clock) == "family_revoked"
    rotate(other_user, prefix=key_prefix, now=clock)  # unaffected


def test_unknown_tokens_are_refused_and_revoke_nothing(
    rotate, redis_client: redis.Redis, key_prefix: str, login, clock
) -> None:
    real = login()
    family_id = real.split(".")[0]
    forged = f"{family_id}.{'A' * 43}"  # a real family, a guessed secret
    assert _reason(rotate, forged, key_prefix, clock) == "unknown"
    assert _reason(rotate, f"{'B' * 22}.{'A' * 43}", key_prefix, clock) == "unknown"
    assert revoke_refresh_family(redis_client, forged, prefix=key_prefix) is False
    rotate(real, prefix=key_prefix, now=clock)  # still live


@pytest.mark.parametrize(
    "bad",
    [
        "",
        None,
        42,
        b"x" * 66,
        "a" * 66,
        "a" * 22 + "." + "b" * 42,
        "a" * 22 + "." + "b" * 44,
        "a" * 22 + "." + "b" * 42 + "=",
        "a" * 21 + ".." + "b" * 43,
        "a" * 22 + "." + "b" * 42 + "é",
        "*" * 22 + "." + "b" * 43,
        "a" * 22 + "." + "b" * 43 + "\n",
        "x" * 100_000,
    ],
    ids=lambda v: repr(v)[:20],
)
@pytest.mark.counts_round_trips
def test_malformed_tokens_never_reach_redis(
    counting_redis, redis_clients, rotate, key_prefix: str, bad
) -> None:
    client, round_trips = counting_redis
    counted = redis_clients(counter=round_trips)
    with pytest.raises(TokenRefused) as refused:
        rotate(bad, prefix=key_prefix, client=counted)
    assert refused.value.reason == "malformed"
    with pytest.raises(TokenRefused):
        revoke_refresh_family(client, bad, prefix=key_prefix)
    assert round_trips.count == 0


@pytest.mark.counts_round_trips
def test_rotation_is_one_round_trip(
    counting_redis, redis_clients, rotate, key_prefix: str, clock, redis_topology: str
) -> None:
    client, round_trips = counting_redis
    counted = redis_clients(counter=round_trips)
    token = issue_refresh_token(client, issuer=ISS, subject="u", prefix=key_prefix, now=clock)
    # Login is one pipeline: the family's keys and the user's index of families. On a cluster
    # those live in two hash slots, so the pipeline becomes one request to each node serving them.
    expected = 1
    if redis_topology == "cluster":
        family_key = _family_key(key_prefix, token.split(".")[0])
        index_key = user_tag({"iss": ISS, "sub": "u"}, prefix=key_prefix) + "families"
        expected = len({client.get_node_from_key(k).name for k in (family_key, index_key)})
    assert round_trips.count == expected
    token = rotate(token, prefix=key_prefix, now=clock, client=counted).refresh_token
    round_trips.count = 0  # the first call may load the script (NOSCRIPT, then EVAL)
    token = rotate(token, prefix=key_prefix, now=clock, client=counted).refresh_token
    assert round_trips.count == 1
    with pytest.raises(TokenRefused):
        rotate(f"{token.split('.')[0]}.{'A' * 43}", prefix=key_prefix, client=counted)
    assert round_trips.count == 2


def test_unused_token_and_family_expire_by_the_clock(
    rotate, redis_client: redis.Redis, key_prefix: str, login, clock
) -> None:
    idle = login()
    clock.now += REFRESH_LIFETIME
    assert _reason(rotate, idle, key_prefix, clock) == "expired"
    active = login()
    for _ in range(FAMILY_LIFETIME // REFRESH_LIFETIME):  # used often, but the family ends
        clock.now += REFRESH_LIFETIME - 1
        active = rotate(active, prefix=key_prefix, now=clock).refresh_token
    clock.now += REFRESH_LIFETIME - 1
    assert _reason(rotate, active, key_prefix, clock) == "expired"


def test_every_key_expires_on_its_own(
    rotate, redis_client: redis.Redis, key_prefix: str, login, clock
) -> None:
    token = login()
    clock.now += 3600
    rotate(token, prefix=key_prefix, now=clock)
    everything = [*redis_client.scan_iter(match=f"{key_prefix}*")]
    (grace,) = [k for k in everything if k.endswith(b":grace")]
    assert 0 < redis_client.pttl(grace) <= 5000  # the successor, kept for the window only
    keys = [k for k in everything if k != grace]
    assert len(keys) == 4  # user index, family, retired token, new token
    ttls = sorted(redis_client.ttl(k) for k in keys)
    assert ttls[0] > 0 and ttls[-1] <= FAMILY_LIFETIME + 1
    assert ttls[0] >= FAMILY_LIFETIME - 3600 - 5  # the new token lives until the family ends
    # Once the family record has expired, no token of it is accepted.
    redis_client.delete(*[k for k in keys if k.endswith(b":family")])
    assert _reason(rotate, token, key_prefix, clock) == "unknown"


def test_concurrent_use_of_one_token_yields_exactly_one_success(
    rotate, redis_client: redis.Redis, key_prefix: str, login, clock
) -> None:
    """With no grace window (grace=0), a loser's concurrent use is reuse of a retired token
    (OAuth 2.0 Security BCP), so it revokes the family, and the winner's token too."""
    token = login()
    threads_count = 64
    barrier = threading.Barrier(threads_count)
    wins: list[str] = []
    reasons: list[str] = []
    errors: list[BaseException] = []

    def use() -> None:
        barrier.wait()
        try:
            wins.append(rotate(token, prefix=key_prefix, now=clock, grace=0).refresh_token)
        except TokenRefused as exc:
            reasons.append(exc.reason)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=use) for _ in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(wins) == 1
    assert sorted(reasons) == ["family_revoked"] * (threads_count - 2) + ["reused"]
    # The family is intact and revoked: two token records (the retired one, the winner's).
    family_id = token.split(".")[0]
    family = redis_client.hgetall(f"{key_prefix}{{rf:{family_id}}}:family")
    assert family[b"status"] == b"revoked" and family[b"reason"] == b"reuse"
    records = [*redis_client.scan_iter(match=f"{key_prefix}{{rf:{family_id}}}:token:*")]
    states = sorted(redis_client.hget(k, "state") for k in records)
    assert states == [b"active", b"used"]
    assert _reason(rotate, wins[0], key_prefix, clock) == "family_revoked"


def test_logout_revokes_the_family(
    rotate, redis_client: redis.Redis, key_prefix: str, login, clock
) -> None:
    first = login()
    second = rotate(first, prefix=key_prefix, now=clock)
    assert revoke_refresh_family(redis_client, second.refresh_token, prefix=key_prefix)
    assert _reason(rotate, second.refresh_token, key_prefix, clock) == "family_revoked"
    assert revoke_refresh_family(redis_client, second.refresh_token, prefix=key_prefix) is False


def test_all_families_of_one_user_can_be_revoked(
    rotate, redis_client: redis.Redis, key_prefix: str, login, clock
) -> None:
    laptop, phone, someone_else = login(), login(), login("user-7")
    assert revoke_user_families(redis_client, issuer=ISS, subject="user-42", prefix=key_prefix) == 2
    assert _reason(rotate, laptop, key_prefix, clock) == "family_revoked"
    assert _reason(rotate, phone, key_prefix, clock) == "family_revoked"
    rotate(someone_else, prefix=key_prefix, now=clock)


def test_outage_fails_closed_and_service_returns(
    outage_client: redis.Redis, api_outage_client, rotate, private_redis, clock
) -> None:
    token = issue_refresh_token(outage_client, issuer=ISS, subject="u", now=clock)
    token = rotate(token, now=clock, client=api_outage_client).refresh_token
    outage_client.save()
    private_redis.stop()
    try:
        with pytest.raises(RevocationUnavailable):
            rotate(token, now=clock, client=api_outage_client)
        with pytest.raises(RevocationUnavailable):
            issue_refresh_token(outage_client, issuer=ISS, subject="u", now=clock)
        with pytest.raises(RevocationUnavailable):
            revoke_refresh_family(outage_client, token)
    finally:
        private_redis.start()
    # The restarted server has lost its script cache; the client reloads the script.
    rotated = rotate(token, now=clock, client=api_outage_client)
    assert rotated.subject == "u"


_NOWHERE = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.1, retry=None)
_NOT_A_CLIENT = object()  # any use of it raises AttributeError, not TokenRefused


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.binary(max_size=80), st.integers(), st.none()))
def test_any_garbage_is_refused_as_malformed_before_any_network_use(bad: object) -> None:
    # A client pointing at a closed port: touching the network would raise
    # RevocationUnavailable instead of the TokenRefused asserted here.
    with pytest.raises(TokenRefused) as refused:
        rotate_refresh_token(_NOWHERE, bad)  # type: ignore[arg-type]
    assert refused.value.reason == "malformed"
    with pytest.raises(TokenRefused) as refused:
        run_alone(rotate_refresh_token_async(_NOT_A_CLIENT, bad))  # type: ignore[arg-type]
    assert refused.value.reason == "malformed"


def test_works_with_a_client_that_decodes_responses(
    rotate, redis_clients, redis_url: str, key_prefix: str
) -> None:
    """redis-py's own examples use decode_responses=True: rotation, reuse and logout work."""
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    decoding = redis_clients(url=redis_url, decode_responses=True)
    try:
        first = issue_refresh_token(r, issuer=ISS, subject="user-42", prefix=key_prefix)
        second = rotate(first, prefix=key_prefix, client=decoding)
        assert (second.issuer, second.subject) == (ISS, "user-42")
        later = lambda: time.time() + 10  # noqa: E731 - past the grace window
        assert _reason(rotate, first, key_prefix, later, decoding) == "reused"
        assert revoke_user_families(r, issuer=ISS, subject="user-42", prefix=key_prefix) == 0
        other = issue_refresh_token(r, issuer=ISS, subject="user-42", prefix=key_prefix)
        assert revoke_user_families(r, issuer=ISS, subject="user-42", prefix=key_prefix) == 1
        assert _reason(rotate, other, key_prefix, time.time, decoding) == "family_revoked"
    finally:
        r.close()


def test_reuse_also_cuts_off_the_access_tokens_the_family_minted(  # type: ignore[no-untyped-def]
    rotate, redis_client: redis.Redis, key_prefix: str, login, clock
) -> None:
    """The docstring promised that both parties are logged out; the thief's current access
    token used to stay valid until it expired."""
    import secrets as _secrets

    from snippets.revocation.logout_everywhere import check_access_token

    stolen = login()
    thief = rotate(stolen, prefix=key_prefix, now=clock)  # the thief refreshes first
    thief_access = {
        "iss": ISS,
        "sub": "user-42",
        "jti": _secrets.token_urlsafe(16),
        "iat": int(thief.issued_at),
        "exp": int(thief.issued_at) + 900,
    }
    check_access_token(redis_client, thief_access, prefix=key_prefix)  # valid so far
    clock.now += 30
    with pytest.raises(TokenRefused, match="reused"):
        rotate(stolen, prefix=key_prefix, now=clock)  # the victim comes back with it
    with pytest.raises(TokenRefused, match="logged_out"):
        check_access_token(redis_client, thief_access, prefix=key_prefix)
    with pytest.raises(TokenRefused, match="family_revoked"):
        rotate(thief.refresh_token, prefix=key_prefix, now=clock)


def test_two_tabs_refreshing_at_once_get_the_same_successor(  # type: ignore[no-untyped-def]
    rotate, redis_client: redis.Redis, key_prefix: str, login, clock
) -> None:
    """The most reported refresh-token complaint: two tabs refresh together and the user is
    logged out. Within the grace window the second use gets the first one's successor."""
    token = login()
    barrier = threading.Barrier(8)
    results: list[str] = []
    errors: list[BaseException] = []

    def tab() -> None:
        barrier.wait()
        try:
            results.append(rotate(token, prefix=key_prefix, now=clock).refresh_token)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=tab) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(results) == 8 and len(set(results)) == 1  # one successor
    clock.now += 1
    assert rotate(results[0], prefix=key_prefix, now=clock)  # nobody was logged out


def test_reuse_after_the_grace_window_still_revokes_the_family(  # type: ignore[no-untyped-def]
    rotate, redis_client: redis.Redis, key_prefix: str, login, clock
) -> None:
    token = login()
    successor = rotate(token, prefix=key_prefix, now=clock).refresh_token
    clock.now += 4
    assert rotate(token, prefix=key_prefix, now=clock).refresh_token == successor  # a twin
    clock.now += 2  # 6 s after the use: the 5 s window is over
    assert _reason(rotate, token, key_prefix, clock) == "reused"
    assert _reason(rotate, successor, key_prefix, clock) == "family_revoked"
