"""FastAPI specifics: the OpenAPI security schemes, and what the dependencies add.
The guards' behaviour on every endpoint is in test_guards.py."""

from __future__ import annotations

from fastapi import FastAPI, Response
from fastapi.testclient import TestClient

from snippets.frameworks.fastapi_auth import Claims, NoStore, create_app, install
from snippets.frameworks.guards import AuthSettings
from tests.async_bridge import run_alone
from tests.snippets.frameworks.conftest import ISSUER


def test_openapi_declares_both_schemes_so_authorize_works(make_settings, redis_url) -> None:  # type: ignore[no-untyped-def]
    schema = create_app(make_settings(redis_url)).openapi()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["HTTPBearer"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["APIKeyCookie"] == {"type": "apiKey", "in": "cookie", "name": "__Host-session"}
    assert schema["paths"]["/api/me"]["get"]["security"] == [{"HTTPBearer": []}]
    assert schema["paths"]["/account"]["get"]["security"] == [{"APIKeyCookie": []}]
    # The credential is read from the header, never declared as a query parameter.
    assert "parameters" not in schema["paths"]["/api/me"]["get"]


def test_an_endpoint_that_sets_its_own_cache_control_keeps_it(
    make_settings, redis_url, mint
) -> None:  # type: ignore[no-untyped-def]
    app = FastAPI()
    install(app, make_settings(redis_url))

    @app.get("/api/me")
    def me(claims: Claims) -> dict[str, str]:
        return {"sub": claims["sub"]}

    @app.get("/public")
    def public() -> dict[str, str]:
        return {"issuer": ISSUER}

    @app.get("/logo")
    def logo() -> Response:
        return Response(b"GIF89a", headers={"Cache-Control": "public, max-age=60"})

    with TestClient(app) as client:
        assert client.get("/public").headers["cache-control"] == "no-store"
        assert client.get("/nowhere").headers["cache-control"] == "no-store"  # 404 too
        assert client.get("/api/me").headers["cache-control"] == "no-store"  # 401 too
        assert client.get("/logo").headers.get_list("cache-control") == ["public, max-age=60"]


def test_no_store_passes_other_asgi_traffic_through() -> None:
    seen: list[str] = []

    async def inner(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        seen.append(scope["type"])

    run_alone(NoStore(inner)({"type": "lifespan"}, None, None))  # type: ignore[arg-type]
    assert seen == ["lifespan"]


def test_settings_hold_one_async_client_closed_with_the_app(make_settings, redis_url, mint) -> None:  # type: ignore[no-untyped-def]
    settings: AuthSettings = make_settings(redis_url)
    with TestClient(create_app(settings)) as client:
        token = mint()
        for _ in range(3):
            assert (
                client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code
                == 200
            )
        first = settings.async_client
        assert settings.async_client is first  # one pool for every request
    replacement = settings.async_client  # the lifespan closed and dropped the first
    assert replacement is not first
    run_alone(replacement.aclose())
