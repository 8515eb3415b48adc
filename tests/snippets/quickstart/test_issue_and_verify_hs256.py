from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from snippets.quickstart.issue_and_verify_hs256 import (
    AUDIENCE,
    ISSUER,
    issue_token,
    load_secret,
    verify,
)

SECRET = b"s" * 32


def test_round_trip_returns_the_claims() -> None:
    claims = verify(issue_token("alice", SECRET), SECRET)
    assert claims["sub"] == "alice"
    assert claims["iss"] == ISSUER
    assert claims["aud"] == AUDIENCE
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert len(claims["jti"]) >= 20


def test_each_token_has_its_own_id() -> None:
    a, b = (verify(issue_token("alice", SECRET), SECRET)["jti"] for _ in range(2))
    assert a != b


def test_wrong_secret_is_refused() -> None:
    with pytest.raises(jwt.InvalidSignatureError):
        verify(issue_token("alice", SECRET), b"t" * 32)


def test_expired_token_is_refused() -> None:
    token = issue_token("alice", SECRET, lifetime=timedelta(seconds=-1))
    with pytest.raises(jwt.ExpiredSignatureError):
        verify(token, SECRET)


def test_token_without_exp_is_refused() -> None:
    now = datetime.now(UTC)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    with pytest.raises(jwt.MissingRequiredClaimError, match="exp"):
        verify(token, SECRET)


def test_other_audience_is_refused() -> None:
    now = datetime.now(UTC)
    claims = {"iss": ISSUER, "aud": "https://other.example.com", "sub": "alice", "iat": now,
              "exp": now + timedelta(minutes=5)}
    with pytest.raises(jwt.InvalidAudienceError):
        verify(jwt.encode(claims, SECRET, algorithm="HS256"), SECRET)


def test_alg_none_is_refused() -> None:
    now = datetime.now(UTC)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now,
              "exp": now + timedelta(minutes=5)}
    token = jwt.encode(claims, None, algorithm="none")
    with pytest.raises(jwt.InvalidAlgorithmError):
        verify(token, SECRET)


@pytest.mark.parametrize("value", [None, "", "short", "x" * 31])
def test_missing_or_short_secret_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("JWT_SECRET", raising=False)
    else:
        monkeypatch.setenv("JWT_SECRET", value)
    with pytest.raises(RuntimeError, match="at least 32 bytes"):
        load_secret()


def test_long_secret_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", "k" * 32)
    assert load_secret() == b"k" * 32
