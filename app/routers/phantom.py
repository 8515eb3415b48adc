"""The phantom-token pattern: an opaque token outside, a JWT behind the gateway."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from app.dependencies import DemoState, Form, SameOrigin, SignedIn
from app.routers.tokens import api_me_answer, refused
from snippets.converting.phantom_token_gateway import (
    OPAQUE_LIFETIME_SECONDS,
    OpaqueTokenRefused,
    issue_opaque_token,
    revoke_opaque_token,
)

router = APIRouter()


@router.post("/token/opaque", dependencies=[SameOrigin])
def token_opaque(state: DemoState, session: SignedIn) -> Response:
    token = issue_opaque_token(
        state.redis,
        session.user_id,
        scope="api",
        session=session.handle,  # it ends with this session
        prefix=state.prefix,
        now=state.now(),
    )
    return JSONResponse(
        {"access_token": token, "token_type": "Bearer", "expires_in": OPAQUE_LIFETIME_SECONDS}
    )


@router.post("/token/opaque/revoke")
def token_opaque_revoke(state: DemoState, form: Form) -> Response:
    revoke_opaque_token(state.redis, form.get("token"), prefix=state.prefix)  # RFC 7009
    return JSONResponse({})


@router.get("/gateway/api/me")
def gateway_api_me(request: Request, state: DemoState) -> Response:
    try:
        forwarded = state.gateway.forward_headers(request.headers.get("authorization"))
    except OpaqueTokenRefused:
        return refused()
    inner = forwarded["Authorization"].removeprefix("Bearer ")
    return api_me_answer(state, inner)  # the service behind the gateway sees the JWT only
