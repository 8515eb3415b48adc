"""One app per framework under its own test client, behind one small interface.

`Surface` sends a GET to an app of snippets/frameworks/ and returns the reply as
status, headers and JSON body, whichever framework (and sync or async endpoint) it is:

- ``fastapi-async`` and ``fastapi-sync``: FastAPI's TestClient, ``/...`` and ``/sync/...``;
- ``flask``: Flask's test client;
- ``django-sync`` and ``django-async``: Django's Client, and AsyncClient on one event loop
  for the ``async/...`` views.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from snippets.frameworks import django_auth, fastapi_auth, flask_auth
from snippets.frameworks.guards import AuthSettings
from snippets.tokens.issue_access_token import issue_access_token
from snippets.tokens.keys import generate_private_key
from tests.async_bridge import LoopThread
from tests.helpers import ManualClock

ISSUER = "https://auth.example.com"
AUDIENCE = "https://api.example.com"
T0 = 1_700_000_000.0

SURFACES = ["fastapi-async", "fastapi-sync", "flask", "django-sync", "django-async"]
# The surfaces whose session guard is the snippets' own store (Django uses its own).
STORE_SESSION_SURFACES = ["fastapi-async", "fastapi-sync", "flask"]


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    body: Any


@dataclass
class Surface:
    name: str
    get: Callable[[str, dict[str, str]], Reply]

    def __call__(self, path: str, **headers: str) -> Reply:
        return self.get(path, {k.replace("_", "-"): v for k, v in headers.items()})


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture(scope="session")
def signing_key() -> Any:
    return generate_private_key("EdDSA")


@pytest.fixture
def mint(signing_key: Any, clock: ManualClock) -> Callable[..., str]:
    """``mint(subject="user-42", scope="", key=None, **options)``: an access token."""

    def make(subject: str = "user-42", scope: str = "", key: Any = None, **options: Any) -> str:
        return issue_access_token(
            subject,
            key or signing_key,
            algorithm="EdDSA",
            kid="k1",
            issuer=options.pop("issuer", ISSUER),
            audience=options.pop("audience", AUDIENCE),
            now=options.pop("now", clock()),
            extra_claims={"scope": scope} if scope else None,
            **options,
        )

    return make


@pytest.fixture
def make_settings(
    signing_key: Any, clock: ManualClock, key_prefix: str, loop_thread: LoopThread
) -> Iterator[Callable[[str], AuthSettings]]:
    made: list[AuthSettings] = []

    def make(redis_url: str) -> AuthSettings:
        settings = AuthSettings(
            redis_url=redis_url,
            key=signing_key.public_key(),
            algorithm="EdDSA",
            issuer=ISSUER,
            audience=AUDIENCE,
            prefix=key_prefix,
            now=clock,
        )
        made.append(settings)
        return settings

    yield make
    for settings in made:
        settings.close()


def _reply(status: int, headers: Any, body: Any) -> Reply:
    return Reply(status, {k.lower(): v for k, v in headers.items()}, body)


@contextlib.contextmanager
def open_surface(name: str, settings: AuthSettings, loop: LoopThread) -> Iterator[Surface]:
    """The app of ``name`` over ``settings``, until the block ends."""
    if name.startswith("fastapi"):
        base = "" if name == "fastapi-async" else "/sync"
        with TestClient(fastapi_auth.create_app(settings)) as client:

            def get(path: str, headers: dict[str, str]) -> Reply:
                # bytes: httpx2 would refuse a non-ASCII value before sending it
                raw = {k: v.encode("latin-1") for k, v in headers.items()}
                answer = client.get(base + path, headers=raw)
                return _reply(answer.status_code, answer.headers, answer.json())

            yield Surface(name, get)
        return
    if name == "flask":
        client = flask_auth.create_app(settings).test_client(use_cookies=False)

        def get(path: str, headers: dict[str, str]) -> Reply:
            answer = client.get(path, headers=headers)
            return _reply(answer.status_code, answer.headers, answer.json)

        yield Surface(name, get)
        return
    from django.test import AsyncClient, Client, override_settings

    django_auth.configure()
    sessions = django_auth.session_settings(settings.redis_url, prefix=settings.prefix)
    with override_settings(**sessions, AUTH_GUARDS=settings):
        if name == "django-sync":
            sync_client = Client()

            def get(path: str, headers: dict[str, str]) -> Reply:
                answer = sync_client.get(path, headers=headers)
                return _reply(answer.status_code, answer.headers, answer.json())

            yield Surface(name, get)
            return
        async_client = AsyncClient()

        def get(path: str, headers: dict[str, str]) -> Reply:
            answer = loop.run(async_client.get("/async" + path, headers=headers))
            return _reply(answer.status_code, answer.headers, answer.json())

        try:
            yield Surface(name, get)
        finally:
            loop.run(settings.aclose())  # the asyncio client lives in this loop


@pytest.fixture
def surface_for(
    loop_thread: LoopThread,
) -> Iterator[Callable[[str, AuthSettings], Surface]]:
    """``surface_for(name, settings)``: an open surface, closed at the end of the test."""
    with contextlib.ExitStack() as stack:

        def make(name: str, settings: AuthSettings) -> Surface:
            return stack.enter_context(open_surface(name, settings, loop_thread))

        yield make


@pytest.fixture
def session_secret() -> bytes:
    return secrets.token_urlsafe(48).encode()
