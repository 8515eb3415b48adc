"""Django: its own sessions on Redis, configured safely, and a bearer guard for views.

For a Django site whose pages are the client, Django's session framework is the right
answer: it already rotates the session key on login (``django.contrib.auth.login`` calls
``cycle_key()``) and flushes it on logout. What it needs is a safe configuration:

- Redis through Django's own cache backend (``django.core.cache.backends.redis``), no
  extra package;
- a ``__Host-`` cookie that is ``Secure``, ``HttpOnly`` and ``SameSite=Lax``;
- an idle timeout (``SESSION_COOKIE_AGE`` with ``SESSION_SAVE_EVERY_REQUEST``, which
  costs a Redis write per request) and an absolute one (`session_required` checks the
  login time, which Django does not);
- a session engine that fails closed: Django's cache engine reads an unreachable Redis
  as "no session", answers 401 and deletes the browser's cookie. `SessionStore` below
  raises ``SessionStoreUnavailable`` instead, answered 503 with ``Retry-After``.

For APIs, `bearer_required` guards sync and async views with the same bearer guard, and
the same answers, as the FastAPI and Flask versions (snippets/frameworks/guards.py).

Run it without a server of its own (Django's test client, a Redis of your choice)::

    REDIS_URL=redis://127.0.0.1:6379/0 python -m snippets.frameworks.django_auth
"""

from __future__ import annotations

# --8<-- [start:setup]
import functools
import inspect
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

import django
from django.conf import settings
from django.contrib.sessions.backends import cache as cache_sessions
from django.contrib.sessions.middleware import (
    SessionMiddleware as DjangoSessionMiddleware,
)
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from snippets.frameworks.guards import (
    GUARD_ERRORS,
    AuthSettings,
    NotSignedIn,
    answer_for,
    current_claims,
    current_claims_async,
)
from snippets.sessions.redis_errors import REDIS_ERRORS
from snippets.sessions.session_store import (
    ABSOLUTE_TIMEOUT_SECONDS,
    IDLE_TIMEOUT_SECONDS,
    SessionStoreUnavailable,
)

View = TypeVar("View", bound=Callable[..., Any])
LOGIN_AT = "_login_at"  # the session key holding the login time (seconds)
# --8<-- [end:setup]


# --8<-- [start:settings]
def session_settings(redis_url: str, *, prefix: str = "") -> dict[str, Any]:
    """The settings of Redis-backed Django sessions; put them in ``settings.py``."""
    return {
        "CACHES": {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "sessions": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis_url,
                "KEY_PREFIX": f"{prefix}django",
                # fail fast: a request never hangs on a dead Redis
                "OPTIONS": {"socket_timeout": 0.25, "socket_connect_timeout": 0.25},
            },
        },
        "SESSION_ENGINE": "snippets.frameworks.django_auth",  # SessionStore below
        "SESSION_CACHE_ALIAS": "sessions",
        "SESSION_COOKIE_NAME": "__Host-sessionid",  # Secure, Path=/, no Domain
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_AGE": IDLE_TIMEOUT_SECONDS,  # idle timeout...
        "SESSION_SAVE_EVERY_REQUEST": True,  # ...pushed forward by every request
        "MIDDLEWARE": ["snippets.frameworks.django_auth.SessionMiddleware"],
    }


# --8<-- [end:settings]


# --8<-- [start:engine]
class SessionStore(cache_sessions.SessionStore):
    """Django's cache session engine, failing closed: an unreachable Redis raises
    ``SessionStoreUnavailable`` instead of reading as an empty session."""

    def load(self) -> dict[str, Any]:
        try:
            data = caches[settings.SESSION_CACHE_ALIAS].get(self.cache_key)
        except REDIS_ERRORS as exc:
            raise SessionStoreUnavailable("session store unavailable") from exc
        if data is None:
            self._session_key = None  # what Django's own engines do: a new session
            return {}
        return cast(dict[str, Any], data)

    def save(self, must_create: bool = False) -> None:
        try:
            super().save(must_create)
        except REDIS_ERRORS as exc:
            raise SessionStoreUnavailable("session store unavailable") from exc


def _respond(error: Exception) -> JsonResponse:
    answer = answer_for(error)
    response = JsonResponse(answer.body, status=answer.status)
    for name, value in answer.headers.items():
        response[name] = value
    return response


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's session middleware, answering the guards' errors as the guards do:
    503 when Redis cannot load or save a session, in any view."""

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        return _respond(exception) if isinstance(exception, GUARD_ERRORS) else None

    def process_response(
        self, request: HttpRequest, response: HttpResponse
    ) -> HttpResponse:
        try:
            result: HttpResponse = super().process_response(request, response)
        except SessionStoreUnavailable as exc:
            return _respond(exc)
        result.setdefault("Cache-Control", "no-store")
        return result


# --8<-- [end:engine]


# --8<-- [start:login]
def log_in(request: HttpRequest, user_id: str) -> None:
    """Start the user's session on a fresh key (what ``django.contrib.auth.login``
    does with ``cycle_key``), recording the login time for the absolute timeout."""
    request.session.cycle_key()  # never keep a key from before the login
    request.session["user_id"] = user_id
    request.session[LOGIN_AT] = time.time()


def log_out(request: HttpRequest) -> None:
    """End the session: its data leaves Redis, the copied cookie is worthless."""
    request.session.flush()


def session_required(view: View) -> View:
    """Run ``view`` only for a live session younger than the absolute timeout; else
    401 (503 if Redis is down)."""

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            login_at = request.session.get(LOGIN_AT)
            if not isinstance(login_at, float):
                raise NotSignedIn
            if time.time() - login_at >= ABSOLUTE_TIMEOUT_SECONDS:
                request.session.flush()
                raise NotSignedIn
        except GUARD_ERRORS as exc:
            return _respond(exc)
        return view(request, *args, **kwargs)

    return cast(View, guarded)


# --8<-- [end:login]


# --8<-- [start:bearer]
def _guards() -> AuthSettings:
    guards: AuthSettings = settings.AUTH_GUARDS  # an AuthSettings, in settings.py
    return guards


def bearer_required(*scopes: str) -> Callable[[View], View]:
    """Run the view only with a valid, unrevoked bearer token holding ``scopes``, put
    in ``request.claims``; sync and ``async def`` views alike.

    An async view shares the settings' one ``redis.asyncio`` client, which lives in
    one event loop: serve async views with an ASGI server (uvicorn, Daphne). Under
    WSGI, Django runs each async view in an event loop of its own.
    """

    def decorate(view: View) -> View:
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def guarded_async(
                request: HttpRequest, *args: Any, **kwargs: Any
            ) -> Any:
                header = request.headers.get("Authorization")
                try:
                    claims = await current_claims_async(_guards(), header, scopes)
                except GUARD_ERRORS as exc:
                    return _respond(exc)
                request.claims = claims
                return await view(request, *args, **kwargs)

            return cast(View, guarded_async)

        @functools.wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization")
            try:
                claims = current_claims(_guards(), header, scopes)
            except GUARD_ERRORS as exc:
                return _respond(exc)
            request.claims = claims
            return view(request, *args, **kwargs)

        return cast(View, guarded)

    return decorate


# --8<-- [end:bearer]


# --8<-- [start:views]
def login_view(request: HttpRequest) -> JsonResponse:
    # A real one checks a password first (django.contrib.auth.authenticate).
    log_in(request, "alice")
    return JsonResponse({"user": "alice"})


def logout_view(request: HttpRequest) -> JsonResponse:
    log_out(request)
    return JsonResponse({})


@session_required
def account(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"user": request.session["user_id"]})


@bearer_required()
def me(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"sub": request.claims["sub"]})


@bearer_required("orders:read")
def orders(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"sub": request.claims["sub"], "orders": []})


# The same two as async views (served by an ASGI server: one event loop).
@bearer_required()
async def me_async(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"sub": request.claims["sub"]})


@bearer_required("orders:read")
async def orders_async(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"sub": request.claims["sub"], "orders": []})


urlpatterns = [
    path("login", login_view),
    path("logout", logout_view),
    path("account", account),
    path("api/me", me),
    path("api/orders", orders),
    path("async/api/me", me_async),
    path("async/api/orders", orders_async),
]
# --8<-- [end:views]


# --8<-- [start:configure]
def configure() -> None:
    """Configure Django for this module's views, once per process (demo and tests)."""
    if not settings.configured:
        settings.configure(
            ROOT_URLCONF="snippets.frameworks.django_auth",
            ALLOWED_HOSTS=["testserver"],
            SECRET_KEY=os.urandom(32).hex(),
            INSTALLED_APPS=["django.contrib.sessions"],
            USE_TZ=True,
        )
        django.setup()


# --8<-- [end:configure]


def main() -> None:
    # --8<-- [start:demo]
    from django.test import Client, override_settings

    from snippets.tokens.issue_access_token import issue_access_token
    from snippets.tokens.keys import generate_private_key

    configure()
    private_key = generate_private_key("EdDSA")
    guards = AuthSettings(
        redis_url=os.environ["REDIS_URL"],
        key=private_key.public_key(),
        algorithm="EdDSA",
        issuer="https://auth.example.com",
        audience="https://api.example.com",
        prefix=os.environ.get("REDIS_KEY_PREFIX", "app:"),
    )
    sessions = session_settings(guards.redis_url, prefix=guards.prefix)
    with override_settings(**sessions, AUTH_GUARDS=guards):
        browser = Client(secure=True)  # HTTPS: the cookie is Secure
        print(browser.get("/account").status_code)
        #> 401
        browser.post("/login")
        print(browser.get("/account").json())
        #> {'user': 'alice'}
        copied = browser.cookies["__Host-sessionid"].value
        browser.post("/logout")
        thief = Client(secure=True)
        thief.cookies["__Host-sessionid"] = copied
        print(thief.get("/account").status_code)  # server-side: logout ended it
        #> 401
        token = issue_access_token(
            "user-42",
            private_key,
            algorithm="EdDSA",
            kid="k1",
            issuer=guards.issuer,
            audience=guards.audience,
        )
        api = Client(headers={"Authorization": f"Bearer {token}"})
        print(api.get("/api/me").json())
        #> {'sub': 'user-42'}
        answer = api.get("/api/orders")
        print(answer.status_code, answer["WWW-Authenticate"])
        #> 403 Bearer error="insufficient_scope", scope="orders:read"
    # --8<-- [end:demo]
    guards.close()


if __name__ == "__main__":
    main()
