"""The access-token verifier to copy: PyJWT plus the checks PyJWT leaves to you.

``verify_token`` accepts one algorithm bound to one key, requires ``exp``, ``iat``,
``iss``, ``aud`` and ``sub``, caps the size and lifetime of a token, refuses a token
that is not in strict compact form, has duplicate JSON member names, non-numeric dates
or a ``crit`` header, and ends every failure in one exception type, ``TokenError``.
"""

from __future__ import annotations

# --8<-- [start:setup]
import base64
import json
import math
import re
import time
from datetime import timedelta
from typing import Any

import jwt

from snippets.tokens.keys import check_key

MAX_TOKEN_BYTES = 8 * 1024
DEFAULT_LEEWAY = timedelta(seconds=10)
MAX_LEEWAY = timedelta(seconds=30)
DEFAULT_MAX_LIFETIME = timedelta(hours=1)
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub")
# --8<-- [end:setup]


# --8<-- [start:error]
class TokenError(jwt.InvalidTokenError):
    """The one exception ``verify_token`` raises for a token it refuses.

    Its message says what was wrong in a few words and never repeats the token or any
    value taken from it, so it is safe to log. Answer it with HTTP 401.
    """


# --8<-- [end:error]


# --8<-- [start:strict-parsing]
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# Canonical base64url: the bits a short last character does not fill must be zero.
_LAST_CHAR = {2: frozenset("AQgw"), 3: frozenset("AEIMQUYcgkosw048")}


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise TokenError("duplicate member name in JSON")
    return obj


def _no_constant(_: str) -> None:
    raise TokenError("NaN or Infinity in JSON")


_STRICT_JSON = json.JSONDecoder(
    object_pairs_hook=_unique_members, parse_constant=_no_constant
)


def _json_object(raw: bytes, part: str) -> dict[str, Any]:
    value = _STRICT_JSON.decode(raw.decode("utf-8"))
    if not isinstance(value, dict):
        raise TokenError(f"{part} is not a JSON object")
    return value


def _b64decode(segment: str) -> bytes:
    rest = len(segment) % 4
    if rest == 1 or (rest and segment[-1] not in _LAST_CHAR[rest]):
        raise TokenError("non-canonical base64url")
    return base64.urlsafe_b64decode(segment + "=" * (-rest % 4))


def parse_strictly(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Decode a compact JWS's header and claims strictly, before PyJWT sees the token.

    PyJWT then verifies the very same bytes through its public ``decode_complete``: a
    token that passes here parses to the same header and claims there, so no private
    PyJWT method needs replacing.

    Raises:
        TokenError: Not three canonical base64url segments, JSON that is not one object
            with unique member names, NaN or Infinity, a ``crit`` header, or a date
            claim that is not a number.
    """
    if not _COMPACT.fullmatch(token):
        raise TokenError("not a compact JWS: three base64url segments, no padding")
    head, body, signature = token.split(".")
    header = _json_object(_b64decode(head), "header")
    if "crit" in header:  # no extension is understood here, so none may be critical
        raise TokenError("critical header extensions are not supported")
    claims = _json_object(_b64decode(body), "payload")
    _b64decode(signature)
    for name in ("exp", "iat", "nbf"):
        value = claims.get(name)
        if name in claims and (
            type(value) not in (int, float) or not math.isfinite(value)
        ):
            raise TokenError(f"claim {name!r} must be a JSON number")
    return header, claims


# PyJWT checks the signature, the presence of the required claims, aud, iss, sub and
# jti; the times are checked below against the caller's clock.
_OPTIONS: jwt.types.Options = {
    "require": list(REQUIRED_CLAIMS),
    "verify_exp": False,
    "verify_iat": False,
    "verify_nbf": False,
}
# --8<-- [end:strict-parsing]

# --8<-- [start:verify]
_MESSAGES = {
    jwt.InvalidSignatureError: "signature verification failed",
    jwt.InvalidAlgorithmError: "algorithm not accepted",
    jwt.InvalidAudienceError: "audience not accepted",
    jwt.InvalidIssuerError: "issuer not accepted",
    jwt.exceptions.InvalidSubjectError: "subject must be a string",
    jwt.exceptions.InvalidJTIError: "jti must be a string",
}


def _typ_matches(header: dict[str, Any], typ: str) -> bool:
    # RFC 7515: typ compares case-insensitively and may omit the "application/" prefix.
    value = header.get("typ")
    if not isinstance(value, str):
        return False
    value = value.lower()
    return value.removeprefix("application/") == typ.lower().removeprefix(
        "application/"
    )


def verify_token(
    token: str | bytes,
    key: Any,
    *,
    algorithm: str,
    audience: str,
    issuer: str,
    typ: str | None = None,
    leeway: timedelta = DEFAULT_LEEWAY,
    max_lifetime: timedelta = DEFAULT_MAX_LIFETIME,
    now: float | None = None,
) -> dict[str, Any]:
    """Verify a signed access token and return its claims.

    Args:
        token: The compact JWT exactly as received; treated as hostile.
        key: The one key this verifier trusts: bytes of at least 32 for HS256, otherwise
            a public key object (RSA for RS256, EC P-256 for ES256, Ed25519 for EdDSA).
        algorithm: The one algorithm bound to ``key``; the token's ``alg`` must equal
            it.
        audience: This service's identifier; ``aud`` must be it or a list holding it.
        issuer: The exact ``iss`` expected.
        typ: If given, the ``typ`` header required, e.g. ``"at+jwt"`` (RFC 9068) so that
            an ID token is not accepted as an access token.
        leeway: Clock skew allowed on ``exp``, ``iat`` and ``nbf`` (at most 30 seconds).
        max_lifetime: Largest ``exp - iat`` accepted.
        now: Current time in seconds since the epoch; ``time.time()`` when omitted.

    Returns:
        The token's claims.

    Raises:
        TokenError: The token is refused; the message says why.
        ValueError: The verifier itself is misconfigured (wrong key kind, leeway too
            large).
    """
    check_key(algorithm, key)  # the key must be of the algorithm's kind
    if not timedelta(0) <= leeway <= MAX_LEEWAY:
        raise ValueError(f"leeway must be between 0 and {MAX_LEEWAY.seconds} seconds")
    try:
        if isinstance(token, bytes):
            token = token.decode("ascii")
        if not isinstance(token, str):
            raise TokenError("token must be a string")
        if len(token) > MAX_TOKEN_BYTES:  # PyJWT has no size cap
            raise TokenError(f"token longer than {MAX_TOKEN_BYTES} bytes")
        header, claims = parse_strictly(token)
        jwt.decode_complete(  # PyJWT's public API: signature, aud, iss, sub, jti
            token,
            key,
            algorithms=[algorithm],
            audience=audience,
            issuer=issuer,
            options=_OPTIONS,
        )
        if typ is not None and not _typ_matches(header, typ):
            raise TokenError("wrong token type")
        _check_times(claims, time.time() if now is None else now, leeway, max_lifetime)
        if not claims["sub"]:
            raise TokenError("empty subject")
        return claims
    except TokenError:
        raise
    except jwt.MissingRequiredClaimError as exc:
        raise TokenError(f"missing required claim {exc.claim!r}") from None
    except jwt.InvalidTokenError as exc:
        raise TokenError(_MESSAGES.get(type(exc), "malformed token")) from None
    except Exception:  # some malformed input escapes PyJWT as another exception
        raise TokenError("malformed token") from None


def _check_times(
    claims: dict[str, Any], now: float, leeway: timedelta, max_lifetime: timedelta
) -> None:
    skew = leeway.total_seconds()
    exp, iat = claims["exp"], claims["iat"]
    if iat > now + skew or claims.get("nbf", iat) > now + skew:
        raise TokenError("token not valid yet")
    if exp <= now - skew:
        raise TokenError("token has expired")
    if not 0 < exp - iat <= max_lifetime.total_seconds():
        raise TokenError("token lifetime out of range")


# --8<-- [end:verify]


def main() -> None:
    # --8<-- [start:demo]
    from snippets.tokens.issue_access_token import issue_access_token
    from snippets.tokens.keys import load_hmac_secret

    secret = load_hmac_secret("JWT_SECRET")
    token = issue_access_token(
        "user-42",
        secret,
        algorithm="HS256",
        kid="hs-2026-11",
        issuer="https://auth.example.com",
        audience="https://api.example.com",
    )
    claims = verify_token(
        token,
        secret,
        algorithm="HS256",
        typ="at+jwt",
        audience="https://api.example.com",
        issuer="https://auth.example.com",
    )
    print(claims["sub"], claims["exp"] - claims["iat"])
    #> user-42 900
    forged = token.rsplit(".", 1)[0] + "." + "A" * 43
    for bad in [token + "=", "x" * 9000, token.replace(".", "..", 1), forged]:
        try:
            verify_token(
                bad,
                secret,
                algorithm="HS256",
                audience="https://api.example.com",
                issuer="https://auth.example.com",
            )
        except TokenError as exc:
            print(exc)
            #> not a compact JWS: three base64url segments, no padding
            #> token longer than 8192 bytes
            #> not a compact JWS: three base64url segments, no padding
            #> signature verification failed
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
