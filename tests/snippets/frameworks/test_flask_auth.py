"""Flask specifics: the decorators keep the view's identity and leave other errors alone.
The guards' behaviour on every endpoint is in test_guards.py."""

from __future__ import annotations

from flask import Flask, g

from snippets.frameworks.flask_auth import bearer_required, create_app, init_auth, session_required
from snippets.sessions.session_cookie import COOKIE_NAME


def test_decorated_views_keep_their_names_and_endpoints(make_settings, redis_url) -> None:  # type: ignore[no-untyped-def]
    app = create_app(make_settings(redis_url))
    assert {"account", "me", "orders"} <= set(app.view_functions)
    assert app.view_functions["orders"].__name__ == "orders"


def test_the_guard_puts_the_session_and_claims_on_g(make_settings, redis_url, mint) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(redis_url)
    app = Flask(__name__)
    init_auth(app, settings)

    @app.get("/both")
    @session_required
    @bearer_required("orders:read")
    def both() -> dict[str, str]:
        return {"user": g.session.user_id, "sub": g.claims["sub"]}

    client = app.test_client(use_cookies=False)
    headers = {
        "Cookie": f"{COOKIE_NAME}={settings.sessions.create('alice')}",
        "Authorization": f"Bearer {mint(scope='orders:read')}",
    }
    answer = client.get("/both", headers=headers)
    assert (answer.status_code, answer.json) == (200, {"user": "alice", "sub": "user-42"})
    assert client.get("/both", headers={"Cookie": headers["Cookie"]}).status_code == 401


def test_errors_that_are_not_the_guards_are_left_to_flask(make_settings, redis_url) -> None:  # type: ignore[no-untyped-def]
    app = create_app(make_settings(redis_url))
    client = app.test_client(use_cookies=False)
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and missing.headers["Cache-Control"] == "no-store"
