"""The demo application: sessions for the browser, JWTs for APIs, and the conversions between.

Run it with ``make app`` (or ``scripts/run-app``); build one in a test with
``create_app(Settings(...))``. It wires the framework-agnostic snippets into FastAPI:

- ``/login``, ``/account``, ``/logout``, ``/logout-everywhere``: a session cookie
  (``__Host-session``) over a Redis session store, CSRF-checked by origin;
- ``/auth/oidc/start`` and ``/auth/oidc/callback``: backend-for-frontend login with an ID token
  from an identity provider; the browser only ever receives the session cookie;
- ``/token/exchange``: a live session buys a JWT for one audience (also from a second origin,
  through CORS with credentials); ``/bff/api/me`` does the same on the server's side;
- ``/api/me`` (bearer JWT, old HS256 tokens accepted during the migration), ``/api/strict/me``
  (also checks the session behind ``sid``), ``/reports/summary`` (another audience);
- ``/token/opaque`` and ``/gateway/api/me``: the phantom-token pattern;
- ``/migration`` and ``/migration/retire``: the dual-accept migration's counts and its end.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from app.demo_idp import DemoIdentityProvider
from snippets.converting.dual_accept_migration import (
    CredentialRefused,
    DualAcceptMigration,
    MigrationStateUnavailable,
)
from snippets.converting.exchange_session_for_jwt import (
    ExchangeRefused,
    Signer,
    exchange_session_for_jwt,
    session_is_live,
    verify_exchanged_token,
)
from snippets.converting.id_token_to_session import (
    IdTokenVerifier,
    LoginRefused,
    begin_login,
    complete_login,
)
from snippets.converting.phantom_token_gateway import (
    OPAQUE_LIFETIME_SECONDS,
    OpaqueTokenRefused,
    PhantomTokenGateway,
    TokenStoreUnavailable,
    issue_opaque_token,
    revoke_opaque_token,
)
from snippets.sessions.csrf_check import request_origin_allowed
from snippets.sessions.session_cookie import (
    build_session_cookie,
    clear_session_cookie,
    read_session_cookie,
)
from snippets.sessions.session_store import (
    RedisSessionStore,
    Session,
    SessionStoreUnavailable,
    connect,
)
from snippets.tokens.issue_access_token import issue_access_token
from snippets.tokens.keys import (
    algorithm_for_key,
    build_jwks,
    generate_private_key,
    load_hmac_secret,
    load_private_key,
)
from snippets.tokens.verify_token import TokenError, verify_token

log = logging.getLogger("app")

API_AUDIENCE = "urn:demo:api"
REPORTS_AUDIENCE = "urn:demo:reports"
EXCHANGE_AUDIENCES = frozenset({API_AUDIENCE, REPORTS_AUDIENCE})
STATE_COOKIE = "__Host-oidc-state"
MAX_BODY_BYTES = 16 * 1024
MIGRATION_NAME = "hs256-to-session-and-jwt"


# --- settings ---------------------------------------------------------------------------------


@dataclass
class Settings:
    """Everything the application needs; `Settings.from_env` reads it from the environment.

    Attributes:
        redis_url: The Redis shared by every process.
        redis_prefix: Put in front of every Redis key the application writes.
        signing_key: Private key (RS256, ES256 or EdDSA) for the JWTs it mints; generated at
            start-up when None.
        signing_key_source: Says where the signing key came from (shown on the home page).
        legacy_secret: HMAC secret of the old HS256 tokens being migrated away from;
            generated at start-up when None.
        demo_password: Password of the demo users; generated (and logged) when None.
        demo_users: A ready user table (tests hash once); built from ``demo_password`` if None.
        idp_issuer: Issuer of the identity provider; with None a demo IdP is started on
            127.0.0.1 inside this process.
        idp_jwks_url: The IdP's JWKS URL.
        idp_authorize_url: The IdP's authorization endpoint.
        client_id: This application's client ID at the IdP (the ``aud`` of ID tokens).
        cors_origins: Other origins allowed to call the API with credentials.
        issuer: ``iss`` of the JWTs this application mints.
        phantom_cache_seconds: Revocation lag of the phantom-token gateway's cache.
        now: The clock, seconds since the epoch. Tests pass their own.
    """

    redis_url: str
    redis_prefix: str = "app:"
    signing_key: Any = None
    signing_key_source: str = "generated at start-up"
    legacy_secret: bytes | None = None
    legacy_key_origin: str = "generated at start-up"
    demo_password: str | None = None
    demo_users: Mapping[str, DemoUser] | None = None
    idp_issuer: str | None = None
    idp_jwks_url: str | None = None
    idp_authorize_url: str | None = None
    client_id: str = "demo-app"
    cors_origins: tuple[str, ...] = ("http://127.0.0.1:8002",)
    issuer: str = "urn:jwt-vs-sessions:demo-app"
    phantom_cache_seconds: float = 10.0
    now: Callable[[], float] = field(default=time.time)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read the settings from environment variables.

        ``REDIS_URL`` (required), ``APP_REDIS_PREFIX``, ``APP_SIGNING_KEY_FILE`` (PEM private
        key), ``APP_LEGACY_SECRET_FILE`` or ``APP_LEGACY_JWT_SECRET``, ``APP_DEMO_PASSWORD``,
        ``APP_IDP_ISSUER`` with ``APP_IDP_JWKS_URL`` and ``APP_IDP_AUTHORIZE_URL``,
        ``APP_CORS_ORIGINS`` (comma-separated).

        Raises:
            RuntimeError: ``REDIS_URL`` is missing, or a secret is given but too weak.
        """
        if not environ.get("REDIS_URL"):
            raise RuntimeError("REDIS_URL must name the Redis server (scripts/run-app sets it)")
        settings = cls(redis_url=environ["REDIS_URL"])
        settings.redis_prefix = environ.get("APP_REDIS_PREFIX", settings.redis_prefix)
        if path := environ.get("APP_SIGNING_KEY_FILE"):
            settings.signing_key = load_private_key(Path(path).read_bytes())
            settings.signing_key_source = f"loaded from the file {path}"
        if path := environ.get("APP_LEGACY_SECRET_FILE"):
            settings.legacy_secret = load_hmac_secret(file=path)
            settings.legacy_key_origin = f"loaded from the file {path}"
        elif environ.get("APP_LEGACY_JWT_SECRET"):
            settings.legacy_secret = load_hmac_secret("APP_LEGACY_JWT_SECRET")
            settings.legacy_key_origin = "read from APP_LEGACY_JWT_SECRET"
        settings.demo_password = environ.get("APP_DEMO_PASSWORD") or None
        if environ.get("APP_IDP_ISSUER"):
            settings.idp_issuer = environ["APP_IDP_ISSUER"]
            settings.idp_jwks_url = environ["APP_IDP_JWKS_URL"]
            settings.idp_authorize_url = environ["APP_IDP_AUTHORIZE_URL"]
        if "APP_CORS_ORIGINS" in environ:
            origins = environ["APP_CORS_ORIGINS"].split(",")
            settings.cors_origins = tuple(o.strip() for o in origins if o.strip())
        return settings


# --- demo users -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    """A user of the in-memory demo table; only a salted scrypt hash of the password is kept."""

    user_id: str
    username: str
    role: str
    salt: bytes
    password_hash: bytes


def hash_password(password: str, salt: bytes) -> bytes:
    """scrypt with a per-user salt (N=2**14, r=8, p=1: about 16 MiB and tens of ms)."""
    return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)


def make_demo_users(password: str) -> dict[str, DemoUser]:
    """Alice (admin) and Bob (user), both with ``password``, hashed at start-up."""
    users = {}
    for user_id, username, role in [("u-alice", "alice", "admin"), ("u-bob", "bob", "user")]:
        salt = secrets.token_bytes(16)
        users[username] = DemoUser(user_id, username, role, salt, hash_password(password, salt))
    return users


_DUMMY_SALT = secrets.token_bytes(16)
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16), _DUMMY_SALT)


def check_password(users: Mapping[str, DemoUser], username: str, password: str) -> DemoUser | None:
    """Return the user if the password is right; the same work is done for unknown users."""
    user = users.get(username)
    salt, expected = (user.salt, user.password_hash) if user else (_DUMMY_SALT, _DUMMY_HASH)
    matches = hmac.compare_digest(hash_password(password, salt), expected)  # constant time
    return user if user is not None and matches else None


# --- helpers ----------------------------------------------------------------------------------


def key_id(public_key: Any) -> str:
    """A kid derived from the public key: the same key file gives the same kid everywhere."""
    jwk = build_jwks([("x", public_key)])["keys"][0]
    material = json.dumps({k: v for k, v in jwk.items() if k not in {"kid", "use"}}, sort_keys=True)
    return "app-" + hashlib.sha256(material.encode()).hexdigest()[:16]


def _own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', '')}"


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}"
        f"</title></head><body><h1>{html.escape(title)}</h1>{body}"
        '<p><a href="/">Home</a> · <a href="/account">Account</a></p></body></html>'
    )
    return HTMLResponse(document, status_code=status)


def _error(status: int, detail: str, **headers: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers or None)


def _unauthorized(detail: str) -> JSONResponse:
    return _error(401, detail, **{"WWW-Authenticate": 'Bearer error="invalid_token"'})


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


def _read_cookie(request: Request, name: str) -> str | None:
    header = request.headers.get("cookie", "")
    values = [
        v.strip()
        for n, sep, v in (p.partition("=") for p in header.split(";"))
        if sep and n.strip() == name
    ]
    return values[0] if len(values) == 1 else None


async def form_fields(request: Request) -> dict[str, str]:
    """The fields of an urlencoded form body, each sent once; others are dropped."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return {}
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return {}
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except ValueError:  # undecodable, or too many fields
        return {}
    return {k: v[0] for k, v in parsed.items() if len(v) == 1}


async def json_fields(request: Request) -> dict[str, Any]:
    """The members of a JSON object body; anything else is an empty dict."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return {}
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return {}
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


Form = Annotated[dict[str, str], Depends(form_fields)]
JsonBody = Annotated[dict[str, Any], Depends(json_fields)]


# --- the application --------------------------------------------------------------------------


def create_app(settings: Settings) -> FastAPI:
    """Build the application from ``settings``; every process with the same settings agrees."""
    r = connect(settings.redis_url)
    prefix = settings.redis_prefix
    now = settings.now
    store = RedisSessionStore(r, prefix=prefix, now=now)

    private_key = settings.signing_key or generate_private_key("EdDSA")
    algorithm = algorithm_for_key(private_key.public_key())
    public_key = private_key.public_key()
    signer = Signer(private_key, algorithm, key_id(public_key), settings.issuer)
    legacy_secret = settings.legacy_secret or secrets.token_urlsafe(48).encode()

    users = settings.demo_users
    if users is None:
        password = settings.demo_password
        if password is None:
            password = secrets.token_urlsafe(12)
            log.warning("demo users alice and bob, password: %s (generated at start-up)", password)
        users = make_demo_users(password)

    demo_idp: DemoIdentityProvider | None = None
    if settings.idp_issuer is None:
        demo_idp = DemoIdentityProvider(client_id=settings.client_id).start()
        idp_issuer, jwks_url = demo_idp.issuer, demo_idp.jwks_url
        authorize_url = demo_idp.authorize_url
    else:
        idp_issuer, jwks_url = settings.idp_issuer, settings.idp_jwks_url or ""
        authorize_url = settings.idp_authorize_url or ""
    id_tokens = IdTokenVerifier(jwks_url, issuer=idp_issuer, client_id=settings.client_id)
    gateway = PhantomTokenGateway(
        r,
        signer=signer,
        audience=API_AUDIENCE,
        prefix=prefix,
        cache_seconds=settings.phantom_cache_seconds,
        now=now,
    )

    def new_token_user(token: str) -> str | None:
        try:
            claims = verify_token(
                token,
                public_key,
                algorithm=algorithm,
                typ="at+jwt",
                audience=API_AUDIENCE,
                issuer=settings.issuer,
                now=now(),
            )
            return str(claims["sub"])
        except TokenError:
            return None

    def old_token_user(token: str) -> str | None:
        try:
            claims = verify_token(
                token,
                legacy_secret,
                algorithm="HS256",
                audience=API_AUDIENCE,
                issuer=settings.issuer,
                now=now(),
            )
            return str(claims["sub"])
        except TokenError:
            return None

    migration = DualAcceptMigration(
        r,
        name=MIGRATION_NAME,
        accept_new=new_token_user,
        accept_old=old_token_user,
        prefix=prefix,
        now=now,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if demo_idp is not None:
            demo_idp.stop()
        r.close()

    app = FastAPI(
        title="JWT vs session tokens: demo",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),  # never "*" with credentials
        allow_credentials=True,
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.redis = r
    app.state.demo_idp = demo_idp

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
            )
        return response

    @app.exception_handler(SessionStoreUnavailable)
    @app.exception_handler(TokenStoreUnavailable)
    @app.exception_handler(MigrationStateUnavailable)
    async def unavailable(_: Request, exc: Exception) -> JSONResponse:
        log.error("%s", exc)
        return _error(503, "service unavailable, try again shortly")

    def current_session(request: Request) -> tuple[str, Session] | None:
        session_id = read_session_cookie(request.headers.get("cookie"))
        if session_id is None:
            return None
        session = store.validate(session_id)
        return None if session is None else (session_id, session)

    def origin_ok(request: Request, *, cross_origin: bool = False) -> bool:
        origin = request.headers.get("origin")
        if cross_origin and origin is not None and origin in settings.cors_origins:
            return True  # a listed second origin, for the endpoints CORS opens to it
        return request_origin_allowed(
            request.method,
            sec_fetch_site=request.headers.get("sec-fetch-site"),
            origin=origin,
            own_origin=_own_origin(request),
        )

    def forbidden_origin() -> JSONResponse:
        return _error(403, "cross-site request refused")

    # --- pages and password login ---

    @app.get("/", response_class=HTMLResponse)
    def home() -> HTMLResponse:
        body = f"""
<p>A demo of both mechanisms: a session cookie for this browser, short-lived JWTs for APIs,
and the conversions between them.</p>
<ul>
<li>JWT signing key ({html.escape(algorithm)}, kid <code>{html.escape(signer.kid)}</code>):
{html.escape(settings.signing_key_source)}.</li>
<li>Legacy HS256 secret (the migration's old credential):
{html.escape(settings.legacy_key_origin)}.</li>
<li>Identity provider: <code>{html.escape(idp_issuer)}</code>
{"(a demo IdP started by this process)" if demo_idp else ""}.</li>
<li>Second origin allowed by CORS: {html.escape(", ".join(settings.cors_origins) or "none")}.
</li></ul>
<p>Keys generated at start-up vanish on restart: every session survives (Redis), every JWT
minted before does not. Set <code>APP_SIGNING_KEY_FILE</code> to keep them.</p>
<p><a href="/login">Sign in</a> · <a href="/auth/oidc/start">Sign in with the demo IdP</a> ·
<a href="/.well-known/jwks.json">JWKS</a> · <a href="/migration">Migration counts</a></p>"""
        return _page("JWT vs session tokens: demo", body)

    @app.get("/login", response_class=HTMLResponse)
    def login_page() -> HTMLResponse:
        body = """
<form method="post" action="/login">
<label>User <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password"
required></label> <button type="submit">Sign in</button></form>
<p>Demo users: <code>alice</code> (admin) and <code>bob</code>; the password is in the
server's log, or <code>APP_DEMO_PASSWORD</code>.</p>
<p>Or <a href="/auth/oidc/start">sign in with the demo identity provider</a>.</p>"""
        return _page("Sign in", body)

    def start_session(user_id: str, data: dict[str, Any], old_session: str | None) -> Response:
        if old_session is not None:
            store.destroy(old_session)  # never carry a pre-login session over
        session_id = store.create(user_id, data)
        response = RedirectResponse("/account", status_code=303)
        response.headers.append("set-cookie", build_session_cookie(session_id))
        return response

    @app.post("/login")
    def login(request: Request, form: Form) -> Response:
        if not origin_ok(request):
            return forbidden_origin()
        user = check_password(users, form.get("username", ""), form.get("password", ""))
        if user is None:
            return _page("Sign in", "<p>Wrong user name or password.</p>", status=401)
        data = {"name": user.username, "role": user.role, "login": "password"}
        return start_session(user.user_id, data, read_session_cookie(request.headers.get("cookie")))

    @app.get("/account", response_class=HTMLResponse)
    def account(request: Request) -> Response:
        current = current_session(request)
        if current is None:
            return RedirectResponse("/login", status_code=303)
        _, session = current
        count = len(store.list_sessions(session.user_id))
        name = session.data.get("name") or session.user_id
        body = f"""
<p>Signed in as <strong>{html.escape(str(name))}</strong> ({html.escape(session.user_id)},
by {html.escape(str(session.data.get("login")))}); {count} live session(s).</p>
<p><a href="/bff/api/me">Call the API through this server</a> (the JWT stays here).</p>
<form method="post" action="/logout"><button>Log out</button></form>
<form method="post" action="/logout-everywhere"><button>Log out everywhere</button></form>"""
        return _page("Account", body)

    @app.post("/logout")
    def logout(request: Request) -> Response:
        if not origin_ok(request):
            return forbidden_origin()
        session_id = read_session_cookie(request.headers.get("cookie"))
        if session_id:
            store.destroy(session_id)
        response = RedirectResponse("/", status_code=303)
        response.headers.append("set-cookie", clear_session_cookie())
        return response

    @app.post("/logout-everywhere")
    def logout_everywhere(request: Request) -> Response:
        if not origin_ok(request):
            return forbidden_origin()
        current = current_session(request)
        if current is None:
            return _error(401, "not signed in")
        ended = store.destroy_all(current[1].user_id)
        response = RedirectResponse("/", status_code=303)
        response.headers.append("set-cookie", clear_session_cookie())
        response.headers["X-Sessions-Ended"] = str(ended)
        return response

    # --- ID token to session (backend for frontend) ---

    @app.get("/auth/oidc/start")
    def oidc_start(request: Request) -> Response:
        login_request = begin_login(r, prefix=prefix)
        query = urlencode(
            {
                "client_id": settings.client_id,
                "response_type": "id_token",
                "response_mode": "form_post",
                "scope": "openid",
                "redirect_uri": _own_origin(request) + "/auth/oidc/callback",
                "state": login_request.state,
                "nonce": login_request.nonce,
            }
        )
        response = RedirectResponse(f"{authorize_url}?{query}", status_code=303)
        response.headers.append(  # binds the callback to this browser; cross-site POST => None
            "set-cookie",
            f"{STATE_COOKIE}={login_request.state}; Path=/; Secure; HttpOnly; "
            "SameSite=None; Max-Age=300",
        )
        return response

    @app.post("/auth/oidc/callback")
    def oidc_callback(request: Request, form: Form) -> Response:
        # No origin check here: the IdP's page posts this form. The state, bound to this
        # browser's cookie and used once, is what refuses forged callbacks.
        try:
            session_id = complete_login(
                r,
                store,
                id_tokens,
                state=form.get("state"),
                browser_state=_read_cookie(request, STATE_COOKIE),
                id_token=form.get("id_token"),
                prefix=prefix,
                now=now(),
            )
        except LoginRefused as exc:
            log.info("login refused: %s", exc)
            return _page("Sign in", "<p>Login failed. <a href='/login'>Try again</a>.</p>", 400)
        response = RedirectResponse("/account", status_code=303)
        response.headers.append("set-cookie", build_session_cookie(session_id))
        response.headers.append(
            "set-cookie", f"{STATE_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=None; Max-Age=0"
        )
        return response

    # --- session to JWT (token exchange) ---

    @app.post("/token/exchange")
    def token_exchange(request: Request, body: JsonBody) -> Response:
        if not origin_ok(request, cross_origin=True):
            return forbidden_origin()
        audience = body.get("audience", API_AUDIENCE)
        if not isinstance(audience, str):
            return _error(400, "audience must be a string")
        try:
            token = exchange_session_for_jwt(
                store,
                read_session_cookie(request.headers.get("cookie")),
                audience=audience,
                allowed_audiences=EXCHANGE_AUDIENCES,
                signer=signer,
                now=now(),
            )
        except ExchangeRefused as exc:
            return _error(403 if "audience" in str(exc) else 401, str(exc))
        claims = verify_token(
            token,
            public_key,
            algorithm=algorithm,
            audience=audience,
            issuer=settings.issuer,
            now=now(),
        )
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": claims["exp"] - claims["iat"],
            }
        )

    @app.get("/.well-known/jwks.json")
    def jwks() -> dict[str, Any]:
        return build_jwks([(signer.kid, public_key)])

    def api_me(authorization_token: str | None) -> Response:
        if authorization_token is None:
            return _unauthorized("bearer token required")
        try:
            who = migration.authenticate(new=authorization_token, old=authorization_token)
        except CredentialRefused as exc:
            return _unauthorized(str(exc))
        return JSONResponse({"sub": who.user_id, "via": who.via})

    @app.get("/api/me")
    def api_me_route(request: Request) -> Response:
        return api_me(_bearer(request))

    @app.get("/api/strict/me")
    def api_strict_me(request: Request) -> Response:
        token = _bearer(request)
        if token is None:
            return _unauthorized("bearer token required")
        try:
            claims = verify_exchanged_token(
                token,
                public_key,
                algorithm=algorithm,
                audience=API_AUDIENCE,
                issuer=settings.issuer,
                now=now(),
            )
        except TokenError as exc:
            return _unauthorized(str(exc))
        if not session_is_live(r, claims["sid"], prefix=prefix, now=now()):  # one round trip
            return _unauthorized("the session behind this token has ended")
        return JSONResponse({"sub": claims["sub"], "session": "live"})

    @app.get("/reports/summary")
    def reports_summary(request: Request) -> Response:
        token = _bearer(request)
        if token is None:
            return _unauthorized("bearer token required")
        try:
            claims = verify_token(
                token,
                public_key,
                algorithm=algorithm,
                typ="at+jwt",
                audience=REPORTS_AUDIENCE,
                issuer=settings.issuer,
                now=now(),
            )
        except TokenError as exc:
            return _unauthorized(str(exc))
        return JSONResponse({"sub": claims["sub"], "report": "3 orders this week"})

    @app.get("/bff/api/me")
    def bff_api_me(request: Request) -> Response:
        try:  # the server exchanges the session and calls the API; the browser sees data only
            token = exchange_session_for_jwt(
                store,
                read_session_cookie(request.headers.get("cookie")),
                audience=API_AUDIENCE,
                allowed_audiences=EXCHANGE_AUDIENCES,
                signer=signer,
                now=now(),
            )
        except ExchangeRefused as exc:
            return _error(401, str(exc))
        return api_me(token)

    # --- phantom token ---

    @app.post("/token/opaque")
    def token_opaque(request: Request) -> Response:
        if not origin_ok(request):
            return forbidden_origin()
        current = current_session(request)
        if current is None:
            return _error(401, "not signed in")
        token = issue_opaque_token(r, current[1].user_id, scope="api", prefix=prefix, now=now())
        return JSONResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": OPAQUE_LIFETIME_SECONDS}
        )

    @app.post("/token/opaque/revoke")
    def token_opaque_revoke(form: Form) -> Response:
        revoke_opaque_token(r, form.get("token"), prefix=prefix)  # RFC 7009: 200 either way
        return JSONResponse({})

    @app.get("/gateway/api/me")
    def gateway_api_me(request: Request) -> Response:
        try:
            forwarded = gateway.forward_headers(request.headers.get("authorization"))
        except OpaqueTokenRefused as exc:
            return _unauthorized(str(exc))
        inner = forwarded["Authorization"].removeprefix("Bearer ")
        return api_me(inner)  # the service behind the gateway sees the JWT only

    # --- migration ---

    @app.get("/migration")
    def migration_counts() -> dict[str, Any]:
        return {
            "old_usage": migration.old_usage(),
            "refused_after_retirement": migration.refused_after_retirement(),
        }

    @app.post("/migration/retire")
    def migration_retire(request: Request) -> Response:
        if not origin_ok(request):
            return forbidden_origin()
        current = current_session(request)
        if current is None or current[1].data.get("role") != "admin":
            return _error(403, "admins only")
        migration.retire()
        return JSONResponse({"retired": True})

    @app.post("/legacy/token")
    def legacy_token(request: Request) -> Response:
        """What old clients were given: an HS256 token, until the migration retires it."""
        if not origin_ok(request):
            return forbidden_origin()
        current = current_session(request)
        if current is None:
            return _error(401, "not signed in")
        token = issue_access_token(
            current[1].user_id,
            legacy_secret,
            algorithm="HS256",
            kid="legacy",
            issuer=settings.issuer,
            audience=API_AUDIENCE,
            now=now(),
        )
        return JSONResponse({"access_token": token, "token_type": "Bearer"})

    return app


def app_from_env() -> FastAPI:
    """The factory ``uvicorn --factory app.main:app_from_env`` calls."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return create_app(Settings.from_env())
