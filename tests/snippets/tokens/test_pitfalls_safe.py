from __future__ import annotations

import pytest

from snippets.tokens.issue_access_token import issue_access_token
from snippets.tokens.pitfalls_safe import (
    AUDIENCE,
    ISSUER,
    untyped_access_token_verifier,
    verify_access_token,
    verify_with_trusted_kid,
)
from snippets.tokens.verify_token import TokenError
from tests.snippets.tokens.conftest import KeyPair


def issue(pair: KeyPair, kid: str = "es-1", **kw) -> str:
    return issue_access_token(
        "user-42",
        pair.signing,
        algorithm=pair.algorithm,
        kid=kid,
        issuer=ISSUER,
        audience=AUDIENCE,
        **kw,
    )


def test_access_token_verifies(pairs: dict[str, KeyPair]) -> None:
    es = pairs["ES256"]
    assert verify_access_token(issue(es), es.verifying)["sub"] == "user-42"
    assert verify_with_trusted_kid(issue(es), {"es-1": es.verifying})["sub"] == "user-42"


def test_kid_picks_among_trusted_keys_only(pairs: dict[str, KeyPair]) -> None:
    es = pairs["ES256"]
    other = pairs["EdDSA"]
    trusted = {"es-1": es.verifying}
    for kid in ["es-2", "../es-1", "", "ES-1"]:
        with pytest.raises(TokenError, match=r"unknown key ID|no key ID"):
            verify_with_trusted_kid(issue(es, kid=kid) if kid else issue(es, kid="x"), trusted)
    with pytest.raises(TokenError, match="algorithm not accepted"):
        verify_with_trusted_kid(issue(other), {"es-1": es.verifying})


@pytest.mark.parametrize("token", ["", "...", "a.b.c", "eyJraWQiOltdfQ.e30.e30", "x" * 9999])
def test_garbage_is_refused(pairs: dict[str, KeyPair], token: str) -> None:
    with pytest.raises(TokenError):
        verify_with_trusted_kid(token, {"es-1": pairs["ES256"].verifying})


def test_id_token_is_refused(pairs: dict[str, KeyPair]) -> None:
    es = pairs["ES256"]
    with pytest.raises(TokenError, match="wrong token type"):
        verify_access_token(issue(es, typ="JWT"), es.verifying)


@pytest.mark.parametrize("typ", ["JWT", None, "at+jwt"])
def test_an_untyped_issuers_access_token_verifies(pairs: dict[str, KeyPair], typ) -> None:  # type: ignore[no-untyped-def]
    es = pairs["ES256"]
    verify = untyped_access_token_verifier(es.verifying, oidc_client_ids=frozenset({"web"}))
    token = issue(es, typ=typ) if typ else issue(es, typ="")
    assert verify(token)["sub"] == "user-42"


@pytest.mark.parametrize("claim", ["nonce", "at_hash", "c_hash", "s_hash"])
def test_an_id_token_of_an_untyped_issuer_is_refused(pairs: dict[str, KeyPair], claim) -> None:  # type: ignore[no-untyped-def]
    es = pairs["ES256"]
    verify = untyped_access_token_verifier(es.verifying, oidc_client_ids=frozenset({"web"}))
    with pytest.raises(TokenError, match="an ID token is not an access token"):
        verify(issue(es, typ="JWT", extra_claims={claim: "x"}))
    with pytest.raises(TokenError, match="audience"):  # an ID token's aud is a client ID
        verify(
            issue_access_token(
                "user-42",
                es.signing,
                algorithm="ES256",
                kid="es-1",
                typ="JWT",
                issuer=ISSUER,
                audience="web",
            )
        )


def test_an_audience_shared_with_a_client_is_refused_at_start_up(pairs: dict[str, KeyPair]) -> None:
    with pytest.raises(ValueError, match="OIDC client ID"):
        untyped_access_token_verifier(
            pairs["ES256"].verifying, oidc_client_ids=frozenset({AUDIENCE})
        )
