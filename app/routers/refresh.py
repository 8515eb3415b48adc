"""Refresh tokens for a browser app, in a cookie no script can read.

``POST /token/refresh/login`` checks a password and starts a refresh family; the refresh
token goes only into ``__Secure-refresh``: ``HttpOnly`` (page scripts, an XSS included,
never see it), ``Secure``, ``SameSite=Strict`` and ``Path=/token/refresh`` (sent to these
endpoints and nowhere else). ``POST /token/refresh`` rotates it and answers a short-lived
access token in the body, which the page keeps in memory. Both are state-changing
requests authenticated by a cookie, so both check the origin first. Two tabs refreshing
at once get the same successor (the rotation's grace window); a reuse after it revokes
the family and clears the cookie.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from app.dependencies import DemoState, Form, SameOrigin, client_address
from app.state import API_AUDIENCE, Demo
from app.users import check_password
from snippets.revocation.revoke_access_token import TokenRefused
from snippets.revocation.rotate_refresh_token import (
    REFRESH_LIFETIME,
    issue_refresh_token,
    revoke_refresh_family,
    rotate_refresh_token,
)
from snippets.tokens.issue_access_token import issue_access_token

router = APIRouter()

REFRESH_COOKIE = "__Secure-refresh"
REFRESH_PATH = "/token/refresh"
ACCESS_LIFETIME = timedelta(minutes=5)


def _cookie(value: str, max_age: int) -> str:
    return (
        f"{REFRESH_COOKIE}={value}; Path={REFRESH_PATH}; Max-Age={max_age}; "
        "HttpOnly; Secure; SameSite=Strict"
    )


def _refresh_cookie(request: Request) -> str | None:
    values = [
        v.strip()
        for n, sep, v in (p.partition("=") for p in request.headers.get("cookie", "").split(";"))
        if sep and n.strip() == REFRESH_COOKIE
    ]
    return values[0] if len(values) == 1 else None  # twice: neither is trusted


def _tokens(state: Demo, subject: str, refresh_token: str, issued_at: float) -> Response:
    access = issue_access_token(
        subject,
        state.signer.key,
        algorithm=state.signer.algorithm,
        kid=state.signer.kid,
        issuer=state.settings.issuer,
        audience=API_AUDIENCE,
        lifetime=ACCESS_LIFETIME,
        now=issued_at,  # the rotation's time: "log out everywhere" cuts it off
    )
    body = {"access_token": access, "token_type": "Bearer", "expires_in": 300}
    response = JSONResponse(body)  # no refresh_token in the body: scripts could read it
    response.headers.append("set-cookie", _cookie(refresh_token, REFRESH_LIFETIME))
    return response


def _refused() -> Response:
    response = JSONResponse({"detail": "not signed in"}, 401)
    response.headers.append("set-cookie", _cookie("", 0))
    return response


@router.post("/token/refresh/login", dependencies=[SameOrigin])
def refresh_login(request: Request, state: DemoState, form: Form) -> Response:
    username = form.get("username", "")
    state.throttle.attempt(username, client_address(request))
    user = check_password(state.users, username, form.get("password", ""))
    if user is None:
        return JSONResponse({"detail": "wrong user name or password"}, 401)
    state.throttle.succeeded(username)
    now = state.now()
    token = issue_refresh_token(
        state.redis,
        issuer=state.settings.issuer,
        subject=user.user_id,
        prefix=state.prefix,
        now=lambda: now,
    )
    return _tokens(state, user.user_id, token, now)


@router.post("/token/refresh", dependencies=[SameOrigin])
def refresh(request: Request, state: DemoState) -> Response:
    try:
        rotation = rotate_refresh_token(
            state.redis, _refresh_cookie(request), prefix=state.prefix, now=state.now
        )
    except TokenRefused:
        return _refused()
    return _tokens(state, rotation.subject, rotation.refresh_token, rotation.issued_at)


@router.post("/token/refresh/logout", dependencies=[SameOrigin])
def refresh_logout(request: Request, state: DemoState) -> Response:
    token = _refresh_cookie(request)
    if token is not None:
        with contextlib.suppress(TokenRefused):  # malformed: nothing to revoke
            revoke_refresh_family(state.redis, token, prefix=state.prefix)
    return _refused()
