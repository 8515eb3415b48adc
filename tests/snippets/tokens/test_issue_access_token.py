from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from snippets.tokens.issue_access_token import issue_access_token
from snippets.tokens.verify_token import verify_token
from tests.snippets.tokens.conftest import AUDIENCE, ISSUER, KeyPair

NOW = 1_700_000_000


def issue(pair: KeyPair, **kw) -> str:
    return issue_access_token(
        "user-42",
        pair.signing,
        algorithm=pair.algorithm,
        kid="key-1",
        issuer=ISSUER,
        audience=AUDIENCE,
        now=NOW,
        **kw,
    )


def test_token_carries_the_registered_claims_and_header(pair: KeyPair) -> None:
    token = issue(pair)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": pair.algorithm, "kid": "key-1", "typ": "at+jwt"}
    claims = verify_token(
        token,
        pair.verifying,
        algorithm=pair.algorithm,
        audience=AUDIENCE,
        issuer=ISSUER,
        typ="at+jwt",
        now=NOW,
    )
    assert set(claims) == {"iss", "sub", "aud", "iat", "exp", "jti"}
    assert (claims["iat"], claims["exp"]) == (NOW, NOW + 15 * 60)
    assert claims["sub"] == "user-42" and len(claims["jti"]) == 22


def test_each_token_has_a_fresh_jti(pair: KeyPair) -> None:
    jtis = {jwt.decode(issue(pair), options={"verify_signature": False})["jti"] for _ in range(20)}
    assert len(jtis) == 20


def test_extra_claims_are_added_but_cannot_replace_registered_ones(pair: KeyPair) -> None:
    token = issue(pair, extra_claims={"scope": "read"})
    assert jwt.decode(token, options={"verify_signature": False})["scope"] == "read"
    with pytest.raises(ValueError, match="may not set"):
        issue(pair, extra_claims={"sub": "admin"})


def test_lifetime_and_clock(pair: KeyPair) -> None:
    claims = jwt.decode(
        issue(pair, lifetime=timedelta(minutes=5)), options={"verify_signature": False}
    )
    assert claims["exp"] - claims["iat"] == 300
    with pytest.raises(ValueError, match="lifetime"):
        issue(pair, lifetime=timedelta(0))


def test_wrong_key_for_algorithm_is_refused(pairs: dict[str, KeyPair]) -> None:
    with pytest.raises(ValueError):
        issue_access_token(
            "u",
            pairs["RS256"].verifying,
            algorithm="RS256",
            kid="k",
            issuer=ISSUER,
            audience=AUDIENCE,
        )  # a public key cannot sign
    with pytest.raises(ValueError):
        issue_access_token(
            "u",
            pairs["ES256"].signing,
            algorithm="EdDSA",
            kid="k",
            issuer=ISSUER,
            audience=AUDIENCE,
        )
    with pytest.raises(ValueError, match="32 bytes"):
        issue_access_token(
            "u", b"secret", algorithm="HS256", kid="k", issuer=ISSUER, audience=AUDIENCE
        )
    with pytest.raises(ValueError, match="subject"):
        issue_access_token(
            "", pairs["HS256"].signing, algorithm="HS256", kid="k", issuer=ISSUER, audience=AUDIENCE
        )
