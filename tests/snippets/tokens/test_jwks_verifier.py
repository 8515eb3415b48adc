from __future__ import annotations

import jwt
import pytest

from snippets.tokens.issue_access_token import issue_access_token
from snippets.tokens.jwks_verifier import JWKSVerifier
from snippets.tokens.keys import generate_private_key
from snippets.tokens.verify_token import TokenError
from tests.snippets.tokens.conftest import (
    AUDIENCE,
    ISSUER,
    FakeClock,
    JWKSServer,
    KeyPair,
    good_claims,
)

ASYMMETRIC = ("RS256", "ES256", "EdDSA")


def issue(private_key, algorithm: str, kid: str) -> str:
    return issue_access_token(
        "user-42", private_key, algorithm=algorithm, kid=kid, issuer=ISSUER, audience=AUDIENCE
    )


def make_verifier(server: JWKSServer, algorithm: str, clock: FakeClock) -> JWKSVerifier:
    return JWKSVerifier(
        server.url,
        algorithm=algorithm,
        audience=AUDIENCE,
        issuer=ISSUER,
        cache_seconds=300,
        clock=clock,
    )


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
def test_one_fetch_serves_many_verifications(
    jwks_server: JWKSServer, pairs: dict[str, KeyPair], algorithm: str
) -> None:
    pair = pairs[algorithm]
    jwks_server.publish(("k1", pair.verifying))
    verifier = make_verifier(jwks_server, algorithm, FakeClock())
    token = issue(pair.signing, algorithm, "k1")
    for _ in range(50):
        assert verifier.verify(token)["sub"] == "user-42"
    assert jwks_server.fetches == 1


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
def test_rotation(jwks_server: JWKSServer, pairs: dict[str, KeyPair], algorithm: str) -> None:
    old_private = pairs[algorithm].signing
    new_private = generate_private_key(algorithm)
    clock = FakeClock()
    jwks_server.publish(("old", old_private.public_key()))
    verifier = make_verifier(jwks_server, algorithm, clock)
    old_token = issue(old_private, algorithm, "old")
    assert verifier.verify(old_token)
    assert jwks_server.fetches == 1

    # The issuer publishes the new key beside the old one and starts signing with it.
    jwks_server.publish(("old", old_private.public_key()), ("new", new_private.public_key()))
    clock.now += 10
    new_token = issue(new_private, algorithm, "new")
    assert verifier.verify(new_token)  # unknown kid: one refetch, then it verifies
    assert jwks_server.fetches == 2
    assert verifier.verify(old_token)  # old tokens keep verifying, from the cache
    assert jwks_server.fetches == 2

    # Unknown kids in the same window are refused without another request.
    stranger = generate_private_key(algorithm)
    for kid in ("k-x", "k-y", "k-z"):
        with pytest.raises(TokenError, match="unknown key ID"):
            verifier.verify(issue(stranger, algorithm, kid))
    assert jwks_server.fetches == 2

    # The old key is removed; once the cache window ends, its tokens are refused.
    jwks_server.publish(("new", new_private.public_key()))
    assert verifier.verify(old_token)  # still cached
    clock.now += 300
    with pytest.raises(TokenError, match="unknown key ID"):
        verifier.verify(old_token)
    assert jwks_server.fetches == 3  # the window's fetch; no extra refetch right after it
    assert verifier.verify(new_token)
    with pytest.raises(TokenError, match="unknown key ID"):
        verifier.verify(old_token)
    assert jwks_server.fetches == 4  # the one refetch this window allows
    with pytest.raises(TokenError, match="unknown key ID"):
        verifier.verify(old_token)
    assert jwks_server.fetches == 4


def test_unknown_kid_at_start_fetches_once(jwks_server: JWKSServer, pairs) -> None:
    jwks_server.publish(("k1", pairs["EdDSA"].verifying))
    verifier = make_verifier(jwks_server, "EdDSA", FakeClock())
    for _ in range(5):
        with pytest.raises(TokenError, match="unknown key ID"):
            verifier.verify(issue(pairs["EdDSA"].signing, "EdDSA", "other"))
    assert jwks_server.fetches == 2  # the first fetch, then the one refetch of the window


def test_key_for_another_algorithm_is_refused(jwks_server: JWKSServer, pairs) -> None:
    jwks_server.publish(("k1", pairs["RS256"].verifying))
    verifier = make_verifier(jwks_server, "ES256", FakeClock())
    with pytest.raises(TokenError, match="another algorithm"):
        verifier.verify(issue(pairs["RS256"].signing, "RS256", "k1"))


def test_outage(jwks_server: JWKSServer, pairs) -> None:
    pair = pairs["ES256"]
    jwks_server.publish(("k1", pair.verifying))
    clock = FakeClock()
    token = issue(pair.signing, "ES256", "k1")
    jwks_server.up = False
    verifier = make_verifier(jwks_server, "ES256", clock)
    with pytest.raises(TokenError, match="signing keys unavailable"):
        verifier.verify(token)
    jwks_server.up = True
    clock.now += 300
    assert verifier.verify(token)
    jwks_server.up = False
    clock.now += 300
    assert verifier.verify(token)  # the cached keys outlive an outage of the issuer
    with pytest.raises(TokenError, match="signing keys unavailable"):
        verifier.verify(issue(pair.signing, "ES256", "k2"))


@pytest.mark.parametrize(
    "token", ["", "x", "a.b.c", "e30.e30.e30", "eyJraWQiOjF9.e30.e30", "x" * 10000, b"\xff", None]
)
def test_garbage_is_refused(jwks_server: JWKSServer, pairs, token) -> None:
    jwks_server.publish(("k1", pairs["EdDSA"].verifying))
    verifier = make_verifier(jwks_server, "EdDSA", FakeClock())
    with pytest.raises(TokenError):
        verifier.verify(token)
    assert jwks_server.fetches <= 2


def test_key_embedded_in_the_header_is_ignored(jwks_server: JWKSServer, pairs) -> None:
    jwks_server.publish(("k1", pairs["EdDSA"].verifying))
    verifier = make_verifier(jwks_server, "EdDSA", FakeClock())
    attacker = generate_private_key("EdDSA")
    jwk = jwt.algorithms.OKPAlgorithm.to_jwk(attacker.public_key(), as_dict=True)
    token = jwt.encode(
        good_claims(),
        attacker,
        algorithm="EdDSA",
        headers={"kid": "k1", "typ": "at+jwt", "jwk": jwk, "jku": jwks_server.url + "?evil"},
    )
    with pytest.raises(TokenError, match="signature verification failed"):
        verifier.verify(token)
