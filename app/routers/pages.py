"""Password login and the session cookie: the pages a browser sees."""

from __future__ import annotations

import html
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.dependencies import (
    DemoState,
    Form,
    OptionalSession,
    SameOrigin,
    SessionId,
    SignedIn,
    client_address,
)
from app.html import page
from app.state import Demo
from app.users import check_password
from snippets.revocation.logout_everywhere import logout_everywhere as end_tokens
from snippets.sessions.session_cookie import build_session_cookie, clear_session_cookie

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(state: DemoState) -> HTMLResponse:
    settings = state.settings
    body = f"""
<p>A demo of both mechanisms: a session cookie for this browser, short-lived JWTs for APIs,
and the conversions between them.</p>
<ul>
<li>JWT signing key ({html.escape(state.algorithm)},
kid <code>{html.escape(state.signer.kid)}</code>):
{html.escape(settings.signing_key_source)}.</li>
<li>Legacy HS256 secret (the migration's old credential):
{html.escape(settings.legacy_key_origin)}.</li>
<li>Identity provider: <code>{html.escape(state.idp_issuer)}</code>
{"(a demo IdP started by this process)" if state.demo_idp else ""}.</li>
<li>Second origin allowed by CORS: {html.escape(", ".join(settings.cors_origins) or "none")}.
</li></ul>
<p>Keys generated at start-up vanish on restart: every session survives (Redis), every JWT
minted before does not. Set <code>APP_SIGNING_KEY_FILE</code> to keep them.</p>
<p><a href="/login">Sign in</a> · <a href="/auth/oidc/start">Sign in with the demo IdP</a> ·
<a href="/.well-known/jwks.json">JWKS</a> · <a href="/migration">Migration counts</a></p>"""
    return page("JWT vs session tokens: demo", body)


@router.get("/login", response_class=HTMLResponse)
def login_page() -> HTMLResponse:
    body = """
<form method="post" action="/login">
<label>User <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password"
required></label> <button type="submit">Sign in</button></form>
<p>Demo users: <code>alice</code> (admin) and <code>bob</code>; the password is in the
server's log, or <code>APP_DEMO_PASSWORD</code>.</p>
<p>Or <a href="/auth/oidc/start">sign in with the demo identity provider</a>.</p>"""
    return page("Sign in", body)


def start_session(
    state: Demo, user_id: str, data: dict[str, Any], old_session: str | None
) -> Response:
    """A fresh session (never the one from before the login) and its cookie."""
    if old_session is not None:
        state.store.destroy(old_session)
    session_id = state.store.create(user_id, data)
    response = RedirectResponse("/account", status_code=303)
    response.headers.append("set-cookie", build_session_cookie(session_id))
    return response


@router.post("/login", dependencies=[SameOrigin])
def login(request: Request, state: DemoState, form: Form, sid: SessionId) -> Response:
    username = form.get("username", "")
    # Before any hashing: 429 past 10 tries per account or 100 per address in 15 min.
    state.throttle.attempt(username, client_address(request))
    user = check_password(state.users, username, form.get("password", ""))
    if user is None:
        return page("Sign in", "<p>Wrong user name or password.</p>", status=401)
    state.throttle.succeeded(username)
    data = {"name": user.username, "role": user.role, "login": "password"}
    return start_session(state, user.user_id, data, sid)


@router.get("/account", response_class=HTMLResponse)
def account(state: DemoState, session: OptionalSession) -> Response:
    if session is None:
        return RedirectResponse("/login", status_code=303)
    count = len(state.store.list_sessions(session.user_id))
    name = session.data.get("name") or session.user_id
    body = f"""
<p>Signed in as <strong>{html.escape(str(name))}</strong> ({html.escape(session.user_id)},
by {html.escape(str(session.data.get("login")))}); {count} live session(s).</p>
<p><a href="/bff/api/me">Call the API through this server</a> (the JWT stays here).</p>
<form method="post" action="/logout"><button>Log out</button></form>
<form method="post" action="/logout-everywhere"><button>Log out everywhere</button></form>"""
    return page("Account", body)


@router.post("/logout", dependencies=[SameOrigin])
def logout(state: DemoState, sid: SessionId) -> Response:
    if sid:
        state.store.destroy(sid)
    response = RedirectResponse("/", status_code=303)
    response.headers.append("set-cookie", clear_session_cookie())
    return response


@router.post("/logout-everywhere", dependencies=[SameOrigin])
def logout_everywhere(state: DemoState, session: SignedIn) -> Response:
    # Every session, so every token minted from one (sid); then every JWT of the user
    # issued so far (the cut-off) and every refresh family.
    ended = state.store.destroy_all(session.user_id)
    end_tokens(
        state.redis,
        issuer=state.settings.issuer,
        subject=session.user_id,
        prefix=state.prefix,
        now=state.settings.now,
    )
    response = RedirectResponse("/", status_code=303)
    response.headers.append("set-cookie", clear_session_cookie())
    response.headers["X-Sessions-Ended"] = str(ended)
    return response
