from __future__ import annotations

import pytest

from snippets.sessions.csrf_check import (
    CSRF_FIELD,
    csrf_token_valid,
    new_csrf_token,
    request_origin_allowed,
)
from snippets.sessions.session_store import RedisSessionStore

OWN = "https://app.example.com"


@pytest.mark.parametrize(
    ("method", "fetch_site", "origin", "allowed"),
    [
        ("GET", "cross-site", "https://evil.example", True),  # safe methods change nothing
        ("head", None, None, True),
        ("POST", "same-origin", OWN, True),
        ("POST", "same-origin", None, True),
        ("POST", "cross-site", OWN, False),  # fetch metadata wins over a spoofable Origin
        ("POST", "same-site", OWN, False),  # a sibling subdomain is another origin
        ("POST", "none", None, False),
        ("DELETE", "cross-site", None, False),
        ("PUT", None, OWN, True),  # older browser: Origin decides
        ("POST", None, "https://evil.example", False),
        ("POST", None, "null", False),
        ("PATCH", None, OWN + ".evil.example", False),
        ("POST", None, None, False),  # no evidence: refused
    ],
)
def test_origin_check(
    method: str, fetch_site: str | None, origin: str | None, allowed: bool
) -> None:
    assert (
        request_origin_allowed(method, sec_fetch_site=fetch_site, origin=origin, own_origin=OWN)
        is allowed
    )


@pytest.fixture
def sessions(redis_client, key_prefix: str) -> RedisSessionStore:
    return RedisSessionStore(redis_client, prefix=key_prefix)


def test_token_is_bound_to_its_session(sessions: RedisSessionStore) -> None:
    a = sessions.validate(sessions.create("alice", {CSRF_FIELD: new_csrf_token()}))
    b = sessions.validate(sessions.create("alice", {CSRF_FIELD: new_csrf_token()}))
    assert csrf_token_valid(a, a.data[CSRF_FIELD])
    assert not csrf_token_valid(a, b.data[CSRF_FIELD])  # same user, other session
    assert not csrf_token_valid(b, a.data[CSRF_FIELD])


@pytest.mark.parametrize("submitted", [None, "", 42, b"x", "x" * 43, "é"])
def test_missing_or_wrong_token_is_refused(sessions: RedisSessionStore, submitted: object) -> None:
    session = sessions.validate(sessions.create("alice", {CSRF_FIELD: new_csrf_token()}))
    assert not csrf_token_valid(session, submitted)


def test_session_without_a_token_accepts_none(sessions: RedisSessionStore) -> None:
    session = sessions.validate(sessions.create("alice", {}))
    assert not csrf_token_valid(session, "anything")
    assert not csrf_token_valid(session, None)


def test_tokens_are_fresh() -> None:
    tokens = {new_csrf_token() for _ in range(100)}
    assert len(tokens) == 100 and all(len(t) == 43 for t in tokens)
