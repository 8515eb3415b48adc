"""Three application processes, one Redis: what one process does, the others see at once."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from snippets.converting.demo_idp import DemoIdentityProvider
from snippets.tokens.issue_access_token import issue_access_token
from tests.app.conftest import JWT_PATTERN, SECOND_ORIGIN, AppProcesses, Browser
from tests.app.test_app import _Form, bearer


def test_sessions_tokens_and_logout_are_shared_by_every_process(
    app_processes: AppProcesses, idp: DemoIdentityProvider
) -> None:
    a, b, c = app_processes.base_urls
    browser = Browser(a)
    other = Browser(a)
    try:
        # A session created on A is valid on B and C; a JWT minted on C is verified on A.
        assert browser.login(base_url=a).status_code == 303
        other.login(base_url=b)
        assert browser.get("/account", base_url=b).status_code == 200
        token = browser.exchange(base_url=c).json()["access_token"]
        assert browser.get("/api/strict/me", base_url=a, headers=bearer(token)).status_code == 200
        assert (
            browser.get("/.well-known/jwks.json", base_url=b).json()
            == browser.get("/.well-known/jwks.json", base_url=c).json()
        )

        # CORS with credentials from the second origin, on any process; others refused.
        assert browser.exchange(base_url=b, origin=SECOND_ORIGIN).status_code == 200
        assert browser.exchange(base_url=b, origin="http://127.0.0.1:9").status_code == 403

        # Logout on B is seen at once by A and C, even if the old cookie is replayed.
        dead_cookie = browser.cookies["__Host-session"]
        assert browser.post("/logout", base_url=b).status_code == 303
        browser.cookies["__Host-session"] = dead_cookie
        assert other.get("/account", base_url=c).status_code == 200  # other sessions live on
        for url in (a, c):
            assert browser.get("/account", base_url=url, follow_redirects=False).status_code == 303
            assert browser.exchange(base_url=url).status_code == 401
            refused = browser.get("/api/strict/me", base_url=url, headers=bearer(token))
            assert refused.status_code == 401

        # Logout everywhere on C ends alice's sessions made on A and B (``other``'s too).
        first, second = Browser(a), Browser(b)
        first.login(base_url=a)
        second.login(base_url=b)
        assert first.post("/logout-everywhere", base_url=c).headers["X-Sessions-Ended"] == "3"
        assert second.get("/account", base_url=a, follow_redirects=False).status_code == 303
        assert other.get("/account", base_url=b, follow_redirects=False).status_code == 303
        first.close()
        second.close()

        # BFF login started on A, called back on B (the state is in Redis), used on C.
        bff = Browser(a)
        start = bff.get("/auth/oidc/start", base_url=a, follow_redirects=False)
        with httpx.Client() as outside:
            form = _Form()
            form.feed(outside.get(start.headers["location"]).text)
        callback = bff.get(
            urlsplit(form.action).path, base_url=b, params=form.fields, follow_redirects=False
        )
        assert callback.status_code == 303
        assert "Dana" in bff.get("/account", base_url=c).text
        assert not any(JWT_PATTERN.search(r.text + str(r.headers)) for r in bff.seen)
        bff.close()

        # The migration's count adds up across processes; retiring on one retires everywhere.
        old = issue_access_token(
            "u-bob",
            app_processes.legacy_secret,
            algorithm="HS256",
            kid="legacy",
            issuer="urn:jwt-vs-sessions:demo-app",
            audience="urn:demo:api",
        )
        assert browser.get("/api/me", base_url=a, headers=bearer(old)).json()["via"] == "old"
        assert browser.get("/api/me", base_url=b, headers=bearer(old)).json()["via"] == "old"
        assert sum(browser.get("/migration", base_url=c).json()["old_usage"].values()) == 2
        admin = Browser(a)
        admin.login(base_url=a)
        assert admin.post("/migration/retire", base_url=a).status_code == 200
        admin.close()
        for url in (b, c):
            assert browser.get("/api/me", base_url=url, headers=bearer(old)).status_code == 401
    finally:
        browser.close()
        other.close()
