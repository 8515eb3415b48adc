"""Every endpoint of the demo app, driven with hostile requests: never a 500, never a
crash, a generic body; 503 only with ``Retry-After``.

The requests come from Hypothesis: any method the route takes, hostile ``Cookie``,
``Authorization``, ``Origin``, ``Sec-Fetch-Site`` and ``Content-Type`` headers, JSON, form
and raw bodies of any shape, and a query string. The app runs in-process under FastAPI's
TestClient against the test Redis, with a stand-in IdP on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.main import create_app
from app.settings import Settings
from snippets.converting.demo_idp import DemoIdentityProvider
from tests.app.conftest import PASSWORD, USERS, idp_settings
from tests.strategies import HOSTILE_BODIES, HOSTILE_CONTENT_TYPES, HOSTILE_HEADER

EXAMPLES = 60  # per endpoint and method


@pytest.fixture(scope="module")
def client(redis_url: str) -> Iterator[TestClient]:
    with DemoIdentityProvider(client_id="demo-app") as idp:
        app_settings = Settings(
            redis_url=redis_url,
            redis_prefix="hostile-app:",
            demo_users=USERS,
            **idp_settings(idp),
            allowed_hosts=("testserver",),
        )
        with TestClient(create_app(app_settings), follow_redirects=False) as test_client:
            yield test_client


def _routes() -> list[tuple[str, str]]:
    from app.routers import bff, migration, pages, phantom, refresh, tokens

    found = []
    for module in (pages, bff, tokens, refresh, phantom, migration):
        for route in module.router.routes:
            assert isinstance(route, APIRoute)
            found += [(method, route.path) for method in sorted(route.methods)]
    return found


ROUTES = _routes()


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    cookie=HOSTILE_HEADER,
    authorization=HOSTILE_HEADER,
    origin=HOSTILE_HEADER,
    fetch_site=HOSTILE_HEADER,
    content_type=HOSTILE_CONTENT_TYPES,
    body=HOSTILE_BODIES,
    query=st.dictionaries(
        st.one_of(st.sampled_from(["code", "state", "iss", "error"]), st.text(max_size=10)),
        st.one_of(st.just("A" * 43), st.text(max_size=30)),
        max_size=3,
    ),
)
def test_a_hostile_request_gets_a_4xx_or_a_503_never_a_500(  # type: ignore[no-untyped-def]
    client: TestClient,
    method: str,
    path: str,
    cookie,
    authorization,
    origin,
    fetch_site,
    content_type,
    body,
    query,
) -> None:
    headers = {
        "Cookie": cookie,
        "Authorization": authorization,
        "Origin": origin,
        "Sec-Fetch-Site": fetch_site,
        "Content-Type": content_type,
    }
    raw = {k: v.encode("latin-1") for k, v in headers.items() if v}
    response = client.request(method, path, headers=raw, content=body, params=query)
    assert response.status_code < 500 or response.status_code == 503, response.text[:300]
    if response.status_code == 503:
        assert response.headers["retry-after"].isdigit()
    if response.status_code >= 400 and response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        detail = response.json()
        assert set(detail) == {"detail"}, detail
        text = json.dumps(detail)
        assert "Traceback" not in text and "Error" not in text, text  # nothing about the cause


def test_with_redis_down_every_endpoint_answers_503_or_a_4xx(private_redis) -> None:  # type: ignore[no-untyped-def]
    """Some endpoints used to answer 500 when Redis was down."""
    with DemoIdentityProvider(client_id="demo-app") as idp:
        app_settings = Settings(
            redis_url=private_redis.url,
            demo_users=USERS,
            **idp_settings(idp),
            allowed_hosts=("testserver",),
        )
        with TestClient(create_app(app_settings), follow_redirects=False) as down:
            session = down.post(
                "/login",
                data={"username": "alice", "password": PASSWORD},
                headers={"Origin": "http://testserver"},
            )
            cookie = session.headers["set-cookie"].split(";")[0]
            token = down.post(
                "/token/exchange",
                json={},
                headers={"Cookie": cookie, "Origin": "http://testserver"},
            ).json()["access_token"]
            private_redis.stop()
            try:
                seen = {}
                for method, path in ROUTES:
                    response = down.request(
                        method,
                        path,
                        headers={
                            "Cookie": cookie,
                            "Authorization": f"Bearer {token}",
                            "Origin": "http://testserver",
                        },
                        data={"username": "alice", "password": PASSWORD, "token": "A" * 43},
                    )
                    seen[f"{method} {path}"] = response.status_code
                    assert response.status_code < 500 or response.status_code == 503, (
                        path,
                        response.text,
                    )
                    if response.status_code == 503:
                        assert response.headers["retry-after"] == "5"
            finally:
                private_redis.start()
    assert seen["GET /api/me"] == 503 and seen["POST /login"] == 503


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if r[0] == "POST"], ids=str)
def test_a_json_body_nested_too_deep_to_parse_is_never_a_500(
    client: TestClient, method: str, path: str
) -> None:
    """Hypothesis found it under load, once: ``[`` 5,000 deep raised RecursionError in
    json.loads, a 500 at /token/exchange. Every POST route gets that body, same-origin."""
    headers = {"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"}
    response = client.request(method, path, headers=headers, content=b"[" * 5000)
    assert response.status_code < 500 or response.status_code == 503, response.text
