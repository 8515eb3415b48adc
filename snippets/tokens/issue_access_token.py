"""Issue a short-lived access token signed with HS256, RS256, ES256 or EdDSA.

The token carries ``iss``, ``sub``, ``aud``, ``iat``, ``exp`` and ``jti``; its header
names the key (``kid``) and the token type (``typ: at+jwt``, RFC 9068), so a verifier
can tell an access token from an ID token.
"""

from __future__ import annotations

# --8<-- [start:setup]
import secrets
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import jwt

from snippets.tokens.keys import check_key, generate_private_key, load_hmac_secret

DEFAULT_LIFETIME = timedelta(minutes=15)
REGISTERED_CLAIMS = frozenset({"iss", "sub", "aud", "iat", "exp", "nbf", "jti"})
# --8<-- [end:setup]


# --8<-- [start:issue]
def issue_access_token(
    subject: str,
    key: Any,
    *,
    algorithm: str,
    kid: str,
    issuer: str,
    audience: str,
    lifetime: timedelta = DEFAULT_LIFETIME,
    now: float | None = None,
    typ: str = "at+jwt",
    extra_claims: Mapping[str, Any] | None = None,
) -> str:
    """Sign an access token for ``subject``.

    Args:
        subject: Who the token is about: an opaque, stable ID, never an email address.
        key: HMAC secret (bytes, >= 32) for HS256, otherwise the private key object.
        algorithm: ``HS256``, ``RS256``, ``ES256`` or ``EdDSA``; must fit ``key``.
        kid: ID of the signing key, put in the header so verifiers can pick the key.
        issuer: Value of ``iss``.
        audience: Value of ``aud``: the API the token is for.
        lifetime: Time until ``exp``; 15 minutes by default.
        now: Issue time in seconds since the epoch; ``time.time()`` when omitted.
        typ: The ``typ`` header; ``at+jwt`` marks an access token.
        extra_claims: Further claims (scopes, roles); they may not replace registered
            ones.

    Returns:
        The compact token.

    Raises:
        ValueError: Key of the wrong kind, empty subject, bad lifetime or a clashing
            claim.
    """
    check_key(algorithm, key, private=True)
    if not subject:
        raise ValueError("subject must not be empty")
    if lifetime <= timedelta(0):
        raise ValueError("lifetime must be positive")
    extra = dict(extra_claims or {})
    if clash := REGISTERED_CLAIMS & extra.keys():
        raise ValueError(f"extra_claims may not set {sorted(clash)}")
    issued_at = int(time.time() if now is None else now)
    claims = {
        **extra,
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "iat": issued_at,
        "exp": issued_at + int(lifetime.total_seconds()),
        "jti": secrets.token_urlsafe(16),  # unique, so the token can be revoked
    }
    return jwt.encode(
        claims, key, algorithm=algorithm, headers={"kid": kid, "typ": typ}
    )


# --8<-- [end:issue]


def main() -> None:
    # --8<-- [start:demo]
    keys = {
        "HS256": load_hmac_secret("JWT_SECRET"),
        "RS256": generate_private_key("RS256"),
        "ES256": generate_private_key("ES256"),
        "EdDSA": generate_private_key("EdDSA"),
    }
    for algorithm, key in keys.items():
        token = issue_access_token(
            "user-42",
            key,
            algorithm=algorithm,
            kid=f"{algorithm.lower()}-1",
            issuer="https://auth.example.com",
            audience="https://api.example.com",
        )
        header = jwt.get_unverified_header(token)
        print(
            algorithm, header["typ"], header["kid"], len(token) // 100 * 100, "+ bytes"
        )
        #> HS256 at+jwt hs256-1 300 + bytes
        #> RS256 at+jwt rs256-1 600 + bytes
        #> ES256 at+jwt es256-1 300 + bytes
        #> EdDSA at+jwt eddsa-1 300 + bytes
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
