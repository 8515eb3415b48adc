"""Token exchange: a live session buys a scoped, short JWT; a dead one buys nothing."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
import redis

from snippets.converting.exchange_session_for_jwt import (
    ExchangeRefused,
    Signer,
    exchange_session_for_jwt,
    session_is_live,
    verify_exchanged_token,
)
from snippets.sessions.session_store import RedisSessionStore, SessionStoreUnavailable
from snippets.tokens.issue_access_token import issue_access_token
from snippets.tokens.verify_token import TokenError
from tests.helpers import ManualClock
from tests.snippets.converting.conftest import ISSUER, ORDERS, REPORTS

SERVICES = {ORDERS, REPORTS}


def mint(
    store: RedisSessionStore,
    session_id: str,
    signer: Signer,
    clock: ManualClock,
    audience: str = ORDERS,
    **kwargs: object,
) -> str:
    return exchange_session_for_jwt(
        store,
        session_id,
        audience=audience,
        allowed_audiences=SERVICES,
        signer=signer,
        now=clock(),
        **kwargs,
    )


def verify(token: str, signer: Signer, clock: ManualClock, audience: str = ORDERS) -> dict:
    return verify_exchanged_token(
        token,
        signer.key.public_key(),
        algorithm="EdDSA",
        audience=audience,
        issuer=ISSUER,
        now=clock(),
    )


def test_token_is_scoped_short_and_carries_the_handle_not_the_id(
    store: RedisSessionStore, signer: Signer, clock: ManualClock
) -> None:
    session_id = store.create("alice")
    token = mint(store, session_id, signer, clock)
    claims = verify(token, signer, clock)
    assert claims["aud"] == ORDERS and claims["sub"] == "alice"
    assert claims["exp"] - claims["iat"] == 300
    assert claims["sid"] == store.validate(session_id).handle
    assert session_id not in token and session_id not in str(claims)
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"


def test_audience_a_is_refused_by_service_b(
    store: RedisSessionStore, signer: Signer, clock: ManualClock
) -> None:
    token = mint(store, store.create("alice"), signer, clock, audience=ORDERS)
    with pytest.raises(TokenError, match="audience"):
        verify(token, signer, clock, audience=REPORTS)
    with pytest.raises(ExchangeRefused, match="audience"):
        mint(store, store.create("alice"), signer, clock, audience="https://evil.example")


@pytest.mark.parametrize("ending", ["destroy", "idle", "absolute", "forged"])
def test_a_dead_session_cannot_exchange(
    store: RedisSessionStore, signer: Signer, clock: ManualClock, ending: str
) -> None:
    session_id = store.create("alice")
    if ending == "destroy":
        store.destroy(session_id)
    elif ending == "idle":
        clock.advance(30 * 60)
    elif ending == "absolute":
        for _ in range(17):  # kept busy, but 8 hours after login it ends anyway
            clock.advance(29 * 60)
            store.validate(session_id)
    else:
        session_id = "A" * 43
    with pytest.raises(ExchangeRefused, match="no live session"):
        mint(store, session_id, signer, clock)


def test_token_never_outlives_the_session(
    store: RedisSessionStore, signer: Signer, clock: ManualClock
) -> None:
    session_id = store.create("alice")
    for _ in range(16):  # in use every 29 minutes...
        clock.advance(29 * 60)
        store.validate(session_id)
    clock.advance(14 * 60)  # ...until 2 minutes before the absolute deadline (8 hours)
    claims = verify(mint(store, session_id, signer, clock), signer, clock)
    assert claims["exp"] - claims["iat"] == 120


def test_sid_check_sees_logout_in_one_round_trip(
    counting_redis: tuple[redis.Redis, object], key_prefix: str, signer: Signer, clock: ManualClock
) -> None:
    client, counter = counting_redis
    store = RedisSessionStore(client, prefix=key_prefix, now=clock)
    session_id = store.create("alice")
    claims = verify(mint(store, session_id, signer, clock), signer, clock)
    counter.count = 0
    assert session_is_live(client, claims["sid"], prefix=key_prefix, now=clock())
    assert counter.count == 1
    store.destroy(session_id)
    assert not session_is_live(client, claims["sid"], prefix=key_prefix, now=clock())
    clock.advance(60)
    assert verify(mint(store, store.create("bob"), signer, clock), signer, clock)["sub"] == "bob"
    counter.count = 0
    assert not session_is_live(client, "not-a-handle", prefix=key_prefix)
    assert counter.count == 0  # malformed input never reaches Redis


def test_sid_check_uses_the_deadline_not_only_the_key(
    store: RedisSessionStore, redis_client: redis.Redis, key_prefix: str, clock: ManualClock
) -> None:
    handle = store.validate(store.create("alice")).handle
    assert session_is_live(redis_client, handle, prefix=key_prefix, now=clock())
    # The key lives on until Redis expires it, but the idle deadline has passed.
    assert not session_is_live(redis_client, handle, prefix=key_prefix, now=clock() + 1801)


def test_tokens_without_sid_or_of_the_wrong_type_are_refused(
    signer: Signer, clock: ManualClock
) -> None:
    plain = issue_access_token(
        "alice",
        signer.key,
        algorithm="EdDSA",
        kid="k",
        issuer=ISSUER,
        audience=ORDERS,
        lifetime=timedelta(minutes=5),
        now=clock(),
    )
    with pytest.raises(TokenError, match="sid"):
        verify(plain, signer, clock)
    id_like = issue_access_token(
        "alice",
        signer.key,
        algorithm="EdDSA",
        kid="k",
        issuer=ISSUER,
        audience=ORDERS,
        now=clock(),
        typ="JWT",
        extra_claims={"sid": "a" * 64},
    )
    with pytest.raises(TokenError, match="type"):
        verify(id_like, signer, clock)
    long_lived = issue_access_token(
        "alice",
        signer.key,
        algorithm="EdDSA",
        kid="k",
        issuer=ISSUER,
        audience=ORDERS,
        now=clock(),
        extra_claims={"sid": "a" * 64},
    )  # 15 minutes
    with pytest.raises(TokenError, match="lifetime"):
        verify(long_lived, signer, clock)


def test_redis_down_means_no_token_and_no_live_session(
    private_redis: object, signer: Signer, clock: ManualClock
) -> None:
    from snippets.sessions.session_store import connect

    client = connect(f"redis://{private_redis.host}:{private_redis.port}/0")
    store = RedisSessionStore(client, now=clock)
    session_id = store.create("alice")
    handle = store.validate(session_id).handle
    private_redis.stop()
    with pytest.raises(SessionStoreUnavailable):
        mint(store, session_id, signer, clock)
    with pytest.raises(SessionStoreUnavailable):
        session_is_live(client, handle, now=clock())
    client.close()


def test_a_string_of_allowed_audiences_is_refused_not_searched(store, signer) -> None:  # type: ignore[no-untyped-def]
    """With a plain string, ``"api" in "urn:demo:api"`` is True: a substring test."""
    session_id = store.create("alice")
    with pytest.raises(TypeError, match="not a string"):
        exchange_session_for_jwt(
            store, session_id, audience="api", allowed_audiences="urn:demo:api", signer=signer
        )
    for audience in (None, 42, ["urn:demo:api"]):
        with pytest.raises(ExchangeRefused, match="audience not allowed"):
            exchange_session_for_jwt(
                store,
                session_id,
                audience=audience,  # type: ignore[arg-type]
                allowed_audiences={"urn:demo:api"},
                signer=signer,
            )
