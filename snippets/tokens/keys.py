"""Signing keys: HMAC secrets from the environment, asymmetric keys from PEM, a JWKS
document.

Each algorithm accepts one kind of key only (``KEY_TYPES``), so a public RSA key can
never be used as an HMAC secret. Generate keys with OpenSSL in production, for example::

    openssl genpkey -algorithm ed25519 -out signing.pem
    openssl pkey -in signing.pem -pubout -out public.pem

``generate_private_key`` is for demos and tests only.
"""

from __future__ import annotations

# --8<-- [start:setup]
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

MIN_HMAC_SECRET_BYTES = 32
MIN_RSA_KEY_BITS = 2048
ALGORITHMS = ("HS256", "RS256", "ES256", "EdDSA")
# --8<-- [end:setup]


# --8<-- [start:hmac]
def load_hmac_secret(
    env_var: str = "JWT_SECRET", *, file: str | os.PathLike[str] | None = None
) -> bytes:
    """Read an HMAC secret from a file, or else from an environment variable.

    Args:
        env_var: Name of the environment variable that holds the secret.
        file: Path of a file holding the secret (a mounted secret); trailing newlines
            are ignored. When given, the environment is not read.

    Returns:
        The secret as bytes.

    Raises:
        RuntimeError: The secret is missing or shorter than ``MIN_HMAC_SECRET_BYTES``.
    """
    if file is not None:
        secret = Path(file).read_bytes().rstrip(b"\r\n")
        where = f"the file {os.fspath(file)!r}"
    else:
        secret = os.environ.get(env_var, "").encode()
        where = f"the environment variable {env_var}"
    if len(secret) < MIN_HMAC_SECRET_BYTES:
        raise RuntimeError(
            f"{where} must hold an HMAC secret of at least "
            f"{MIN_HMAC_SECRET_BYTES} bytes of random data; generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )
    return secret


# --8<-- [end:hmac]


# --8<-- [start:pem]
def load_private_key(pem: bytes, *, password: bytes | None = None) -> Any:
    """Load a private signing key (RSA >= 2048 bits, EC P-256 or Ed25519) from PEM.

    Raises:
        ValueError: The PEM is not a private key of a supported kind.
    """
    key = serialization.load_pem_private_key(pem, password=password)
    algorithm_for_key(key.public_key())  # refuses kinds and sizes we do not sign with
    return key


def load_public_key(pem: bytes) -> Any:
    """Load a public verification key (RSA >= 2048 bits, EC P-256 or Ed25519) from PEM.

    Raises:
        ValueError: The PEM is not a public key of a supported kind.
    """
    key = serialization.load_pem_public_key(pem)
    algorithm_for_key(key)
    return key


# --8<-- [end:pem]


# --8<-- [start:key-types]
def algorithm_for_key(public_key: Any) -> str:
    """Return the one algorithm a public key may verify: RS256, ES256 or EdDSA.

    Raises:
        ValueError: The key is of an unsupported kind or too small.
    """
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_KEY_BITS:
            raise ValueError(f"RSA keys must have at least {MIN_RSA_KEY_BITS} bits")
        return "RS256"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if not isinstance(public_key.curve, ec.SECP256R1):
            raise ValueError("ES256 needs a key on the P-256 curve")
        return "ES256"
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "EdDSA"
    raise ValueError("unsupported key type: use RSA, EC P-256 or Ed25519")


def check_key(algorithm: str, key: Any, *, private: bool = False) -> None:
    """Refuse a key that does not belong to ``algorithm``: no key confusion by
    construction.

    Args:
        algorithm: One of ``ALGORITHMS``.
        key: HMAC secret (bytes) for HS256, otherwise a ``cryptography`` key object.
        private: True for a signing key, False for a verification key.

    Raises:
        ValueError: Unsupported algorithm, or a key of the wrong kind or size.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(
            f"unsupported algorithm {algorithm!r}; use one of {ALGORITHMS}"
        )
    if algorithm == "HS256":
        if not isinstance(key, bytes) or len(key) < MIN_HMAC_SECRET_BYTES:
            raise ValueError(
                f"HS256 needs a secret of at least {MIN_HMAC_SECRET_BYTES} bytes"
            )
        if b"-----BEGIN" in key or key.startswith((b"ssh-", b"{")):
            raise ValueError("HS256 needs a random secret, not a public key or a JWK")
        return
    private_types = (
        rsa.RSAPrivateKey,
        ec.EllipticCurvePrivateKey,
        ed25519.Ed25519PrivateKey,
    )
    if private != isinstance(key, private_types):
        raise ValueError(
            f"{algorithm} needs a {'private' if private else 'public'} key object"
        )
    if algorithm_for_key(key.public_key() if private else key) != algorithm:
        raise ValueError(f"this key cannot be used with {algorithm}")


# --8<-- [end:key-types]


# --8<-- [start:jwks]
def build_jwks(
    public_keys: Iterable[tuple[str, Any]],
) -> dict[str, list[dict[str, Any]]]:
    """Build the JWKS document to publish, from ``(kid, public key)`` pairs.

    Each entry names its algorithm (``alg``) and use (``sig``), so a verifier never
    guesses. HMAC secrets are refused: they must never be published.

    Raises:
        ValueError: A key is not a supported public key, or a kid repeats.
    """
    to_jwk: dict[str, Callable[..., dict[str, Any]]] = {
        "RS256": RSAAlgorithm.to_jwk,
        "ES256": ECAlgorithm.to_jwk,
        "EdDSA": OKPAlgorithm.to_jwk,
    }
    keys, seen = [], set()
    for kid, public_key in public_keys:
        if kid in seen:
            raise ValueError(f"duplicate kid {kid!r}")
        seen.add(kid)
        algorithm = algorithm_for_key(public_key)
        jwk = to_jwk[algorithm](public_key, as_dict=True)
        keys.append({**jwk, "kid": kid, "alg": algorithm, "use": "sig"})
    return {"keys": keys}


# --8<-- [end:jwks]


# --8<-- [start:generate]
def generate_private_key(algorithm: str) -> Any:
    """Generate a fresh private key for ``algorithm`` (demos and tests only)."""
    if algorithm == "RS256":
        return rsa.generate_private_key(
            public_exponent=65537, key_size=MIN_RSA_KEY_BITS
        )
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"no key pair for {algorithm!r}")


# --8<-- [end:generate]


def main() -> None:
    # --8<-- [start:demo]
    private = generate_private_key("EdDSA")
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public = load_public_key(pem)
    print(algorithm_for_key(public))
    #> EdDSA
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
