"""Issue a short-lived HS256 access token with PyJWT, then verify it the safe way.

Run it with a secret of at least 32 random bytes in the environment::

    export JWT_SECRET="$(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
    python -m snippets.quickstart.issue_and_verify_hs256
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import jwt

from snippets.tokens.keys import load_hmac_secret
from snippets.tokens.verify_token import TokenError, verify_token

ISSUER = "https://auth.example.com"
AUDIENCE = "https://api.example.com"


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
    """Return the claims of a valid token; raise ``TokenError`` for any other input."""
    return verify_token(
        token,
        secret,
        algorithm="HS256",  # (1)!
        audience=AUDIENCE,
        issuer=ISSUER,
    )  # (2)!
# --8<-- [end:verify]


def main() -> None:
    # --8<-- [start:demo]
    secret = load_hmac_secret("JWT_SECRET")  # refuses a missing or short secret
    token = issue_token("user-42", secret)
    print(token.count("."))
    #> 2
    claims = verify(token, secret)
    print(claims["sub"], claims["exp"] - claims["iat"])
    #> user-42 900
    try:
        verify(token[:-4] + "AAAA", secret)
    except TokenError as exc:
        print(exc)
        #> signature verification failed
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
