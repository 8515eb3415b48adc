from __future__ import annotations

import json
import time
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from snippets.tokens.issue_access_token import issue_access_token
from snippets.tokens.verify_token import MAX_TOKEN_BYTES, TokenError, verify_token
from tests.snippets.tokens.conftest import AUDIENCE, ISSUER, KeyPair, good_claims, sign_raw

NOW = 1_700_000_000.0


def verify(token, pair: KeyPair, **kw):
    kw.setdefault("now", NOW)
    return verify_token(
        token, pair.verifying, algorithm=pair.algorithm, audience=AUDIENCE, issuer=ISSUER, **kw
    )


def issue(pair: KeyPair, **kw) -> str:
    kw.setdefault("now", NOW)
    return issue_access_token(
        "user-42",
        pair.signing,
        algorithm=pair.algorithm,
        kid="k1",
        issuer=ISSUER,
        audience=AUDIENCE,
        **kw,
    )


def test_legitimate_token_verifies(pair: KeyPair) -> None:
    claims = verify(issue(pair), pair, typ="at+jwt")
    assert claims["sub"] == "user-42"
    assert claims["exp"] - claims["iat"] == 900


def test_bytes_token_verifies(pair: KeyPair) -> None:
    assert verify(issue(pair).encode(), pair)["sub"] == "user-42"


def test_audience_list_containing_ours_is_accepted(pair: KeyPair) -> None:
    token = sign_raw(pair, {"alg": pair.algorithm}, good_claims(NOW, aud=["x", AUDIENCE]))
    assert verify(token, pair)["aud"] == ["x", AUDIENCE]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"aud": "https://other.example.com"}, "audience not accepted"),
        ({"aud": ["https://other.example.com"]}, "audience not accepted"),
        ({"aud": []}, "missing required claim 'aud'"),
        ({"iss": "https://auth.example.com/"}, "issuer not accepted"),
        ({"iss": "https://AUTH.example.com"}, "issuer not accepted"),
        ({"sub": 42}, "subject must be a string"),
        ({"sub": ""}, "empty subject"),
        ({"exp": None}, "missing required claim 'exp'"),
        ({"iat": None}, "missing required claim 'iat'"),
        ({"iss": None}, "missing required claim 'iss'"),
        ({"aud": None}, "missing required claim 'aud'"),
        ({"sub": None}, "missing required claim 'sub'"),
        ({"exp": NOW - 11}, "token has expired"),
        ({"iat": NOW + 11}, "token not valid yet"),
        ({"nbf": NOW + 11}, "token not valid yet"),
        ({"iat": NOW - 7200, "exp": NOW + 60}, "token lifetime out of range"),
        ({"exp": NOW - 5, "iat": NOW - 5}, "token lifetime out of range"),
        ({"exp": "1900000000"}, "claim 'exp' must be a JSON number"),
        ({"iat": True}, "claim 'iat' must be a JSON number"),
        ({"nbf": "0"}, "claim 'nbf' must be a JSON number"),
        ({"exp": float("inf")}, "NaN or Infinity in JSON"),
    ],
)
def test_bad_claims_are_refused(pair: KeyPair, changes: dict, message: str) -> None:
    token = sign_raw(pair, {"alg": pair.algorithm}, good_claims(NOW, **changes))
    with pytest.raises(TokenError) as info:
        verify(token, pair)
    assert str(info.value) == message


def test_pyjwt_alone_accepts_string_dates_and_duplicates(pair: KeyPair) -> None:
    """What verify_token adds: bare jwt.decode takes these tokens."""
    claims = good_claims(exp="9999999999")
    string_exp = sign_raw(pair, {"alg": pair.algorithm}, claims)
    options = {"require": ["exp", "iat", "iss", "aud", "sub"]}
    bare = jwt.decode(
        string_exp,
        pair.verifying,
        algorithms=[pair.algorithm],
        audience=AUDIENCE,
        issuer=ISSUER,
        options=options,
    )
    assert bare["exp"] == "9999999999"
    payload = json.dumps(good_claims())[:-1] + ', "sub": "admin"}'
    dup = sign_raw(pair, {"alg": pair.algorithm}, payload.encode())
    bare = jwt.decode(
        dup,
        pair.verifying,
        algorithms=[pair.algorithm],
        audience=AUDIENCE,
        issuer=ISSUER,
        options=options,
    )
    assert bare["sub"] == "admin"  # last one wins
    with pytest.raises(TokenError, match="duplicate member name"):
        verify(dup, pair, now=None)


def test_leeway_and_max_lifetime_are_configurable(pair: KeyPair) -> None:
    token = issue(pair, lifetime=timedelta(hours=2))
    with pytest.raises(TokenError, match="lifetime"):
        verify(token, pair)
    assert verify(token, pair, max_lifetime=timedelta(hours=2))["sub"] == "user-42"
    expired = issue(pair, now=NOW - 905)
    assert verify(expired, pair, leeway=timedelta(seconds=10))
    with pytest.raises(TokenError, match="expired"):
        verify(expired, pair, leeway=timedelta(seconds=0))


def test_now_defaults_to_the_clock(pair: KeyPair) -> None:
    assert verify(issue(pair, now=time.time()), pair, now=None)["sub"] == "user-42"
    with pytest.raises(TokenError, match="expired"):
        verify(issue(pair), pair, now=None)  # issued in 2023, long expired by the real clock


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ('{"alg": "%s", "alg": "none"}', "duplicate member name in JSON"),
        ('{"alg": "%s", "crit": ["exp"], "exp": 1}', "critical header extensions"),
        ('{"alg": "%s", "crit": ["b64"], "b64": true}', "critical header extensions"),
        ('{"alg": "%s", "kid": 7}', "malformed token"),
        ('["%s"]', "header is not a JSON object"),
        ('{"alg": "%s", "x": NaN}', "NaN or Infinity in JSON"),
        ('{"alg": "%s"', "malformed token"),
    ],
)
def test_bad_headers_are_refused(pair: KeyPair, header: str, message: str) -> None:
    token = sign_raw(pair, (header % pair.algorithm).encode(), good_claims(NOW))
    with pytest.raises(TokenError, match=message):
        verify(token, pair)


def test_payload_must_be_an_object_without_duplicates(pair: KeyPair) -> None:
    for payload, message in [
        (b"[1]", "payload is not a JSON object"),
        (b'{"a": {"b": 1, "b": 2}}', "duplicate member name"),
        (b"\xff", "malformed token"),
        (json.dumps(good_claims(NOW))[:-1].encode() + b', "exp": 1e400}', "duplicate member name"),
        (
            json.dumps(good_claims(NOW, exp=None))[:-1].encode() + b', "exp": 1e400}',
            "claim 'exp' must be a JSON number",
        ),
    ]:
        with pytest.raises(TokenError, match=message):
            verify(sign_raw(pair, {"alg": pair.algorithm}, payload), pair)


def test_required_typ_tells_access_from_id_tokens(pair: KeyPair) -> None:
    id_token = issue(pair, typ="JWT")
    assert verify(id_token, pair)["sub"] == "user-42"  # typ not asked for
    with pytest.raises(TokenError, match="wrong token type"):
        verify(id_token, pair, typ="at+jwt")
    assert verify(issue(pair, typ="application/AT+JWT"), pair, typ="at+jwt")


def test_other_algorithm_is_refused(pairs: dict[str, KeyPair]) -> None:
    for signer in pairs.values():
        for verifier in pairs.values():
            if signer is not verifier:
                with pytest.raises(TokenError, match="algorithm not accepted"):
                    verify(issue(signer), verifier)


def test_alg_none_is_refused(pair: KeyPair) -> None:
    token = jwt.encode(good_claims(NOW), None, algorithm="none")
    with pytest.raises(TokenError, match="not a compact JWS"):
        verify(token, pair)
    with pytest.raises(TokenError, match="algorithm not accepted"):
        verify(token + "AAAA", pair)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda t: t + "=", "not a compact JWS"),
        (lambda t: t.replace(".", "=.", 1), "not a compact JWS"),
        (lambda t: t + ".", "not a compact JWS"),
        (lambda t: t + ".abc", "not a compact JWS"),
        (lambda t: " " + t, "not a compact JWS"),
        (lambda t: t + "\n", "not a compact JWS"),
        (lambda t: t.replace("-", "+").replace("_", "/") + "+/", "not a compact JWS"),
        (lambda t: t + "A", "non-canonical|signature"),
        (lambda t: t.split(".")[0] + "B.x.y", "non-canonical|malformed"),
        (lambda t: "é" + t, "not a compact JWS"),
        (lambda t: "a" * (MAX_TOKEN_BYTES + 1), "longer than 8192"),
    ],
)
def test_malformed_compact_form_is_refused(pair: KeyPair, mangle, message: str) -> None:
    with pytest.raises(TokenError, match=message):
        verify(mangle(issue(pair)), pair)


def test_non_canonical_last_character_is_refused(pair: KeyPair) -> None:
    """The same bytes spelled with non-zero spare bits, in the claims and in the signature:
    PyJWT >= 2.12 refuses it too, verify_token does first."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # Pad the claims until their base64url leaves spare bits in its last character.
    for filler in range(3):
        token = sign_raw(pair, {"alg": pair.algorithm}, good_claims(NOW, pad="x" * filler))
        if len(token.split(".")[1]) % 4 in (2, 3):
            break
    head, payload, sig = token.split(".")
    assert len(payload) % 4 in (2, 3) and len(sig) % 4 in (2, 3)
    assert verify(token, pair)["sub"] == "user-42"  # the canonical spelling verifies
    for index, part in ((1, payload), (2, sig)):
        parts = [head, payload, sig]
        parts[index] = part[:-1] + alphabet[alphabet.index(part[-1]) + 1]
        with pytest.raises(TokenError, match="non-canonical"):
            verify(".".join(parts), pair)


@pytest.mark.parametrize("value", [None, 42, ["a.b.c"], b"\xff.a.b", ""])
def test_non_string_input_is_refused(pair: KeyPair, value) -> None:
    with pytest.raises(TokenError):
        verify(value, pair)


def test_messages_never_echo_the_token(pair: KeyPair) -> None:
    marker = "SECRETMARKER"
    cases = [
        sign_raw(pair, {"alg": pair.algorithm, "crit": [marker], marker: 1}, good_claims(NOW)),
        sign_raw(pair, {"alg": pair.algorithm}, good_claims(NOW, aud=marker)),
        sign_raw(pair, {"alg": pair.algorithm}, good_claims(NOW, iss=marker)),
        sign_raw(pair, {"alg": pair.algorithm}, good_claims(NOW, exp=marker)),
        sign_raw(pair, {"alg": marker}, good_claims(NOW)),
        sign_raw(pair, {"alg": pair.algorithm}, b'{"' + marker.encode() + b'": x}'),
    ]
    for token in cases:
        with pytest.raises(TokenError) as info:
            verify(token, pair)
        assert marker not in str(info.value)
        assert info.value.__cause__ is None  # PyJWT's message, which may quote it, is dropped
        assert info.value.__context__ is None or info.value.__suppress_context__


def test_token_error_is_an_invalid_token_error() -> None:
    assert issubclass(TokenError, jwt.InvalidTokenError)


def test_misconfigured_key_is_a_value_error(pairs: dict[str, KeyPair]) -> None:
    rsa_public = pairs["RS256"].verifying
    pem = rsa_public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    wrong = [
        ("HS256", pem),
        ("HS256", pem.decode()),
        ("HS256", b"short"),
        ("HS256", rsa_public),
        ("RS256", pem),
        ("RS256", pairs["RS256"].signing),
        ("ES256", p384),
        ("ES256", pairs["EdDSA"].verifying),
        ("EdDSA", rsa_public),
        ("HS512", b"x" * 64),
        ("none", None),
    ]
    token = issue(pairs["RS256"])
    for algorithm, key in wrong:
        with pytest.raises(ValueError):
            verify_token(token, key, algorithm=algorithm, audience=AUDIENCE, issuer=ISSUER)


def test_leeway_over_thirty_seconds_is_refused(pair: KeyPair) -> None:
    with pytest.raises(ValueError, match="leeway"):
        verify(issue(pair), pair, leeway=timedelta(minutes=5))


# --- property-based: random and mutated tokens never verify, never raise anything else ---


from snippets.tokens.keys import ALGORITHMS  # noqa: E402
from tests.snippets.tokens.conftest import _PAIRS, b64  # noqa: E402

_ORIGINALS = {alg: issue(_PAIRS[alg]) for alg in ALGORITHMS}
_CHARS = st.sampled_from(
    list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \x00é")
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    alg = draw(st.sampled_from(ALGORITHMS))
    token = _ORIGINALS[alg]
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, max(len(token) - 1, 0)))
        op = draw(st.sampled_from(["replace", "insert", "delete", "truncate", "swap", "repeat"]))
        if op == "replace":
            token = token[:i] + draw(_CHARS) + token[i + 1 :]
        elif op == "insert":
            token = token[:i] + draw(_CHARS) + token[i:]
        elif op == "delete":
            token = token[:i] + token[i + 1 :]
        elif op == "truncate":
            token = token[:i]
        elif op == "swap":
            parts = token.split(".")
            token = ".".join(draw(st.permutations(parts)))
        else:
            parts = token.split(".")
            token = ".".join(parts[:1] + parts)
    return alg, token


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=10,
)


@st.composite
def forged(draw: st.DrawFn) -> tuple[str, str]:
    """Well-formed tokens with hostile JSON, signed by someone without the key."""
    alg = draw(st.sampled_from(ALGORITHMS))
    header = draw(
        st.dictionaries(
            st.sampled_from(["alg", "typ", "kid", "crit", "jwk", "b64"]), _JSON, max_size=4
        )
    )
    if draw(st.booleans()):
        header["alg"] = alg
    claims = draw(
        st.dictionaries(
            st.sampled_from(["iss", "aud", "sub", "iat", "exp", "nbf"]), _JSON, max_size=6
        )
    )
    claims = {**good_claims(NOW), **claims} if draw(st.booleans()) else claims
    signature = draw(st.binary(min_size=1, max_size=300))
    raw = [json.dumps(header).encode(), json.dumps(claims).encode(), signature]
    return alg, ".".join(b64(part) for part in raw)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        mutated(),
        forged(),
        st.tuples(st.sampled_from(ALGORITHMS), st.text(max_size=400)),
        st.tuples(st.sampled_from(ALGORITHMS), st.binary(max_size=400)),
    )
)
def test_random_and_mutated_tokens_never_verify(case: tuple[str, str | bytes]) -> None:
    alg, token = case
    if token == _ORIGINALS[alg]:
        return
    try:
        verify(token, _PAIRS[alg])
    except TokenError:
        return
    raise AssertionError("a random or mutated token verified")


# verify_token checks the claims itself (PyJWT's algorithm objects check the signature), so a
# property test holds it to PyJWT's own rules: whatever verify_token accepts, jwt.decode with the
# same key, algorithm, audience, issuer and required claims accepts too. The times are left to
# the controlled-clock tests above: PyJWT reads the real clock, which would make this flaky.

_ODD = st.sampled_from([None, "", 0, 1, True, [], {}, "x", ["x"], [1], {"a": 1}])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(iss=ISSUER, aud=AUDIENCE, sub="user-42", jti="j-1", lifetime=900, skew=0)
@given(
    iss=st.one_of(st.just(ISSUER), st.just([ISSUER]), _ODD),
    aud=st.one_of(st.just(AUDIENCE), st.just(["x", AUDIENCE]), st.just([AUDIENCE, 1]), _ODD),
    sub=st.one_of(st.just("user-42"), _ODD),
    jti=st.one_of(st.just("j-1"), _ODD),
    lifetime=st.sampled_from([-60, 0, 1, 900, 3600, 3601]),
    skew=st.sampled_from([-11, -10, 0, 10, 11]),
)
def test_never_accepts_what_pyjwt_refuses(
    pairs: dict[str, KeyPair],
    iss: object,
    aud: object,
    sub: object,
    jti: object,
    lifetime: int,
    skew: int,
) -> None:
    hs256 = pairs["HS256"]
    now = int(time.time())
    claims = {
        "iss": iss,
        "aud": aud,
        "sub": sub,
        "jti": jti,
        "iat": now + skew,
        "exp": now + skew + lifetime,
    }
    token = sign_raw(hs256, {"alg": "HS256"}, {k: v for k, v in claims.items() if v is not None})
    try:
        accepted = verify(token, hs256, now=now)
    except TokenError:
        return
    decoded = jwt.decode(
        token,
        hs256.verifying,
        algorithms=["HS256"],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={
            "require": ["exp", "iat", "iss", "aud", "sub"],
            "verify_exp": False,
            "verify_iat": False,
            "verify_nbf": False,
        },
    )
    assert decoded == accepted


def test_header_cache_is_bounded_and_never_holds_a_refused_header(pair: KeyPair) -> None:
    from snippets.tokens import verify_token as module

    bad = sign_raw(pair, {"alg": pair.algorithm, "crit": ["exp"]}, good_claims(NOW))
    for _ in range(3):  # refused the second time too: a refused header is never kept
        with pytest.raises(TokenError, match="critical header extensions"):
            verify(bad, pair)
    for i in range(3 * module._HEADERS_MAX):  # a flood of distinct, valid headers
        token = sign_raw(pair, {"alg": pair.algorithm, "kid": f"k{i}"}, good_claims(NOW))
        assert verify(token, pair)["sub"] == "user-42"
    assert len(module._HEADERS) <= module._HEADERS_MAX
    header, *_ = module.parse_strictly(token)
    header["alg"] = "none"  # a caller changing what it got cannot change the cache
    assert module.parse_strictly(token)[0]["alg"] == pair.algorithm
