"""What the pages say about PyJWT's own behaviour, checked against the installed PyJWT.

Each test names the page and the sentence it backs. The pages state the version these were
checked on (``PyJWT 2.15.1``); upgrading PyJWT fails `test_the_pages_name_the_installed_pyjwt`
until someone reruns this file and updates the pages, and fails the test of any sentence the
new version makes untrue.
"""

from __future__ import annotations

import re
import warnings

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.helpers import ROOT

VERSION_MENTION = re.compile(r"PyJWT (\d+\.\d+\.\d+)")


def test_the_pages_name_the_installed_pyjwt() -> None:
    mentions = {
        (page.name, version)
        for page in (ROOT / "docs").glob("*.md")
        for version in VERSION_MENTION.findall(page.read_text())
    }
    assert mentions, "the pages should say which PyJWT their statements were checked on"
    stale = {m for m in mentions if m[1] != jwt.__version__}
    assert not stale, f"installed PyJWT is {jwt.__version__}; recheck these pages: {stale}"


def test_none_is_not_verified_even_when_asked() -> None:
    """security-pitfalls.md: "PyJWT ... no longer verifies `none` even when asked to"."""
    token = jwt.encode({"sub": "mallory"}, None, algorithm="none")
    for key in (None, ""):
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(token, key, algorithms=["none"])


def test_an_rsa_public_key_is_refused_as_an_hmac_secret_outside_invalid_token_error() -> None:
    """security-pitfalls.md: "PyJWT now refuses a PEM ... key as HMAC secret, but with
    `InvalidKeyError`, which is not an `InvalidTokenError`"."""
    public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(jwt.InvalidKeyError):
        jwt.encode({"sub": "mallory"}, pem, algorithm="HS256")
    assert not issubclass(jwt.InvalidKeyError, jwt.InvalidTokenError)


def test_exp_is_checked_only_when_the_token_carries_one() -> None:
    """security-pitfalls.md: "PyJWT checks `exp` only when the token carries one"."""
    secret = "k" * 32
    forever = jwt.encode({"sub": "u"}, secret, algorithm="HS256")
    assert jwt.decode(forever, secret, algorithms=["HS256"]) == {"sub": "u"}
    expired = jwt.encode({"sub": "u", "exp": 1}, secret, algorithm="HS256")
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(expired, secret, algorithms=["HS256"])


def test_a_short_hmac_key_warns_and_signs_anyway() -> None:
    """security-pitfalls.md: "PyJWT warns about a short key and signs anyway"."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        token = jwt.encode({"sub": "u"}, "secret", algorithm="HS256")
    assert any("HMAC key" in str(w.message) for w in caught), [str(w.message) for w in caught]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert jwt.decode(token, "secret", algorithms=["HS256"]) == {"sub": "u"}


def test_pyjwt_only_signs_and_verifies() -> None:
    """faq.md: "PyJWT only signs and verifies (JWS)": no JWE API, and a five-part JWE
    compact token is not something it can read."""
    assert not [name for name in dir(jwt) if "encrypt" in name.lower() or "jwe" in name.lower()]
    with pytest.raises(jwt.DecodeError):
        jwt.decode("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", "k" * 32, algorithms=["HS256"])
