"""The checks several endpoints share, as FastAPI dependencies.

- `DemoState`: the application's parts (app.state).
- `SameOrigin` and `SameOriginOrListed`: the CSRF check of state-changing requests; a
  cross-site request raises `Forbidden` (403).
- `OptionalSession` and `SignedIn`: the session of the request, from the store (a
  missing one is ``None``, or `NotSignedIn`: 401).
- `BearerToken`: the raw bearer token of the ``Authorization`` header, or ``TokenError``
  (401 with ``WWW-Authenticate``).
- `Form` and `JsonBody`: a small urlencoded or JSON body, never more than 16 KiB.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import Depends, Request

from app.state import Demo
from snippets.frameworks.guards import NotSignedIn, bearer_token
from snippets.sessions.csrf_check import request_origin_allowed
from snippets.sessions.session_cookie import read_session_cookie
from snippets.sessions.session_store import Session

MAX_BODY_BYTES = 16 * 1024


class Forbidden(Exception):
    """A state-changing request from another site: answer 403."""


def demo(request: Request) -> Demo:
    state: Demo = request.app.state.demo
    return state


DemoState = Annotated[Demo, Depends(demo)]


def client_address(request: Request) -> str:
    """The peer's address. Behind a proxy, run uvicorn with ``--forwarded-allow-ips``
    for that proxy only, or every client can pick its own address."""
    return request.client.host if request.client else "unknown"


def own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', '')}"


def _origin_ok(request: Request, *, listed: tuple[str, ...] = ()) -> bool:
    origin = request.headers.get("origin")
    if origin is not None and origin in listed:
        return True  # a listed second origin, for the endpoints CORS opens to it
    return request_origin_allowed(
        request.method,
        sec_fetch_site=request.headers.get("sec-fetch-site"),
        origin=origin,
        own_origin=own_origin(request),
    )


def same_origin(request: Request) -> None:
    """Refuse a state-changing request that does not come from this site."""
    if not _origin_ok(request):
        raise Forbidden


def same_origin_or_listed(request: Request, state: DemoState) -> None:
    """`same_origin`, also letting through the origins CORS is configured for."""
    if not _origin_ok(request, listed=state.settings.cors_origins):
        raise Forbidden


SameOrigin = Depends(same_origin)
SameOriginOrListed = Depends(same_origin_or_listed)


def session_id(request: Request) -> str | None:
    return read_session_cookie(request.headers.get("cookie"))


SessionId = Annotated[str | None, Depends(session_id)]


def optional_session(state: DemoState, sid: SessionId) -> Session | None:
    return state.store.validate(sid)


OptionalSession = Annotated[Session | None, Depends(optional_session)]


def signed_in(session: OptionalSession) -> Session:
    if session is None:
        raise NotSignedIn
    return session


SignedIn = Annotated[Session, Depends(signed_in)]


def request_bearer_token(request: Request) -> str:
    return bearer_token(request.headers.get("authorization"))


BearerToken = Annotated[str, Depends(request_bearer_token)]


async def _body(request: Request, content_type: str) -> bytes | None:
    sent = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if sent != content_type:
        return None
    body = await request.body()
    return body if len(body) <= MAX_BODY_BYTES else None


async def form_fields(request: Request) -> dict[str, str]:
    """The fields of an urlencoded form body, each sent once; others are dropped."""
    body = await _body(request, "application/x-www-form-urlencoded")
    if body is None:
        return {}
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except ValueError:  # undecodable, or too many fields
        return {}
    return {k: v[0] for k, v in parsed.items() if len(v) == 1}


async def json_fields(request: Request) -> dict[str, Any]:
    """The members of a JSON object body; anything else is an empty dict."""
    body = await _body(request, "application/json")
    if body is None:
        return {}
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested too deep to parse
        return {}
    return value if isinstance(value, dict) else {}


Form = Annotated[dict[str, str], Depends(form_fields)]
JsonBody = Annotated[dict[str, Any], Depends(json_fields)]
