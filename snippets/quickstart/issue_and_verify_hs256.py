"""Issue a short-lived HS256 access token and verify it with PyJWT.

Run it with a secret of at least 32 random bytes in the environment::

    export JWT_SECRET="$(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
    python -m snippets.quickstart.issue_and_verify_hs256
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta

import jwt

ISSUER = "https://auth.example.com"
AUDIENCE = "https://api.example.com"
MIN_SECRET_BYTES = 32


# --8<-- [start:secret]
def load_secret() -> bytes:
    """Read the HMAC secret from ``JWT_SECRET``; refuse a missing or short one."""
    secret = os.environ.get("JWT_SECRET", "").encode()
    if len(secret) < MIN_SECRET_BYTES:
        raise RuntimeError(
            f"JWT_SECRET must hold at least {MIN_SECRET_BYTES} bytes of random data "
            "(for example the output of `python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'`)"
        )
    return secret
# --8<-- [end:secret]


# --8<-- [start:issue]
def issue_token(
    subject: str, secret: bytes, *, lifetime: timedelta = timedelta(minutes=15)
) -> str:
    """Sign an access token for ``subject`` that expires after ``lifetime``."""
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "iat": now,
        "exp": now + lifetime,
        "jti": secrets.token_urlsafe(16),  # a unique ID, so the token can be revoked
    }
    return jwt.encode(claims, secret, algorithm="HS256")
# --8<-- [end:issue]


# --8<-- [start:verify]
def verify(token: str, secret: bytes) -> dict:
    """Return the claims of a valid token; raise ``jwt.InvalidTokenError`` otherwise."""
    return jwt.decode(
        token,
        secret,
        algorithms=["HS256"],  # (1)!
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},  # (2)!
    )
# --8<-- [end:verify]


def main() -> None:
    # --8<-- [start:demo]
    secret = load_secret()
    token = issue_token("user-42", secret)
    print(token.count("."))
    #> 2
    claims = verify(token, secret)
    print(claims["sub"], claims["exp"] - claims["iat"])
    #> user-42 900
    try:
        verify(token[:-4] + "AAAA", secret)
    except jwt.InvalidSignatureError as exc:
        print(exc)
        #> Signature verification failed
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
