"""The demo application over real HTTP with a real Redis: each pattern, and its abuse."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

from app.settings import Settings
from snippets.converting.demo_idp import DemoIdentityProvider
from snippets.tokens.issue_access_token import issue_access_token
from tests.app.conftest import (
    JWT_PATTERN,
    PASSWORD,
    SECOND_ORIGIN,
    USERS,
    AppServer,
    Browser,
    idp_settings,
    serve_app,
)
from tests.helpers import ManualClock

API, REPORTS = "urn:demo:api", "urn:demo:reports"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- password login and the session cookie ---


def test_login_sets_only_a_host_prefixed_secure_httponly_cookie(browser: Browser) -> None:
    response = browser.login()
    assert response.status_code == 303
    (cookie,) = response.headers.get_list("set-cookie")
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert cookie.startswith("__Host-session=")
    assert {"secure", "httponly", "path", "samesite"} <= attributes
    assert "domain" not in attributes
    page = browser.get("/account")
    assert page.status_code == 200 and "alice" in page.text


def test_wrong_password_and_unknown_user_are_refused_alike(browser: Browser) -> None:
    assert browser.login(password="wrong").status_code == 401
    assert browser.login(username="mallory").status_code == 401
    assert browser.cookies == {}
    assert browser.get("/account", follow_redirects=False).status_code == 303


def test_login_from_another_origin_is_refused(browser: Browser) -> None:
    assert browser.login(origin="https://evil.example").status_code == 403
    assert browser.login(origin=None).status_code == 403  # no evidence: refused
    assert browser.cookies == {}


def test_home_page_says_where_the_signing_keys_come_from(browser: Browser) -> None:
    page = browser.get("/").text
    assert "generated at start-up" in page
    assert browser.get("/.well-known/jwks.json").json()["keys"][0]["alg"] == "EdDSA"


# --- session to JWT ---


def test_exchange_gives_a_short_lived_jwt_for_one_audience(browser: Browser) -> None:
    browser.login()
    response = browser.exchange(API)
    assert response.status_code == 200
    body = response.json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["aud"] == API and len(claims["sid"]) == 64
    assert claims["exp"] - claims["iat"] == body["expires_in"] == 300
    assert browser.cookies["__Host-session"] not in body["access_token"]  # sid is a hash
    token = body["access_token"]
    assert browser.get("/api/me", headers=bearer(token)).json() == {"sub": "u-alice", "via": "new"}
    assert browser.get("/api/strict/me", headers=bearer(token)).status_code == 200


def test_token_for_audience_a_is_refused_by_service_b(browser: Browser) -> None:
    browser.login()
    api_token = browser.exchange(API).json()["access_token"]
    reports_token = browser.exchange(REPORTS).json()["access_token"]
    assert browser.get("/reports/summary", headers=bearer(reports_token)).status_code == 200
    refused = browser.get("/reports/summary", headers=bearer(api_token))
    assert refused.status_code == 401  # the answer says nothing about why
    assert refused.json() == {"detail": "invalid or missing bearer token"}
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert browser.get("/api/me", headers=bearer(reports_token)).status_code == 401
    assert browser.exchange("urn:somewhere:else").status_code == 403


def test_an_expired_session_cannot_exchange(app_server: AppServer, browser: Browser) -> None:
    browser.login()
    app_server.clock.advance(31 * 60)  # idle timeout is 30 minutes
    response = browser.exchange(API)
    assert response.status_code == 401 and response.json()["detail"] == "no live session"
    assert browser.get("/account", follow_redirects=False).status_code == 303


def test_no_session_and_cross_site_cannot_exchange(browser: Browser) -> None:
    assert browser.exchange(API).status_code == 401
    browser.login()
    assert browser.exchange(API, origin="https://evil.example").status_code == 403


def test_logout_is_seen_at_once_by_the_sid_check(browser: Browser) -> None:
    browser.login()
    token = browser.exchange(API).json()["access_token"]
    assert browser.post("/logout").status_code == 303
    assert "__Host-session" not in browser.cookies
    # Nothing minted from the session outlives it: both APIs check its sid now.
    for path in ("/api/me", "/api/strict/me"):
        refused = browser.get(path, headers=bearer(token))
        assert refused.status_code == 401
        assert refused.json() == {"detail": "invalid or missing bearer token"}


def test_stateless_api_refuses_the_token_once_it_expires(
    app_server: AppServer, browser: Browser
) -> None:
    browser.login()
    token = browser.exchange(API).json()["access_token"]
    app_server.clock.advance(5 * 60 + 11)  # lifetime plus the verifier's 10 s leeway
    assert browser.get("/api/me", headers=bearer(token)).status_code == 401


def test_logout_everywhere_ends_every_session_of_the_user(app_server: AppServer) -> None:
    laptop, phone, other = (app_server.browser() for _ in range(3))
    laptop.login()
    phone.login()
    other.login(username="bob")
    response = laptop.post("/logout-everywhere")
    assert response.headers["X-Sessions-Ended"] == "2"
    assert phone.get("/account", follow_redirects=False).status_code == 303
    assert phone.exchange(API).status_code == 401
    assert other.get("/account").status_code == 200


# --- ID token to session (BFF) ---


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action, self.fields = "", {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.action = values["action"] or ""
        if tag == "input" and values.get("name"):
            self.fields[values["name"]] = values.get("value") or ""


def idp_login(browser: Browser, idp: DemoIdentityProvider) -> tuple[httpx.Response, dict]:
    """Follow the login to the IdP and back; return the callback's response and the form."""
    start = browser.get("/auth/oidc/start", follow_redirects=False)
    assert start.status_code == 303
    with httpx.Client() as outside:  # the IdP's own page is not one of the app's responses
        idp_page = outside.get(start.headers["location"])
    assert idp_page.status_code == 200
    form = _Form()
    form.feed(idp_page.text)
    callback = browser.get(urlsplit(form.action).path, params=form.fields, follow_redirects=False)
    return callback, form.fields


def test_bff_login_gives_the_browser_a_session_cookie_and_no_token(
    browser: Browser, idp: DemoIdentityProvider
) -> None:
    browser.get("/login")
    callback, fields = idp_login(browser, idp)
    assert callback.status_code == 303 and "__Host-session" in browser.cookies
    assert set(fields) == {"code", "state", "iss"}  # a code, not a token, comes back
    assert "Dana" in browser.get("/account").text
    assert browser.get("/bff/api/me").json()["via"] == "new"  # the server used a JWT
    assert browser.post("/logout").status_code == 303
    for response in browser.seen:  # every response the browser got: bodies, headers, cookies
        everything = response.text + "".join(f"{k}: {v}\n" for k, v in response.headers.items())
        assert not JWT_PATTERN.search(everything), response.url
    assert len(browser.seen) == 6  # login page, start, callback, account, bff, logout


def test_bff_login_sends_a_pkce_code_request_and_a_lax_state_cookie(
    browser: Browser, idp: DemoIdentityProvider
) -> None:
    start = browser.get("/auth/oidc/start", follow_redirects=False)
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["response_type"] == ["code"] and query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43 and "code_verifier" not in query
    (cookie,) = start.headers.get_list("set-cookie")
    assert cookie.startswith(f"__Host-oidc-state={query['state'][0]};")
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie and "Path=/;" in cookie


def test_bff_callback_refuses_replay_foreign_state_stolen_codes_and_wrong_tokens(
    app_server: AppServer, browser: Browser, idp: DemoIdentityProvider
) -> None:
    callback, fields = idp_login(browser, idp)
    assert callback.status_code == 303
    browser.cookies["__Host-oidc-state"] = fields["state"]
    replay = browser.get("/auth/oidc/callback", params=fields)
    assert replay.status_code == 400  # the state was used once
    assert "Login failed" in replay.text and "invalid_grant" not in replay.text  # generic

    def attempt(
        kind: str = "id",
        *,
        cookie_state: str | None = "same",
        challenge: str | None = None,
        iss: str | None = None,
        nonce: str | None = None,
        **claims: object,
    ) -> int:
        b = app_server.browser()
        start = b.get("/auth/oidc/start", follow_redirects=False)
        query = parse_qs(urlsplit(start.headers["location"]).query)
        state, nonce = query["state"][0], nonce or query["nonce"][0]
        if cookie_state != "same":
            b.cookies["__Host-oidc-state"] = cookie_state or ""
        typ = "JWT" if kind == "id" else "at+jwt"  # same IdP, key and audience
        code = idp.grant(
            idp.issue_id_token(nonce=nonce, typ=typ, **claims),
            code_challenge=challenge or query["code_challenge"][0],
            redirect_uri=query["redirect_uri"][0],
        )
        params = {"state": state, "code": code, "iss": iss or idp.issuer}
        return b.get("/auth/oidc/callback", params=params).status_code

    assert attempt() == 303  # the control: a fair login passes
    assert attempt("access") == 400  # an access token is refused where an ID token is due
    assert attempt(audience="another-client") == 400
    assert attempt(cookie_state="A" * 43) == 400  # state from another browser
    assert attempt(now=app_server.clock() - 3600) == 400  # expired
    assert attempt(nonce="not-the-nonce-of-this-login") == 400
    assert attempt(challenge="C" * 43) == 400  # a code granted to another login's PKCE
    assert attempt(iss="https://another-idp.example") == 400  # RFC 9207 mix-up
    assert attempt() == 303  # and nothing above stopped the next fair login


def test_bff_callback_answers_503_when_the_idp_cannot_be_reached(
    redis_url: str, key_prefix: str, idp: DemoIdentityProvider
) -> None:
    clock = ManualClock(time.time())
    down = {**idp_settings(idp), "idp_token_url": "http://127.0.0.1:9/token"}  # refused
    settings = Settings(
        redis_url=redis_url, redis_prefix=key_prefix, demo_users=USERS, now=clock, **down
    )
    with serve_app(settings, clock) as server:
        b = server.browser()
        start = b.get("/auth/oidc/start", follow_redirects=False)
        query = parse_qs(urlsplit(start.headers["location"]).query)
        code = idp.grant(
            idp.issue_id_token(nonce=query["nonce"][0]),
            code_challenge=query["code_challenge"][0],
            redirect_uri=query["redirect_uri"][0],
        )
        params = {"state": query["state"][0], "code": code}
        response = b.get("/auth/oidc/callback", params=params)
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert "unavailable" in response.text and "127.0.0.1:9" not in response.text


def test_an_id_token_is_refused_where_an_access_token_is_due(
    browser: Browser, idp: DemoIdentityProvider
) -> None:
    id_token = idp.issue_id_token(nonce="n", audience=API)
    assert browser.get("/api/me", headers=bearer(id_token)).status_code == 401
    assert browser.get("/reports/summary", headers=bearer(id_token)).status_code == 401


# --- phantom token ---


def test_gateway_swaps_the_opaque_token_for_a_jwt(app_server: AppServer, browser: Browser) -> None:
    browser.login()
    opaque = browser.post("/token/opaque").json()["access_token"]
    assert not JWT_PATTERN.search(opaque) and re.fullmatch(r"[A-Za-z0-9_-]{43}", opaque)
    assert browser.get("/gateway/api/me", headers=bearer(opaque)).json() == {
        "sub": "u-alice",
        "via": "new",
    }
    assert browser.get("/api/me", headers=bearer(opaque)).status_code == 401  # inside: JWT only
    assert browser.get("/gateway/api/me", headers=bearer("A" * 43)).status_code == 401
    assert browser.get("/gateway/api/me").status_code == 401

    browser.post("/token/opaque/revoke", data={"token": opaque})
    # Cached for at most phantom_cache_seconds (10 s): still accepted right now...
    assert browser.get("/gateway/api/me", headers=bearer(opaque)).status_code == 200
    app_server.clock.advance(app_server.settings.phantom_cache_seconds)
    # ...and refused once the cache entry has run out.
    assert browser.get("/gateway/api/me", headers=bearer(opaque)).status_code == 401


# --- migration ---


def test_dual_accept_counts_the_old_token_then_retires_it(
    app_server: AppServer, browser: Browser
) -> None:
    browser.login()
    old = browser.post("/legacy/token").json()["access_token"]
    new = browser.exchange(API).json()["access_token"]
    assert browser.get("/api/me", headers=bearer(old)).json()["via"] == "old"
    assert browser.get("/api/me", headers=bearer(old)).json()["via"] == "old"
    assert browser.get("/api/me", headers=bearer(new)).json()["via"] == "new"
    assert sum(browser.get("/migration").json()["old_usage"].values()) == 2

    bob = app_server.browser()
    bob.login(username="bob")
    assert bob.post("/migration/retire").status_code == 403  # admins only
    assert browser.post("/migration/retire", origin="https://evil.example").status_code == 403
    assert browser.post("/migration/retire").status_code == 200

    assert browser.get("/api/me", headers=bearer(old)).status_code == 401
    assert browser.get("/api/me", headers=bearer(new)).status_code == 200
    assert browser.get("/migration").json()["refused_after_retirement"] == 1


def test_a_forged_old_token_is_not_counted_or_accepted(browser: Browser) -> None:
    forged = issue_access_token(
        "u-alice",
        b"x" * 32,
        algorithm="HS256",
        kid="legacy",
        issuer="urn:jwt-vs-sessions:demo-app",
        audience=API,
    )
    assert browser.get("/api/me", headers=bearer(forged)).status_code == 401
    assert sum(browser.get("/migration").json()["old_usage"].values()) == 0


# --- CORS ---


def test_cors_allows_the_listed_origin_with_credentials(browser: Browser) -> None:
    preflight = browser.request(
        "OPTIONS",
        "/token/exchange",
        origin=None,
        headers={
            "Origin": SECOND_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == SECOND_ORIGIN
    assert preflight.headers["access-control-allow-credentials"] == "true"
    browser.login()
    response = browser.exchange(API, origin=SECOND_ORIGIN)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SECOND_ORIGIN


def test_cors_rejects_an_unlisted_origin(browser: Browser) -> None:
    preflight = browser.request(
        "OPTIONS",
        "/token/exchange",
        origin=None,
        headers={"Origin": "http://127.0.0.1:9999", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    browser.login()
    response = browser.exchange(API, origin="http://127.0.0.1:9999")
    assert response.status_code == 403  # the server refuses it too, not only the browser
    assert "access-control-allow-origin" not in response.headers
    read = browser.get("/api/me", headers={"Origin": "http://127.0.0.1:9999"})
    assert "access-control-allow-origin" not in read.headers


def test_the_demo_users_password_is_checked_by_argon2id_at_owasps_parameters() -> None:
    from app.users import check_password, make_demo_users

    users = make_demo_users(PASSWORD)
    alice, bob = users["alice"].password_hash, users["bob"].password_hash
    assert PASSWORD not in alice
    # OWASP Password Storage Cheat Sheet: Argon2id, m=19 MiB, t=2, p=1 (scrypt N=2^14 was
    # below its minimum).
    assert alice.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert alice.split("$")[4] != bob.split("$")[4]  # a salt of its own
    assert check_password(users, "alice", PASSWORD) is users["alice"]
    assert check_password(users, "alice", PASSWORD + "x") is None
    assert check_password(users, "nobody", PASSWORD) is None
    assert check_password(users, "alice", "x" * 100_000) is None  # no hashing of megabytes


def test_nothing_minted_from_a_session_outlives_its_logout(
    app_server: AppServer, browser: Browser
) -> None:
    """Logout used to leave an opaque token working at the gateway for its hour, and a
    legacy HS256 token for its 15 minutes."""
    browser.login()
    exchanged = browser.exchange(API).json()["access_token"]
    opaque = browser.post("/token/opaque").json()["access_token"]
    legacy = browser.post("/legacy/token").json()["access_token"]
    checks = [("/api/me", exchanged), ("/gateway/api/me", opaque), ("/api/me", legacy)]
    assert all(browser.get(p, headers=bearer(t)).status_code == 200 for p, t in checks)
    assert browser.post("/logout").status_code == 303
    app_server.clock.advance(app_server.settings.phantom_cache_seconds + 1)  # gateway cache
    for path, token in checks:
        assert browser.get(path, headers=bearer(token)).status_code == 401, path


def test_log_out_everywhere_ends_what_every_device_minted(app_server: AppServer) -> None:
    laptop, phone = app_server.browser(), app_server.browser()
    laptop.login()
    phone.login()
    minted = [
        ("/api/me", phone.exchange(API).json()["access_token"]),
        ("/gateway/api/me", phone.post("/token/opaque").json()["access_token"]),
        ("/api/me", phone.post("/legacy/token").json()["access_token"]),
        ("/reports/summary", phone.exchange(REPORTS).json()["access_token"]),
    ]
    assert all(phone.get(p, headers=bearer(t)).status_code == 200 for p, t in minted)
    assert laptop.post("/logout-everywhere").status_code == 303
    app_server.clock.advance(app_server.settings.phantom_cache_seconds + 1)
    for path, token in minted:
        assert phone.get(path, headers=bearer(token)).status_code == 401, path


def _rss_bytes() -> int:
    import os

    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_a_huge_body_is_refused_before_it_is_read(browser: Browser) -> None:
    """A 64 MiB cross-site POST used to be read whole before the 16 KiB check (the server's
    memory grew by about 113 MiB). The app runs in this process, so its memory is ours."""
    declared = browser.http.post(
        browser.base_url + "/login",
        content=b"x" * (64 * 1024 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert declared.status_code == 413
    before = _rss_bytes()

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(1024):
            yield b"x" * (64 * 1024)

    try:
        streamed = browser.http.post(
            browser.base_url + "/login",
            content=chunks(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": browser.base_url,  # same-origin, so the form is read
            },
        )
        assert streamed.status_code == 413
    except httpx.TransportError:
        pass  # the server closed the connection mid-upload, as it may
    assert _rss_bytes() - before < 32 * 1024 * 1024
    assert browser.login().status_code == 303  # and it still serves


def test_an_unknown_host_is_refused(browser: Browser) -> None:
    """The app builds its own origin from Host, which the CSRF check compares with."""
    response = browser.get("/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    forged = browser.post(
        "/login",
        headers={"Host": "evil.example", "Origin": "http://evil.example"},
        data={"username": "alice", "password": PASSWORD},
    )
    assert forged.status_code == 400 and "__Host-session" not in browser.cookies


def test_password_guessing_is_throttled_with_retry_after(app_server: AppServer) -> None:
    """30 wrong passwords in 2 seconds used to get 30 plain 401s."""
    guesser, user = app_server.browser(), app_server.browser()
    answers = [guesser.login(password=f"guess-{n}").status_code for n in range(12)]
    assert answers[:10] == [401] * 10
    refused = guesser.login(password="guess-12")
    assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= 900
    assert refused.json() == {"detail": "too many attempts, try again later"}
    assert guesser.login().status_code == 429  # even the right password, until the window ends
    assert user.login(username="bob").status_code == 303  # other accounts log in as usual


def test_anonymous_login_starts_are_bounded_per_address(browser: Browser) -> None:
    """Each start writes a Redis key; unbounded, they could fill Redis."""
    answers = [browser.get("/auth/oidc/start").status_code for _ in range(31)]
    assert answers[:30] == [303] * 30 and answers[30] == 429


# --- refresh tokens for a browser app: an HttpOnly cookie, two tabs at once ---


def _refresh_login(browser: Browser) -> httpx.Response:
    return browser.post("/token/refresh/login", data={"username": "alice", "password": PASSWORD})


def test_the_refresh_token_travels_only_in_an_httponly_path_scoped_cookie(browser: Browser) -> None:
    response = _refresh_login(browser)
    assert response.status_code == 200
    assert set(response.json()) == {"access_token", "token_type", "expires_in"}  # no refresh
    (cookie,) = response.headers.get_list("set-cookie")
    name, _, rest = cookie.partition("=")
    attributes = {a.strip().split("=")[0].lower(): a.strip() for a in rest.split(";")[1:]}
    assert name == "__Secure-refresh"
    assert {"httponly", "secure"} <= set(attributes)
    assert (
        attributes["path"] == "Path=/token/refresh" and attributes["samesite"] == "SameSite=Strict"
    )
    access = response.json()["access_token"]
    assert browser.get("/api/me", headers=bearer(access)).json()["sub"] == "u-alice"
    again = browser.post("/token/refresh")
    assert again.status_code == 200 and again.json()["access_token"] != access
    assert browser.post("/token/refresh", origin="https://evil.example").status_code == 403


def test_two_tabs_refreshing_at_once_stay_logged_in(app_server: AppServer) -> None:
    """Eight requests carry the same refresh cookie at the same moment (real threads over
    HTTP): every one gets a new access token and the same new cookie."""
    import threading

    first = app_server.browser()
    assert _refresh_login(first).status_code == 200
    tabs = [app_server.browser() for _ in range(8)]
    for tab in tabs:
        tab.cookies = dict(first.cookies)
    barrier = threading.Barrier(len(tabs))
    answers: list[httpx.Response] = []

    def refresh(tab: Browser) -> None:
        barrier.wait()
        answers.append(tab.post("/token/refresh"))

    threads = [threading.Thread(target=refresh, args=(tab,)) for tab in tabs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [200] * 8
    assert len({tab.cookies["__Secure-refresh"] for tab in tabs}) == 1
    assert tabs[0].post("/token/refresh").status_code == 200  # nobody was logged out


def test_a_refresh_cookie_reused_after_the_window_logs_the_family_out(
    app_server: AppServer,
) -> None:
    victim, thief = app_server.browser(), app_server.browser()
    _refresh_login(victim)
    thief.cookies = dict(victim.cookies)  # a copy of the cookie
    access = victim.post("/token/refresh").json()["access_token"]
    app_server.clock.advance(60)
    refused = thief.post("/token/refresh")
    assert refused.status_code == 401 and "__Secure-refresh" not in thief.cookies
    assert victim.post("/token/refresh").status_code == 401  # the family is revoked
    assert victim.get("/api/me", headers=bearer(access)).status_code == 401  # and cut off


def test_two_pages_of_one_chromium_context_refresh_at_once(app_server: AppServer, chromium) -> None:  # type: ignore[no-untyped-def]
    """Two tabs of one real browser fire their refresh at the same instant; both stay in."""
    context = chromium.new_context()
    try:
        pages = [context.new_page() for _ in range(2)]
        for page in pages:
            page.goto(app_server.base_url + "/.well-known/jwks.json")  # no CSP on JSON
        login = pages[0].evaluate(
            """async (password) => (await fetch('/token/refresh/login', {method: 'POST',
                 headers: {'Content-Type': 'application/x-www-form-urlencoded'},
                 body: 'username=alice&password=' + encodeURIComponent(password)})).status""",
            PASSWORD,
        )
        assert login == 200
        assert "__Secure-refresh" not in pages[0].evaluate("document.cookie")  # HttpOnly
        start = pages[0].evaluate("Date.now()") + 300  # the same instant in both tabs
        for page in pages:
            page.evaluate(
                """(at) => { window.refreshed = new Promise((done) => setTimeout(async () => {
                     const r = await fetch('/token/refresh', {method: 'POST'});
                     done(r.status); }, at - Date.now())); }""",
                start,
            )
        assert [page.evaluate("window.refreshed") for page in pages] == [200, 200]
        after = pages[1].evaluate(
            "async () => (await fetch('/token/refresh', {method: 'POST'})).status"
        )
        assert after == 200  # nobody was logged out
    finally:
        context.close()


def test_every_token_response_says_no_store(browser: Browser) -> None:
    """RFC 6749, section 5.1: a response carrying a token must not be cached."""
    browser.login()
    answers = [
        browser.exchange(API),
        browser.post("/token/opaque"),
        browser.post("/legacy/token"),
        _refresh_login(browser),
        browser.post("/token/refresh"),
        browser.get("/account"),
    ]
    assert [a.status_code for a in answers] == [200] * 6
    assert all(a.headers.get_list("cache-control") == ["no-store"] for a in answers)
