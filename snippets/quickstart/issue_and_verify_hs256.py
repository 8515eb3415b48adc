"""Issue a short-lived HS256 access token with PyJWT, then verify it the safe way.

Self-contained on purpose: copied on its own it needs only PyJWT. Run it with a secret
of at least 32 random bytes in the environment::

    export JWT_SECRET="$(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
    python -m snippets.quickstart.issue_and_verify_hs256

For production, verify through ``snippets.tokens.verify_token``: it adds strict parsing
(duplicate JSON keys, padded or non-canonical base64url, ``crit``), a cap on the
lifetime, a ``typ`` check and asymmetric keys.
"""

# --8<-- [start:setup]
import math
import os
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

ISSUER = "https://auth.example.com"
AUDIENCE = "https://api.example.com"
MIN_SECRET_BYTES = 32
MAX_TOKEN_BYTES = 8 * 1024
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]


def load_secret(env_var: str = "JWT_SECRET") -> bytes:
    """Read the HMAC secret from the environment; refuse a missing or short one."""
    secret = os.environ.get(env_var, "").encode()
    if len(secret) < MIN_SECRET_BYTES:
        raise RuntimeError(
            f"{env_var} must hold at least {MIN_SECRET_BYTES} bytes of random data; "
            "make one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    return secret


# --8<-- [end:setup]


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
class TokenError(Exception):
    """A token this verifier refuses; the message never repeats it. Answer 401."""


_MESSAGES = {
    jwt.ExpiredSignatureError: "token has expired",
    jwt.ImmatureSignatureError: "token not valid yet",
    jwt.InvalidSignatureError: "signature verification failed",
    jwt.InvalidAudienceError: "audience not accepted",
    jwt.InvalidIssuerError: "issuer not accepted",
    jwt.InvalidAlgorithmError: "algorithm not accepted",
}


def verify(token: str, secret: bytes) -> dict[str, Any]:
    """Return the claims of a valid token; raise ``TokenError`` for any other input."""
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"HS256 needs a secret of at least {MIN_SECRET_BYTES} bytes")
    if not isinstance(token, str) or len(token) > MAX_TOKEN_BYTES:
        raise TokenError("malformed token")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],  # never let the token choose its algorithm
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": REQUIRED_CLAIMS},  # PyJWT requires none unless told
        )
    except jwt.MissingRequiredClaimError as exc:
        raise TokenError(f"missing required claim {exc.claim!r}") from None
    except jwt.InvalidTokenError as exc:
        raise TokenError(_MESSAGES.get(type(exc), "malformed token")) from None
    except Exception:  # some malformed input escapes PyJWT as another exception
        raise TokenError("malformed token") from None
    for name in ("exp", "iat", "nbf"):  # PyJWT also accepts a date given as a string
        value = claims.get(name, 0)
        if type(value) not in (int, float) or not math.isfinite(value):
            raise TokenError(f"claim {name!r} must be a JSON number")
    return claims


# --8<-- [end:verify]


def main() -> None:
    # --8<-- [start:demo]
    secret = load_secret("JWT_SECRET")  # refuses a missing or short secret
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
