"""ID token to session (backend for frontend): the browser only ever gets the cookie."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.dependencies import DemoState, SessionId, client_address, own_origin
from app.html import page
from app.routers.tokens import api_me_answer
from app.state import API_AUDIENCE, EXCHANGE_AUDIENCES
from snippets.converting.exchange_session_for_jwt import ExchangeRefused, exchange_session_for_jwt
from snippets.converting.id_token_to_session import (
    IdentityProviderUnavailable,
    LoginRefused,
    authorization_url,
    begin_login,
    complete_login,
)
from snippets.sessions.login_throttle import check_rate
from snippets.sessions.session_cookie import build_session_cookie

log = logging.getLogger("app")
router = APIRouter()

STATE_COOKIE = "__Host-oidc-state"


def _read_cookie(request: Request, name: str) -> str | None:
    header = request.headers.get("cookie", "")
    values = [
        v.strip()
        for n, sep, v in (p.partition("=") for p in header.split(";"))
        if sep and n.strip() == name
    ]
    return values[0] if len(values) == 1 else None


@router.get("/auth/oidc/start")
def oidc_start(request: Request, state: DemoState) -> Response:
    # Each start writes a key: what one address can make Redis hold stays bounded.
    check_rate(
        state.redis,
        "oidc-start",
        client_address(request),
        limit=30,
        window_seconds=60,
        prefix=state.prefix,
    )
    login_request = begin_login(
        state.redis,
        redirect_uri=own_origin(request) + "/auth/oidc/callback",
        prefix=state.prefix,
    )
    to_idp = authorization_url(
        state.authorize_url, login_request, client_id=state.settings.client_id
    )
    response = RedirectResponse(to_idp, status_code=303)
    # Binds the callback to this browser. The IdP sends the browser back with a top-level
    # GET, which carries a SameSite=Lax cookie.
    response.headers.append(
        "set-cookie",
        f"{STATE_COOKIE}={login_request.state}; Path=/; Secure; HttpOnly; "
        "SameSite=Lax; Max-Age=300",
    )
    return response


@router.get("/auth/oidc/callback")
def oidc_callback(request: Request, state: DemoState, sid: SessionId) -> Response:
    # The IdP sends the browser here: no Origin to check. The state, bound to this
    # browser's cookie and used once, refuses forged callbacks; PKCE refuses stolen codes.
    query = request.query_params

    def one(name: str) -> str | None:
        values = query.getlist(name)
        return values[0] if len(values) == 1 else None

    try:
        if one("iss") not in {None, state.idp_issuer}:  # RFC 9207: another IdP's answer
            raise LoginRefused("the answer names another issuer")
        session_id = complete_login(
            state.redis,
            state.store,
            state.id_tokens,
            state.token_endpoint,
            state=one("state"),
            browser_state=_read_cookie(request, STATE_COOKIE),
            code=one("code"),
            previous_session=sid,
            prefix=state.prefix,
            now=state.now(),
        )
    except IdentityProviderUnavailable as exc:
        log.warning("login: identity provider unavailable: %s", exc)
        answer = page("Sign in", "<p>Sign-in is unavailable. Try again shortly.</p>", 503)
        answer.headers["Retry-After"] = "5"
        return answer
    except LoginRefused as exc:
        log.info("login refused: %s", exc)
        return page("Sign in", "<p>Login failed. <a href='/login'>Try again</a>.</p>", 400)
    response = RedirectResponse("/account", status_code=303)
    response.headers.append("set-cookie", build_session_cookie(session_id))
    response.headers.append(
        "set-cookie",
        f"{STATE_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0",
    )
    return response


@router.get("/bff/api/me")
def bff_api_me(state: DemoState, sid: SessionId) -> Response:
    """The server exchanges the session and calls the API; the browser sees data only."""
    try:
        token = exchange_session_for_jwt(
            state.store,
            sid,
            audience=API_AUDIENCE,
            allowed_audiences=EXCHANGE_AUDIENCES,
            signer=state.signer,
            now=state.now(),
        )
    except ExchangeRefused:
        return api_me_answer(state, None)
    return api_me_answer(state, token)
