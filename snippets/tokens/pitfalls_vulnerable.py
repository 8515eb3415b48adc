"""DO NOT COPY: the JWT mistakes the "Security pitfalls" page warns against.

Every function here is vulnerable on purpose, so the tests can show each attack working
(or show that PyJWT now stops it on its own). The safe counterparts are
``verify_token``, ``JWKSVerifier``, ``load_hmac_secret``, ``issue_access_token`` and
``pitfalls_safe``.
"""

from __future__ import annotations

# --8<-- [start:setup]
import base64
import json
from pathlib import Path
from typing import Any

import jwt

AUDIENCE = "https://api.example.com"
ISSUER = "https://auth.example.com"
# --8<-- [end:setup]


# --8<-- [start:header-algorithm]
def decode_with_header_algorithm(token: str, key: Any) -> dict[str, Any]:
    """DO NOT COPY: lets the token choose its algorithm (alg none, key confusion)."""
    alg = jwt.get_unverified_header(token)["alg"]
    return jwt.decode(token, key, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER)


def decode_with_mixed_algorithms(token: str, public_key_pem: bytes) -> dict[str, Any]:
    """DO NOT COPY: one key, two algorithm families that read it differently."""
    return jwt.decode(
        token,
        public_key_pem,
        algorithms=["HS256", "RS256"],
        audience=AUDIENCE,
        issuer=ISSUER,
    )


# --8<-- [end:header-algorithm]


# --8<-- [start:no-verification]
def decode_without_verification(token: str) -> dict[str, Any]:
    """DO NOT COPY: reads the claims without checking the signature."""
    return jwt.decode(token, options={"verify_signature": False})


# --8<-- [end:no-verification]


# --8<-- [start:no-expiry]
def decode_without_required_exp(token: str, key: Any, algorithm: str) -> dict[str, Any]:
    """DO NOT COPY: PyJWT checks ``exp`` only if the token has one."""
    return jwt.decode(
        token, key, algorithms=[algorithm], audience=AUDIENCE, issuer=ISSUER
    )


# --8<-- [end:no-expiry]


# --8<-- [start:no-audience]
def decode_without_audience_or_issuer(
    token: str, key: Any, algorithm: str
) -> dict[str, Any]:
    """DO NOT COPY: accepts a token minted for any API, by any issuer with the key."""
    return jwt.decode(token, key, algorithms=[algorithm], options={"verify_aud": False})


# --8<-- [end:no-audience]


# --8<-- [start:key-from-header]
def decode_with_embedded_jwk(token: str) -> dict[str, Any]:
    """DO NOT COPY: verifies with the key the token brings along (``jwk`` header)."""
    jwk = jwt.PyJWK(jwt.get_unverified_header(token)["jwk"])
    return jwt.decode(token, jwk, audience=AUDIENCE, issuer=ISSUER)


def decode_with_jku(token: str) -> dict[str, Any]:
    """DO NOT COPY: fetches keys from the URL the token names (``jku`` header)."""
    header = jwt.get_unverified_header(token)
    key = jwt.PyJWKClient(header["jku"]).get_signing_key(header["kid"])
    return jwt.decode(token, key, audience=AUDIENCE, issuer=ISSUER)


def decode_with_kid_as_path(token: str, key_dir: Path) -> dict[str, Any]:
    """DO NOT COPY: turns ``kid`` into a file path (any readable file becomes a key)."""
    kid = jwt.get_unverified_header(token)["kid"]
    secret = (key_dir / kid).read_bytes()
    return jwt.decode(
        token, secret, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER
    )


# --8<-- [end:key-from-header]


# --8<-- [start:weak-secret]
WEAK_SECRET = "secret"  # noqa: S105 - DO NOT COPY: short, guessable, in the source


def issue_with_weak_secret(claims: dict[str, Any]) -> str:
    """DO NOT COPY: PyJWT warns about the short key, and signs anyway."""
    return jwt.encode(claims, WEAK_SECRET, algorithm="HS256")


def decode_with_weak_secret(token: str) -> dict[str, Any]:
    """DO NOT COPY: accepts anything signed with the guessable secret."""
    return jwt.decode(
        token, WEAK_SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER
    )


# --8<-- [end:weak-secret]


# --8<-- [start:readable-payload]
def issue_with_profile(user: dict[str, Any], key: Any, algorithm: str) -> str:
    """DO NOT COPY: puts personal data in a payload that anyone can read."""
    claims = {
        "sub": user["id"],
        "email": user["email"],
        "birth_date": user["birth_date"],
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    return jwt.encode(claims, key, algorithm=algorithm)


def read_payload_without_key(token: str) -> dict[str, Any]:
    """What anyone holding the token can do: no key, no library, just base64."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


# --8<-- [end:readable-payload]


# --8<-- [start:token-type]
def decode_any_token_type(token: str, key: Any, algorithm: str) -> dict[str, Any]:
    """DO NOT COPY: checks everything but ``typ``, so an ID token passes as access
    token."""
    return jwt.decode(
        token,
        key,
        algorithms=[algorithm],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},
    )


# --8<-- [end:token-type]


def main() -> None:
    # --8<-- [start:demo]
    from snippets.tokens.issue_access_token import issue_access_token
    from snippets.tokens.keys import generate_private_key

    key = generate_private_key("ES256")
    forged = jwt.encode(
        {"sub": "admin"}, "any 32-byte key the attacker likes", algorithm="HS256"
    )
    print(decode_without_verification(forged))
    #> {'sub': 'admin'}
    token = issue_with_profile(
        {"id": "user-42", "email": "ada@example.com", "birth_date": "1815-12-10"},
        key,
        "ES256",
    )
    print(read_payload_without_key(token)["email"])
    #> ada@example.com
    id_token = issue_access_token(
        "user-42",
        key,
        algorithm="ES256",
        kid="k1",
        typ="JWT",
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    print(decode_any_token_type(id_token, key.public_key(), "ES256")["sub"])
    #> user-42
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
