"""The dual-accept migration away from HS256 tokens: its counts, its end, its old tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from app.dependencies import DemoState, SameOrigin, SignedIn
from app.state import API_AUDIENCE
from snippets.tokens.issue_access_token import issue_access_token

router = APIRouter()


@router.get("/migration")
def migration_counts(state: DemoState) -> dict[str, Any]:
    return {
        "old_usage": state.migration.old_usage(),
        "refused_after_retirement": state.migration.refused_after_retirement(),
    }


@router.post("/migration/retire", dependencies=[SameOrigin])
def migration_retire(state: DemoState, session: SignedIn) -> Response:
    if session.data.get("role") != "admin":
        return JSONResponse({"detail": "admins only"}, 403)
    state.migration.retire()
    return JSONResponse({"retired": True})


@router.post("/legacy/token", dependencies=[SameOrigin])
def legacy_token(state: DemoState, session: SignedIn) -> Response:
    """What old clients were given: an HS256 token, until the migration retires it."""
    token = issue_access_token(
        session.user_id,
        state.legacy_secret,
        algorithm="HS256",
        kid="legacy",
        issuer=state.settings.issuer,
        audience=API_AUDIENCE,
        now=state.now(),
        extra_claims={"sid": session.handle},  # it ends with this session
    )
    return JSONResponse({"access_token": token, "token_type": "Bearer"})
