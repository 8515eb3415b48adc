"""The access-token verifier to copy: PyJWT plus the checks PyJWT leaves to you.

``verify_token`` accepts one algorithm bound to one key, requires ``exp``, ``iat``,
``iss``, ``aud`` and ``sub``, caps the size and lifetime of a token, refuses a token
that is not in strict compact form, has duplicate JSON member names, non-numeric dates
or a ``crit`` header, and ends every failure in one exception type, ``TokenError``.
"""

from __future__ import annotations

# --8<-- [start:setup]
import binascii
import json
import math
import threading
import time
from datetime import timedelta
from typing import Any

import jwt
import jwt.algorithms

from snippets.tokens.keys import check_key

MAX_TOKEN_BYTES = 8 * 1024
DEFAULT_LEEWAY = timedelta(seconds=10)
MAX_LEEWAY = timedelta(seconds=30)
_NO_LEEWAY = timedelta(0)
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
_NOT_COMPACT = "not a compact JWS: three base64url segments, no padding"
# base64url to standard base64 for binascii, as a bytes.translate table: "-" and "_"
# become "+" and "/", "." stays, and every other byte outside base64url's 64 (even "+",
# "/" and "=") becomes "!", which no base64 alphabet has. One table lookup per byte.
_KEPT = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789."
_SWAPPED = {ord("-"): ord("+"), ord("_"): ord("/")}
_TO_STANDARD = bytes(c if c in _KEPT else _SWAPPED.get(c, ord("!")) for c in range(256))
# Canonical base64url: the bits a short last character does not fill must be zero.
_LAST_CHAR = {2: frozenset(b"AQgw"), 3: frozenset(b"AEIMQUYcgkosw048")}


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
    try:
        text = raw.decode("utf-8")
        # An object with no space around it, as every issuer writes one, in one step;
        # anything else by decode(), which adds JSON's rules for surrounding space.
        value, end = _STRICT_JSON.raw_decode(text) if text[:1] == "{" else (None, -1)
        if end != len(text):
            value = _STRICT_JSON.decode(text)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, nested too deep
        raise TokenError(f"malformed token: {part} is not JSON") from None
    if not isinstance(value, dict):
        raise TokenError(f"{part} is not a JSON object")
    return value


def _segments(token: str) -> list[bytes]:
    """The three segments of a compact JWS as standard base64, or TokenError."""
    try:
        standard = token.encode("ascii").translate(_TO_STANDARD)
    except UnicodeEncodeError:
        raise TokenError(_NOT_COMPACT) from None
    segments = standard.split(b".")
    if len(segments) != 3 or b"!" in standard or not all(segments):
        raise TokenError(_NOT_COMPACT)
    return segments


def _b64decode(segment: bytes) -> bytes:
    rest = len(segment) % 4
    if rest == 1 or (rest and segment[-1] not in _LAST_CHAR[rest]):
        raise TokenError("non-canonical base64url")
    return binascii.a2b_base64(segment + b"=" * (-rest % 4), strict_mode=True)


# One issuer writes the same header on every token it signs: a header that passed the
# checks below is kept, by its exact bytes, so the next token with it skips decoding it.
# The cache is bounded; a flood of distinct headers only evicts entries, never grows it.
_HEADERS: dict[bytes, dict[str, Any]] = {}
_HEADERS_MAX = 64
_HEADER_CACHED_BYTES = 512  # a longer header is checked every time, never kept
_CACHE_LOCK = threading.Lock()


def _remember(cache: dict[Any, Any], key: Any, value: Any, limit: int) -> None:
    """Keep ``value`` under ``key``; once ``limit`` are held, drop the oldest."""
    with _CACHE_LOCK:
        if len(cache) >= limit:
            cache.pop(next(iter(cache)))
        cache[key] = value


def _header(segment: bytes) -> dict[str, Any]:
    cached = _HEADERS.get(segment)
    if cached is not None:
        return dict(cached)  # a copy: a caller changing it cannot change the cache
    header = _json_object(_b64decode(segment), "header")
    if "crit" in header or "b64" in header:  # no extension is understood here
        raise TokenError("critical header extensions are not supported")
    if not isinstance(header.get("kid", ""), str):
        raise TokenError("malformed token")
    if len(segment) <= _HEADER_CACHED_BYTES:
        _remember(_HEADERS, segment, dict(header), _HEADERS_MAX)
    return header


def parse_strictly(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Decode a compact JWS strictly: header, claims, signing input and signature.

    Raises:
        TokenError: Not three canonical base64url segments, JSON that is not one object
            with unique member names, NaN or Infinity, a ``crit`` or ``b64`` header, a
            ``kid`` that is not a string, or a date claim that is not a number.
    """
    if not isinstance(token, str):
        raise TokenError(_NOT_COMPACT)
    head, body, signature = _segments(token)
    header = _header(head)
    claims = _json_object(_b64decode(body), "payload")
    for name in ("exp", "iat", "nbf"):
        value = claims.get(name, 0)
        if type(value) not in (int, float) or not math.isfinite(value):
            raise TokenError(f"claim {name!r} must be a JSON number")
    signing_input = token[: token.rindex(".")].encode()
    return header, claims, signing_input, _b64decode(signature)


# PyJWT's algorithm objects (its public ``jwt.algorithms`` API) check the signature.
# A key is prepared (for HS256: PEM, SSH and JWK text refused as a secret) once per key
# object, not on every call. The cache holds the key itself, so while an entry exists
# its id() cannot be reused by another key.
_ALGORITHMS = jwt.algorithms.get_default_algorithms()
_PREPARED: dict[tuple[str, int], tuple[Any, Any]] = {}
_PREPARED_MAX = 64


def _prepared_key(algorithm: str, key: Any) -> Any:
    slot = (algorithm, id(key))  # a key checked for one algorithm is not for another
    entry = _PREPARED.get(slot)
    if entry is not None and entry[0] is key:
        return entry[1]
    check_key(algorithm, key)  # ValueError: the key does not belong to the algorithm
    prepared = _ALGORITHMS[algorithm].prepare_key(key)
    _remember(_PREPARED, slot, (key, prepared), _PREPARED_MAX)
    return prepared


def _check_claims(claims: dict[str, Any], audience: str, issuer: str) -> None:
    """The claim rules of PyJWT's ``jwt.decode`` (a test compares the two), stricter."""
    for name in REQUIRED_CLAIMS:
        if claims.get(name) is None:
            raise TokenError(f"missing required claim {name!r}")
    if claims["iss"] != issuer:
        raise TokenError("issuer not accepted")
    aud = claims["aud"]
    if not aud:  # PyJWT counts an empty aud as a missing one
        raise TokenError("missing required claim 'aud'")
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or not all(type(a) is str for a in audiences):
        raise TokenError("audience not accepted")
    if audience not in audiences:
        raise TokenError("audience not accepted")
    if not isinstance(claims["sub"], str):
        raise TokenError("subject must be a string")
    if not claims["sub"]:
        raise TokenError("empty subject")
    if "jti" in claims and not isinstance(claims["jti"], str):
        raise TokenError("jti must be a string")


# --8<-- [end:strict-parsing]

# --8<-- [start:verify]
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
    prepared = _prepared_key(algorithm, key)  # ValueError for a key of another kind
    if not _NO_LEEWAY <= leeway <= MAX_LEEWAY:
        raise ValueError(f"leeway must be between 0 and {MAX_LEEWAY.seconds} seconds")
    try:
        if isinstance(token, bytes):
            token = token.decode("ascii")
        if not isinstance(token, str):
            raise TokenError("token must be a string")
        if len(token) > MAX_TOKEN_BYTES:  # PyJWT has no size cap
            raise TokenError(f"token longer than {MAX_TOKEN_BYTES} bytes")
        header, claims, signing_input, signature = parse_strictly(token)
        if header.get("alg") != algorithm:  # never the token's choice
            raise TokenError("algorithm not accepted")
        if not _ALGORITHMS[algorithm].verify(signing_input, prepared, signature):
            raise TokenError("signature verification failed")
        if typ is not None and not _typ_matches(header, typ):
            raise TokenError("wrong token type")
        _check_claims(claims, audience, issuer)
        _check_times(claims, time.time() if now is None else now, leeway, max_lifetime)
        return claims
    except TokenError:
        raise
    except Exception:  # some malformed input escapes as another exception
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
