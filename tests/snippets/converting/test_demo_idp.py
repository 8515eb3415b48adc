"""The stand-in IdP holds the other end of PKCE over real HTTP: what a real IdP would refuse,
it refuses, so the app's tests of the flow prove something."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from snippets.converting import demo_idp
from snippets.converting.demo_idp import (
    AuthorizationRequestRefused,
    DemoIdentityProvider,
    s256,
)

CALLBACK = "http://127.0.0.1:8001/auth/oidc/callback"
VERIFIER = "v" * 43


def _authorize_query(**overrides: str) -> dict[str, str]:
    query = {
        "response_type": "code",
        "client_id": "demo-app",
        "redirect_uri": CALLBACK,
        "scope": "openid",
        "state": "s" * 43,
        "nonce": "n" * 43,
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
    }
    return {**query, **overrides}


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _redeem(idp: DemoIdentityProvider, code: str, **form: str) -> httpx.Response:
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": VERIFIER,
        **form,
    }
    headers = {"Authorization": _basic("demo-app", idp.client_secret)}
    return httpx.post(idp.token_url, data=body, headers=headers)


def test_s256_is_rfc_7636s_example() -> None:
    # RFC 7636 appendix B.
    assert (
        s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_the_authorize_page_sends_the_browser_back_with_a_code(
    idp: DemoIdentityProvider,
) -> None:
    page = httpx.get(idp.authorize_url, params=_authorize_query())
    assert page.status_code == 200 and 'method="get"' in page.text
    assert f'action="{CALLBACK}"' in page.text and 'name="code"' in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


@pytest.mark.parametrize(
    "bad",
    [
        {"response_type": "id_token"},  # the implicit flow: refused
        {"client_id": "another-app"},
        {"redirect_uri": "https://evil.example/auth/oidc/callback"},
        {"redirect_uri": "http://127.0.0.1:8001/elsewhere"},
        {"redirect_uri": "http://127.0.0.1:8001/auth/oidc/callback?x=1"},
        {"scope": "profile"},
        {"state": ""},
        {"nonce": ""},
        {"code_challenge_method": "plain"},
        {"code_challenge": "short"},
    ],
)
def test_an_authorization_request_it_should_not_answer_is_refused(
    idp: DemoIdentityProvider, bad: dict[str, str]
) -> None:
    url = f"{idp.authorize_url}?{urlencode(_authorize_query(**bad))}"
    with pytest.raises(AuthorizationRequestRefused):
        idp.sign_in(url)
    assert httpx.get(url).status_code == 400


def test_a_code_redeems_once_with_the_right_verifier_client_and_redirect(
    idp: DemoIdentityProvider,
) -> None:
    def fresh_code() -> str:
        back = idp.sign_in(f"{idp.authorize_url}?{urlencode(_authorize_query())}")
        return parse_qs(urlsplit(back).query)["code"][0]

    code = fresh_code()
    answer = _redeem(idp, code)
    assert answer.status_code == 200 and answer.json()["token_type"] == "Bearer"
    assert answer.json()["id_token"].count(".") == 2
    assert answer.headers["cache-control"] == "no-store"
    assert _redeem(idp, code).json() == {"error": "invalid_grant"}  # used up
    assert _redeem(idp, fresh_code(), code_verifier="w" * 43).status_code == 400
    assert _redeem(idp, fresh_code(), redirect_uri=CALLBACK + "x").status_code == 400
    assert _redeem(idp, fresh_code(), grant_type="password").json() == {
        "error": "unsupported_grant_type"
    }
    for authorization in [_basic("demo-app", "wrong"), "Bearer x", "Basic !!!", ""]:
        refused = httpx.post(
            idp.token_url,
            data={"code": fresh_code()},
            headers={"Authorization": authorization},
        )
        assert refused.status_code == 401 and refused.json() == {"error": "invalid_client"}


def test_a_code_expires() -> None:
    now = [1000.0]
    idp = DemoIdentityProvider(clock=lambda: now[0])  # not started: called directly
    form = {
        "grant_type": ["authorization_code"],
        "redirect_uri": [CALLBACK],
        "code_verifier": [VERIFIER],
    }
    basic = _basic("demo-app", idp.client_secret)
    fresh = idp.grant("a.b.c", code_challenge=s256(VERIFIER), redirect_uri=CALLBACK)
    stale = idp.grant("a.b.c", code_challenge=s256(VERIFIER), redirect_uri=CALLBACK)
    assert idp.redeem({**form, "code": [fresh]}, basic)[0] == 200
    now[0] += demo_idp.CODE_SECONDS + 1
    assert idp.redeem({**form, "code": [stale]}, basic) == (400, {"error": "invalid_grant"})


def test_an_oversized_or_unsized_token_request_is_refused(idp: DemoIdentityProvider) -> None:
    assert httpx.post(idp.token_url, content=b"x" * 9000).status_code == 400
    assert httpx.post(idp.authorize_url.replace("authorize", "other")).status_code == 404
