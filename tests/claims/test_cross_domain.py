"""Cross-domain: a bearer token verifies at a service on another domain that holds only the
published keys; a session cookie goes back to its own host and nowhere else."""

from __future__ import annotations

import email.message
import json
import urllib.request
from http.cookiejar import CookieJar

import jwt
import pytest

from snippets.sessions.session_cookie import build_session_cookie, read_session_cookie
from snippets.tokens.keys import build_jwks
from snippets.tokens.verify_token import verify_token
from tests.claims.conftest import AUDIENCE, ISSUER, T0, Keys

SESSION_ID = "k" * 43  # the shape the store issues; the jar does not care about the value


def test_a_service_on_another_domain_verifies_with_the_published_keys(keys: Keys) -> None:
    token = keys.issue("user-42")
    # All the other service knows: the issuer's public JWKS document, fetched as JSON.
    published = json.dumps(build_jwks([(f"{keys.algorithm}-1", keys.verifying)]))
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWKSet.from_json(published)[kid].key
    claims = verify_token(
        token, key, algorithm="EdDSA", audience=AUDIENCE, issuer=ISSUER, now=T0 + 1
    )
    assert claims["sub"] == "user-42"


class _Response:
    """Just enough of an HTTP response for ``CookieJar.extract_cookies``."""

    def __init__(self, set_cookie: str) -> None:
        self._headers = email.message.Message()
        self._headers["Set-Cookie"] = set_cookie

    def info(self) -> email.message.Message:
        return self._headers


def _cookie_sent_to(jar: CookieJar, url: str) -> str | None:
    request = urllib.request.Request(url)  # noqa: S310 - built, never opened
    jar.add_cookie_header(request)
    return read_session_cookie(request.get_header("Cookie"))


@pytest.mark.parametrize(
    ("url", "sent"),
    [
        ("https://app.example.com/account", True),
        ("https://api.example.com/orders", False),  # a sibling subdomain
        ("https://example.com/", False),  # the parent domain
        ("https://partner.example.org/", False),  # another site
        ("http://app.example.com/account", False),  # the same host without TLS
    ],
)
def test_the_session_cookie_is_bound_to_the_host_that_set_it(url: str, sent: bool) -> None:
    jar = CookieJar()  # the standard library's RFC 6265-style browser cookie policy
    login = urllib.request.Request("https://app.example.com/login", method="POST")
    jar.extract_cookies(_Response(build_session_cookie(SESSION_ID)), login)
    assert (_cookie_sent_to(jar, url) == SESSION_ID) is sent
