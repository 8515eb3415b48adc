from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from snippets.tokens.keys import (
    ALGORITHMS,
    algorithm_for_key,
    build_jwks,
    check_key,
    generate_private_key,
    load_hmac_secret,
    load_private_key,
    load_public_key,
)
from tests.snippets.tokens.conftest import KeyPair


@pytest.mark.parametrize("value", [None, "", "short", "x" * 31])
def test_missing_or_short_secret_is_refused(monkeypatch: pytest.MonkeyPatch, value) -> None:
    if value is None:
        monkeypatch.delenv("APP_JWT_SECRET", raising=False)
    else:
        monkeypatch.setenv("APP_JWT_SECRET", value)
    with pytest.raises(RuntimeError, match=r"APP_JWT_SECRET must hold .* at least 32 bytes"):
        load_hmac_secret("APP_JWT_SECRET")


def test_secret_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_JWT_SECRET", "k" * 32)
    assert load_hmac_secret("APP_JWT_SECRET") == b"k" * 32


def test_secret_from_file_ignores_trailing_newline(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("JWT_SECRET", "e" * 40)
    path = tmp_path / "secret"
    path.write_bytes(b"f" * 32 + b"\n")
    assert load_hmac_secret(file=path) == b"f" * 32  # the file wins over the environment
    path.write_bytes(b"f" * 31 + b"\n")
    with pytest.raises(RuntimeError, match=r"file .* at least 32 bytes"):
        load_hmac_secret(file=path)


def _pem(key, private: bool) -> bytes:
    if private:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_pem_round_trip(pair: KeyPair) -> None:
    if pair.algorithm == "HS256":
        return
    private = load_private_key(_pem(pair.signing, private=True))
    public = load_public_key(_pem(pair.verifying, private=False))
    assert algorithm_for_key(public) == pair.algorithm
    token = jwt.encode({"sub": "a"}, private, algorithm=pair.algorithm)
    assert jwt.decode(token, public, algorithms=[pair.algorithm]) == {"sub": "a"}


def test_unsupported_keys_are_refused() -> None:
    p384 = ec.generate_private_key(ec.SECP384R1())
    small_rsa = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - must be refused
    for key in (p384, small_rsa):
        with pytest.raises(ValueError):
            load_private_key(_pem(key, private=True))
        with pytest.raises(ValueError):
            load_public_key(_pem(key.public_key(), private=False))
    with pytest.raises(ValueError, match="unsupported key type"):
        algorithm_for_key(b"x" * 32)


def test_check_key_binds_each_algorithm_to_one_key_kind(pairs: dict[str, KeyPair]) -> None:
    for alg in ALGORITHMS:
        check_key(alg, pairs[alg].verifying)
        check_key(alg, pairs[alg].signing, private=True)
        for other in ALGORITHMS:
            if other != alg:
                with pytest.raises(ValueError):
                    check_key(other, pairs[alg].verifying)
    pem = _pem(pairs["RS256"].verifying, private=False)
    with pytest.raises(ValueError, match="not a public key"):
        check_key("HS256", pem)


def test_jwks_publishes_public_keys_with_alg_and_kid(pairs: dict[str, KeyPair]) -> None:
    entries = [(f"k-{alg}", pairs[alg].verifying) for alg in ("RS256", "ES256", "EdDSA")]
    jwks = build_jwks(entries)
    for (kid, public), jwk in zip(entries, jwks["keys"], strict=True):
        assert jwk["kid"] == kid and jwk["use"] == "sig"
        assert "d" not in jwk  # nothing private
        parsed = jwt.PyJWK(jwk)
        assert parsed.algorithm_name == jwk["alg"] == algorithm_for_key(public)
        raw = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        assert parsed.key.public_bytes(*raw) == public.public_bytes(*raw)


def test_jwks_refuses_secrets_and_duplicate_kids(pairs: dict[str, KeyPair]) -> None:
    with pytest.raises(ValueError, match="unsupported key type"):
        build_jwks([("hs", pairs["HS256"].verifying)])
    with pytest.raises(ValueError, match="duplicate kid"):
        build_jwks([("a", pairs["EdDSA"].verifying), ("a", pairs["ES256"].verifying)])


def test_generated_keys_fit_their_algorithm() -> None:
    for alg in ("RS256", "ES256", "EdDSA"):
        assert algorithm_for_key(generate_private_key(alg).public_key()) == alg
    with pytest.raises(ValueError, match="no key pair"):
        generate_private_key("HS256")
