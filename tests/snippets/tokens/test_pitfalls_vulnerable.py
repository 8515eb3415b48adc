"""Each pitfall's attack against the vulnerable pattern and against ours.

Where PyJWT 2.x already stops an attack on its own, the test says so: the vulnerable pattern
then fails too, but with an exception that is not even an ``InvalidTokenError``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from jwt.warnings import InsecureKeyLengthWarning

from snippets.tokens import pitfalls_vulnerable as vulnerable
from snippets.tokens.issue_access_token import issue_access_token
from snippets.tokens.jwks_verifier import JWKSVerifier
from snippets.tokens.keys import ALGORITHMS, generate_private_key, load_hmac_secret
from snippets.tokens.pitfalls_safe import verify_with_trusted_kid
from snippets.tokens.verify_token import TokenError, verify_token
from tests.snippets.tokens.conftest import AUDIENCE, ISSUER, JWKSServer, KeyPair, b64, good_claims

ASYMMETRIC = ("RS256", "ES256", "EdDSA")


def ours(token, pair: KeyPair, **kw) -> dict:
    return verify_token(
        token, pair.verifying, algorithm=pair.algorithm, audience=AUDIENCE, issuer=ISSUER, **kw
    )


def unsigned(header: dict, claims: dict, signature: bytes = b"") -> str:
    return ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), b64(signature)]
    )


def attacker_token(algorithm: str, headers: dict, claims: dict | None = None):
    key = (
        b"attacker-secret-of-at-least-32-bytes!"
        if algorithm == "HS256"
        else (generate_private_key(algorithm))
    )
    token = jwt.encode(
        claims or good_claims(sub="admin"), key, algorithm=algorithm, headers=headers
    )
    return key, token


def test_alg_none(pair: KeyPair) -> None:
    forged = unsigned({"alg": "none", "typ": "JWT"}, good_claims(sub="admin"))
    # PyJWT 2.x stops it even when the token picks its algorithm: "none" never verifies.
    with pytest.raises(jwt.PyJWTError):
        vulnerable.decode_with_header_algorithm(forged, pair.verifying)
    with pytest.raises(TokenError):
        ours(forged, pair)


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
def test_hmac_with_public_key_confusion(pairs: dict[str, KeyPair], algorithm: str) -> None:
    pair = pairs[algorithm]
    pem = pair.verifying.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = (
        b64(b'{"alg":"HS256","typ":"JWT"}')
        + "."
        + b64(json.dumps(good_claims(sub="admin")).encode())
    )
    forged = header + "." + b64(hmac.new(pem, header.encode(), hashlib.sha256).digest())
    # PyJWT refuses a PEM key as HMAC secret, but with InvalidKeyError, not InvalidTokenError:
    # a service catching InvalidTokenError answers 500 instead of 401.
    for attempt in (
        lambda: vulnerable.decode_with_header_algorithm(forged, pem),
        lambda: vulnerable.decode_with_mixed_algorithms(forged, pem),
    ):
        with pytest.raises(jwt.InvalidKeyError) as info:
            attempt()
        assert not isinstance(info.value, jwt.InvalidTokenError)
    with pytest.raises(TokenError, match="algorithm not accepted"):
        ours(forged, pair)
    with pytest.raises(ValueError, match="HS256"):  # and the PEM cannot be configured as secret
        verify_token(forged, pem, algorithm="HS256", audience=AUDIENCE, issuer=ISSUER)


def test_signature_verification_off(pair: KeyPair) -> None:
    forged = unsigned({"alg": pair.algorithm}, good_claims(sub="admin"), b"garbage")
    assert vulnerable.decode_without_verification(forged)["sub"] == "admin"  # attack works
    with pytest.raises(TokenError, match="signature verification failed"):
        ours(forged, pair)


def test_expiry_not_required(pair: KeyPair) -> None:
    eternal = jwt.encode(
        good_claims(exp=None, iat=int(time.time()) - 10 * 365 * 86400),
        pair.signing,
        algorithm=pair.algorithm,
    )
    assert vulnerable.decode_without_required_exp(eternal, pair.verifying, pair.algorithm)
    with pytest.raises(TokenError, match="missing required claim 'exp'"):
        ours(eternal, pair)


@pytest.mark.parametrize(
    "changes", [{"aud": "https://billing.example.com"}, {"iss": "https://partner.example.net"}]
)
def test_audience_or_issuer_not_checked(pair: KeyPair, changes: dict) -> None:
    elsewhere = jwt.encode(good_claims(**changes), pair.signing, algorithm=pair.algorithm)
    claims = vulnerable.decode_without_audience_or_issuer(elsewhere, pair.verifying, pair.algorithm)
    assert claims["sub"] == "user-42"  # a token for another API or issuer is accepted
    with pytest.raises(TokenError, match="not accepted"):
        ours(elsewhere, pair)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_key_embedded_in_jwk_header(pairs: dict[str, KeyPair], algorithm: str) -> None:
    to_jwk = jwt.get_algorithm_by_name(algorithm).to_jwk
    key = (
        b"attacker-secret-of-at-least-32-bytes!"
        if algorithm == "HS256"
        else (generate_private_key(algorithm))
    )
    jwk = to_jwk(key if algorithm == "HS256" else key.public_key(), as_dict=True)
    jwk["alg"] = algorithm
    token = jwt.encode(
        good_claims(sub="admin"),
        key,
        algorithm=algorithm,
        headers={"jwk": jwk, "kid": "k1", "typ": "at+jwt"},
    )
    assert vulnerable.decode_with_embedded_jwk(token)["sub"] == "admin"  # attack works
    with pytest.raises(TokenError, match="signature verification failed"):
        ours(token, pairs[algorithm])


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
def test_key_from_jku_header(
    pairs: dict[str, KeyPair], jwks_server: JWKSServer, algorithm: str
) -> None:
    attacker = generate_private_key(algorithm)
    jwks_server.publish(("evil", attacker.public_key()))  # the attacker's server
    token = jwt.encode(
        good_claims(sub="admin"),
        attacker,
        algorithm=algorithm,
        headers={"jku": jwks_server.url, "kid": "evil", "typ": "at+jwt"},
    )
    assert vulnerable.decode_with_jku(token)["sub"] == "admin"  # attack works
    trusted = JWKSServer()  # the real issuer's JWKS, configured in the service
    try:
        trusted.publish(("k1", pairs[algorithm].verifying))
        verifier = JWKSVerifier(trusted.url, algorithm=algorithm, audience=AUDIENCE, issuer=ISSUER)
        with pytest.raises(TokenError, match="unknown key ID"):
            verifier.verify(token)
    finally:
        trusted.close()


def test_kid_used_as_a_path(tmp_path, pairs: dict[str, KeyPair]) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "hs-1").write_bytes(b"a real secret, 32 bytes or longer, random")
    (tmp_path / "static").mkdir()
    robots = b"User-agent: *\nDisallow: /admin/\n# a public file anyone can read\n"
    (tmp_path / "static" / "robots.txt").write_bytes(robots)
    token = jwt.encode(
        good_claims(sub="admin"), robots, algorithm="HS256", headers={"kid": "../static/robots.txt"}
    )
    claims = vulnerable.decode_with_kid_as_path(token, tmp_path / "keys")
    assert claims["sub"] == "admin"  # attack works
    es = pairs["ES256"]
    es_token = jwt.encode(
        good_claims(sub="admin"),
        es.signing,
        algorithm="ES256",
        headers={"kid": "../static/robots.txt", "typ": "at+jwt"},
    )
    with pytest.raises(TokenError, match="unknown key ID"):
        verify_with_trusted_kid(es_token, {"es-1": es.verifying})


def test_weak_hmac_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.warns(InsecureKeyLengthWarning):  # PyJWT only warns
        stolen = vulnerable.issue_with_weak_secret(good_claims())
    wordlist = ["123456", "password", "changeme", "jwt-secret", "secret", "qwerty"]
    header_payload, signature = stolen.rsplit(".", 1)
    cracked = next(
        w
        for w in wordlist
        if b64(hmac.new(w.encode(), header_payload.encode(), hashlib.sha256).digest()) == signature
    )
    with pytest.warns(InsecureKeyLengthWarning):
        forged = jwt.encode(good_claims(sub="admin"), cracked, algorithm="HS256")
        assert vulnerable.decode_with_weak_secret(forged)["sub"] == "admin"  # attack works
    monkeypatch.setenv("JWT_SECRET", vulnerable.WEAK_SECRET)
    with pytest.raises(RuntimeError, match="at least 32 bytes"):
        load_hmac_secret("JWT_SECRET")
    with pytest.raises(ValueError, match="32 bytes"):
        verify_token(forged, cracked.encode(), algorithm="HS256", audience=AUDIENCE, issuer=ISSUER)


def test_readable_payload(pair: KeyPair) -> None:
    user = {"id": "user-42", "email": "ada@example.com", "birth_date": "1815-12-10"}
    token = vulnerable.issue_with_profile(user, pair.signing, pair.algorithm)
    assert vulnerable.read_payload_without_key(token)["email"] == "ada@example.com"
    ours_token = issue_access_token(
        "user-42",
        pair.signing,
        algorithm=pair.algorithm,
        kid="k1",
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    readable = vulnerable.read_payload_without_key(ours_token)
    assert set(readable) == {"iss", "sub", "aud", "iat", "exp", "jti"}  # nothing personal


def test_id_token_as_access_token(pair: KeyPair) -> None:
    id_token = issue_access_token(
        "user-42",
        pair.signing,
        algorithm=pair.algorithm,
        kid="k1",
        issuer=ISSUER,
        audience=AUDIENCE,
        typ="JWT",
        extra_claims={"email": "ada@example.com", "nonce": "n"},
    )
    assert vulnerable.decode_any_token_type(id_token, pair.verifying, pair.algorithm)
    with pytest.raises(TokenError, match="wrong token type"):
        ours(id_token, pair, typ="at+jwt")
