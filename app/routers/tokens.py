"""Session to JWT (token exchange), and the APIs that take a bearer JWT."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from app.dependencies import BearerToken, DemoState, JsonBody, SameOriginOrListed, SessionId
from app.state import API_AUDIENCE, EXCHANGE_AUDIENCES, REPORTS_AUDIENCE, Demo, still_valid
from snippets.converting.dual_accept_migration import CredentialRefused
from snippets.converting.exchange_session_for_jwt import (
    ExchangeRefused,
    exchange_session_for_jwt,
    session_is_live,
    verify_exchanged_token,
)
from snippets.frameworks.guards import answer_for
from snippets.tokens.keys import build_jwks
from snippets.tokens.verify_token import TokenError, verify_token

router = APIRouter()


def refused() -> JSONResponse:
    """The one answer to a bearer token that is missing, invalid or refused."""
    answer = answer_for(TokenError("refused"))
    return JSONResponse(answer.body, answer.status, headers=answer.headers)


@router.post("/token/exchange", dependencies=[SameOriginOrListed])
def token_exchange(state: DemoState, body: JsonBody, sid: SessionId) -> Response:
    audience = body.get("audience", API_AUDIENCE)
    if not isinstance(audience, str):
        return JSONResponse({"detail": "audience must be a string"}, 400)
    try:
        token = exchange_session_for_jwt(
            state.store,
            sid,
            audience=audience,
            allowed_audiences=EXCHANGE_AUDIENCES,
            signer=state.signer,
            now=state.now(),
        )
    except ExchangeRefused as exc:
        if "audience" in str(exc):
            return JSONResponse({"detail": "audience not allowed"}, 403)
        return JSONResponse({"detail": "no live session"}, 401)
    claims = verify_token(
        token,
        state.public_key,
        algorithm=state.algorithm,
        audience=audience,
        issuer=state.settings.issuer,
        now=state.now(),
    )
    return JSONResponse(
        {"access_token": token, "token_type": "Bearer", "expires_in": claims["exp"] - claims["iat"]}
    )


@router.get("/.well-known/jwks.json")
def jwks(state: DemoState) -> dict[str, Any]:
    return build_jwks([(state.signer.kid, state.public_key)])


def api_me_answer(state: Demo, token: str | None) -> Response:
    """/api/me: a new (EdDSA) or, until the migration retires them, an old HS256 token."""
    if token is None:
        return refused()
    try:
        who = state.migration.authenticate(new=token, old=token)
    except CredentialRefused:
        return refused()
    return JSONResponse({"sub": who.user_id, "via": who.via})


@router.get("/api/me")
def api_me(state: DemoState, token: BearerToken) -> Response:
    return api_me_answer(state, token)


@router.get("/api/strict/me")
def api_strict_me(state: DemoState, token: BearerToken) -> Response:
    """Also checks that the session behind the token's ``sid`` is still live."""
    claims = verify_exchanged_token(
        token,
        state.public_key,
        algorithm=state.algorithm,
        audience=API_AUDIENCE,
        issuer=state.settings.issuer,
        now=state.now(),
    )
    still_valid(state.auth, claims)  # revoked, logged out, or its session has ended
    if not session_is_live(state.redis, claims["sid"], prefix=state.prefix, now=state.now()):
        return refused()  # (verify_exchanged_token requires a sid)
    return JSONResponse({"sub": claims["sub"], "session": "live"})


@router.get("/reports/summary")
def reports_summary(state: DemoState, token: BearerToken) -> Response:
    claims = verify_token(
        token,
        state.public_key,
        algorithm=state.algorithm,
        typ="at+jwt",
        audience=REPORTS_AUDIENCE,
        issuer=state.settings.issuer,
        now=state.now(),
    )
    still_valid(state.auth, claims)
    return JSONResponse({"sub": claims["sub"], "report": "3 orders this week"})
