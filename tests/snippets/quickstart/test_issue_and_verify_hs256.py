from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from snippets.quickstart.issue_and_verify_hs256 import (
    AUDIENCE,
    ISSUER,
    TokenError,
    issue_token,
    load_secret,
    verify,
)

SECRET = b"s" * 32


def _sign(**claims: object) -> str:
    now = datetime.now(UTC)
    base = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    return jwt.encode({**base, **claims}, SECRET, algorithm="HS256")


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
    with pytest.raises(TokenError, match="signature"):
        verify(issue_token("alice", SECRET), b"t" * 32)


def test_expired_token_is_refused() -> None:
    token = issue_token("alice", SECRET, lifetime=timedelta(minutes=-1))
    with pytest.raises(TokenError, match=r"expired|lifetime"):
        verify(token, SECRET)


def test_token_without_exp_is_refused() -> None:
    now = datetime.now(UTC)
    token = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now}, SECRET, algorithm="HS256"
    )
    with pytest.raises(TokenError, match="exp"):
        verify(token, SECRET)


def test_other_audience_is_refused() -> None:
    with pytest.raises(TokenError, match="audience"):
        verify(_sign(aud="https://other.example.com"), SECRET)


def test_alg_none_is_refused() -> None:
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    with pytest.raises(TokenError):
        verify(jwt.encode(claims, None, algorithm="none"), SECRET)


def test_a_date_given_as_a_string_is_refused() -> None:
    # Bare jwt.decode accepts a numeric string for exp; the verifier this snippet uses does not.
    with pytest.raises(TokenError, match="exp"):
        verify(_sign(exp=str(int(datetime.now(UTC).timestamp()) + 300)), SECRET)


def test_a_short_secret_is_refused_as_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="32"):
        verify(issue_token("alice", SECRET), b"short")


@pytest.mark.parametrize(
    "bad", ["", "a.b", "a.b.c", "x" * 9000, "\u00e9.\u00e9.\u00e9", "e30.e30."]
)
def test_malformed_tokens_end_in_token_error(bad: str) -> None:
    with pytest.raises(TokenError):
        verify(bad, SECRET)


def test_a_token_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(TokenError):
        verify(b"bytes.are.refused", SECRET)  # type: ignore[arg-type]


def test_a_nan_date_is_refused() -> None:
    now = int(datetime.now(UTC).timestamp())
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","typ":"JWT"}').decode()
    body = jwt.utils.base64url_encode(
        f'{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"a","iat":{now},"exp":NaN}}'.encode()
    ).decode()
    signature = jwt.algorithms.HMACAlgorithm(jwt.algorithms.HMACAlgorithm.SHA256).sign(
        f"{header}.{body}".encode(), SECRET
    )
    token = f"{header}.{body}.{jwt.utils.base64url_encode(signature).decode()}"
    with pytest.raises(TokenError):
        verify(token, SECRET)


def test_the_secret_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", "k" * 32)
    assert load_secret() == b"k" * 32


@pytest.mark.parametrize("value", [None, "", "short"])
def test_a_missing_or_short_secret_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("JWT_SECRET", raising=False)
    else:
        monkeypatch.setenv("JWT_SECRET", value)
    with pytest.raises(RuntimeError, match="at least 32 bytes"):
        load_secret()
