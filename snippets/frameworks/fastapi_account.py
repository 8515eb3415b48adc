"""FastAPI: what a session app needs past login, on the guards of fastapi_auth.

- The device list: a user sees their sessions and, with a recent password, ends one by
  its handle, never by its session ID, which the server does not keep.
- "Remember me" and sudo mode: a remembered session lives for weeks, but a sensitive
  action still asks for the password again unless it was entered in the last few
  minutes; confirming it moves the session to a new ID.
- WebSockets: the handshake is authenticated with the session cookie, its ``Origin``
  is checked against cross-site WebSocket hijacking, and an open socket is closed
  soon after its session ends.

Run it without a server of its own (FastAPI's test client, a Redis of your choice)::

    REDIS_URL=redis://127.0.0.1:6379/0 python -m snippets.frameworks.fastapi_account
"""

from __future__ import annotations

# --8<-- [start:setup]
import asyncio
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from snippets.frameworks.fastapi_auth import closing, install
from snippets.frameworks.guards import AuthSettings, NotSignedIn
from snippets.sessions.csrf_check import request_origin_allowed
from snippets.sessions.login_throttle import (
    LoginThrottle,
    LoginThrottled,
    ThrottleUnavailable,
)
from snippets.sessions.session_cookie import build_session_cookie, read_session_cookie
from snippets.sessions.session_store import (
    AsyncRedisSessionStore,
    RedisSessionStore,
    Session,
    SessionStoreUnavailable,
)

DAY = 24 * 60 * 60
REMEMBER_IDLE_SECONDS = 14 * DAY  # a remembered session unused for two weeks ends
REMEMBER_ABSOLUTE_SECONDS = 30 * DAY  # and every one ends 30 days after login
RECENT_LOGIN_SECONDS = 10 * 60  # sudo mode: the password counts for 10 minutes
RECHECK_SECONDS = 30.0  # an open WebSocket asks the store again this often
AUTH_TIME = "auth_time"  # when the password was last entered, in the session's data
MAX_DEVICE_CHARS = 120  # how much of the User-Agent is kept to name a device
# --8<-- [end:setup]


# --8<-- [start:settings]
@dataclass
class AccountSettings:
    """The auth settings, this site's origin, the password check, and a second store
    for remembered sessions (same Redis, longer timeouts, another key prefix).

    Attributes:
        auth: The guards' settings (Redis, keys, clock).
        origin: This site's origin; unsafe requests and WebSockets from any other
            origin are refused.
        check_password: ``check_password(user_id, password)`` is True if the password
            is right. Use a slow hash (Argon2id, scrypt), never a plain comparison.
        recent_login_seconds: How long an entered password unlocks sensitive actions.
        recheck_seconds: How often an open WebSocket asks the store again.
    """

    auth: AuthSettings
    origin: str
    check_password: Callable[[str, str], bool] = field(repr=False)
    recent_login_seconds: float = RECENT_LOGIN_SECONDS
    recheck_seconds: float = RECHECK_SECONDS
    remembered: RedisSessionStore = field(init=False, repr=False)
    throttle: LoginThrottle = field(init=False, repr=False)
    _async_remembered: list[AsyncRedisSessionStore] = field(
        init=False, repr=False, default_factory=list
    )

    def __post_init__(self) -> None:
        self.remembered = RedisSessionStore(self.auth.client, **self._remembering())
        self.throttle = LoginThrottle(self.auth.client, prefix=self.auth.prefix)

    def _remembering(self) -> dict[str, Any]:
        return {
            "prefix": f"{self.auth.prefix}remembered:",
            "idle_timeout": REMEMBER_IDLE_SECONDS,
            "absolute_timeout": REMEMBER_ABSOLUTE_SECONDS,
            "now": self.auth.now,
        }

    @property
    def async_remembered(self) -> AsyncRedisSessionStore:
        if not self._async_remembered:
            client = self.auth.async_client
            store = AsyncRedisSessionStore(client, **self._remembering())
            self._async_remembered.append(store)
        return self._async_remembered[0]

    def async_stores(self) -> tuple[AsyncRedisSessionStore, AsyncRedisSessionStore]:
        """The browser-session store, then the remembered one."""
        return self.auth.async_sessions, self.async_remembered


def _account(connection: Request | WebSocket) -> AccountSettings:
    settings: AccountSettings = connection.app.state.account
    return settings


# --8<-- [end:settings]


# --8<-- [start:errors]
class ReauthenticationRequired(Exception):
    """A sensitive action, and the password was not entered recently: answer 403,
    and let the page ask for it (POST /account/confirm-password)."""


class CrossSiteRequest(Exception):
    """An unsafe request from another origin: answer 403."""


def _json(status: int, detail: str, **headers: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status, headers=headers)


async def _answer(_: Request, error: Exception) -> JSONResponse:
    if isinstance(error, ReauthenticationRequired):
        return _json(403, "confirm your password to continue")
    if isinstance(error, LoginThrottled):
        retry = str(error.retry_after)
        return _json(429, "too many attempts", **{"Retry-After": retry})
    if isinstance(error, ThrottleUnavailable):
        unavailable = "service unavailable, try again shortly"
        return _json(503, unavailable, **{"Retry-After": "5"})
    if isinstance(error, RequestValidationError):  # FastAPI's own echoes the input:
        return _json(422, "invalid request")  # a password, for one
    return _json(403, "cross-site request refused")


ACCOUNT_ERRORS = (
    ReauthenticationRequired,
    CrossSiteRequest,
    LoginThrottled,
    ThrottleUnavailable,
    RequestValidationError,
)
# --8<-- [end:errors]


# --8<-- [start:guards]
async def cookie_session(connection: Request | WebSocket) -> Session | None:
    """The live session named by the ``Cookie`` header, browser or remembered, or None.
    A malformed cookie never reaches Redis; a remembered session costs a second read (a
    miss in the browser-session store first).

    Raises:
        SessionStoreUnavailable: Redis could not answer.
    """
    session_id = read_session_cookie(connection.headers.get("cookie"))
    for store in _account(connection).async_stores():
        session = await store.validate(session_id)
        if session is not None:
            return session
    return None


async def signed_in(request: Request) -> Session:
    """The live session of this request, or 401; 503 if Redis is down."""
    session = await cookie_session(request)
    if session is None:
        raise NotSignedIn
    return session


def same_origin(request: Request) -> None:
    """Refuse an unsafe request that this site's own pages did not send (CSRF)."""
    allowed = request_origin_allowed(
        request.method,
        sec_fetch_site=request.headers.get("sec-fetch-site"),
        origin=request.headers.get("origin"),
        own_origin=_account(request).origin,
    )
    if not allowed:
        raise CrossSiteRequest


def require_recent_login(session: Session, *, now: float, within: float) -> None:
    """Sudo mode: refuse unless the password was entered within ``within`` seconds.

    Raises:
        ReauthenticationRequired: No recent, well-formed ``auth_time`` in the session.
    """
    auth_time = session.data.get(AUTH_TIME)
    if not isinstance(auth_time, int | float) or isinstance(auth_time, bool):
        raise ReauthenticationRequired
    if not now - within <= auth_time <= now:  # also refuses NaN
        raise ReauthenticationRequired


async def recently_authenticated(
    request: Request, session: Annotated[Session, Depends(signed_in)]
) -> Session:
    """`signed_in`, and the password entered in the last few minutes, or 403."""
    account = _account(request)
    now, within = account.auth.now(), account.recent_login_seconds
    require_recent_login(session, now=now, within=within)
    return session


SignedIn = Annotated[Session, Depends(signed_in)]
SameOrigin = Depends(same_origin)
RecentlyAuthenticated = Annotated[Session, Depends(recently_authenticated)]
# --8<-- [end:guards]


# --8<-- [start:login]
def log_in(
    account: AccountSettings,
    user_id: str,
    password: str,
    *,
    remember: bool,
    address: str | None,
    device: str,
) -> str | None:
    """Check the password (throttled) and start a browser or a remembered session.

    Returns:
        The ``Set-Cookie`` value, or None if the password is wrong.

    Raises:
        LoginThrottled: Too many attempts for this account or address.
        ThrottleUnavailable, SessionStoreUnavailable: Redis could not answer.
    """
    account.throttle.attempt(user_id, address)  # before the password check
    if not account.check_password(user_id, password):
        return None
    account.throttle.succeeded(user_id)
    data = {AUTH_TIME: account.auth.now(), "device": device[:MAX_DEVICE_CHARS]}
    if remember:  # a cookie that outlives the browser, as long as the session
        session_id = account.remembered.create(user_id, data)
        return build_session_cookie(session_id, max_age=REMEMBER_ABSOLUTE_SECONDS)
    session_id = account.auth.sessions.create(user_id, data)
    return build_session_cookie(session_id)


def confirm_password(
    account: AccountSettings, session_id: str | None, password: str, address: str | None
) -> str | None:
    """Sudo mode: check the password again, then move the session to a new ID with a
    fresh ``auth_time`` (a privilege change, so the ID changes).

    Returns:
        The new ``Set-Cookie`` value, or None if the password is wrong or the session
        is gone.
    """
    stores = (account.auth.sessions, account.remembered)
    for store in stores:
        session = store.validate(session_id)
        if session is None:
            continue
        account.throttle.attempt(session.user_id, address)
        if not account.check_password(session.user_id, password):
            return None
        account.throttle.succeeded(session.user_id)
        data = {**session.data, AUTH_TIME: account.auth.now()}
        new_id = store.rotate(session_id, data)
        if new_id is None:
            return None
        remembered = store is account.remembered
        max_age = REMEMBER_ABSOLUTE_SECONDS if remembered else None
        return build_session_cookie(new_id, max_age=max_age)
    return None


# --8<-- [end:login]


# --8<-- [start:websocket]
async def websocket_session(websocket: WebSocket) -> Session | None:
    """Authenticate a WebSocket handshake, before accepting it.

    Browsers send cookies with a WebSocket handshake from any site, and the same-origin
    policy does not apply to WebSockets: the ``Origin`` check is what stops another
    site's page from opening a socket as the user (cross-site WebSocket hijacking).

    Returns:
        The session, or None after closing the handshake (the client sees HTTP 403).
    """
    account = _account(websocket)
    if websocket.headers.get("origin") != account.origin:
        await websocket.close(code=1008)  # policy violation
        return None
    try:
        session = await cookie_session(websocket)
    except SessionStoreUnavailable:
        await websocket.close(code=1013)  # try again later
        return None
    if session is None:
        await websocket.close(code=1008)
    return session


async def still_live(account: AccountSettings, session: Session) -> bool:
    """Whether ``session`` is still live: the store lists it for its user.

    Asks by handle, since the socket does not keep the session ID. This does not move
    the idle deadline: an open socket does not keep an idle user signed in. A rotation
    (confirming the password) moves the session to a new handle, so the socket closes
    and the page opens a new one with the new cookie.

    Raises:
        SessionStoreUnavailable: Redis could not answer.
    """
    for store in account.async_stores():
        listed = await store.list_sessions(session.user_id)
        if any(s.handle == session.handle for s in listed):
            return True
    return False


async def serve_socket(websocket: WebSocket, session: Session) -> None:
    """Echo messages until the client leaves or the session ends (close 1008).

    Each wait for a message lasts at most ``recheck_seconds``; the session is checked
    again whenever that much time has passed, so a logout, a "log out everywhere" or
    an expiry closes the socket within that bound, even if the client is silent.
    """
    account = _account(websocket)
    checked = time.monotonic()
    while True:
        wait = max(0.0, checked + account.recheck_seconds - time.monotonic())
        try:
            text = await asyncio.wait_for(websocket.receive_text(), timeout=wait)
        except TimeoutError:
            text = None
        except WebSocketDisconnect:
            return
        if time.monotonic() - checked >= account.recheck_seconds:
            try:
                live = await still_live(account, session)
            except SessionStoreUnavailable:
                await websocket.close(code=1013)
                return
            if not live:
                await websocket.close(code=1008, reason="session ended")
                return
            checked = time.monotonic()
        if text is not None:
            await websocket.send_text(f"{session.user_id}: {text[:1000]}")


# --8<-- [end:websocket]


# --8<-- [start:app]
class Credentials(BaseModel):
    user: str = Field(min_length=1, max_length=256)
    password: str = Field(max_length=1024)
    remember: bool = False


class Password(BaseModel):
    password: str = Field(max_length=1024)


class NewEmail(BaseModel):
    email: str = Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")


def _device(session: Session, current: Session) -> dict[str, Any]:
    return {
        "handle": session.handle,
        "device": str(session.data.get("device", "")),
        "created_at": session.created_at,
        "current": session.handle == current.handle,
    }


def create_app(account: AccountSettings) -> FastAPI:
    """Login with "remember me", the device list, sudo mode and a WebSocket."""
    app = FastAPI(lifespan=closing(account.auth))
    install(app, account.auth)
    app.state.account = account
    for error in ACCOUNT_ERRORS:
        app.add_exception_handler(error, _answer)

    @app.post("/login", dependencies=[SameOrigin])
    def login(request: Request, form: Credentials) -> Response:
        address = request.client.host if request.client else None
        device = request.headers.get("user-agent", "")
        cookie = log_in(
            account,
            form.user,
            form.password,
            remember=form.remember,
            address=address,
            device=device,
        )
        if cookie is None:
            return _json(401, "wrong user or password")
        return Response(status_code=204, headers={"Set-Cookie": cookie})

    @app.get("/account/sessions")
    async def devices(session: SignedIn) -> list[dict[str, Any]]:
        listed: list[Session] = []
        for store in account.async_stores():
            listed += await store.list_sessions(session.user_id)
        return [_device(s, session) for s in sorted(listed, key=lambda s: s.created_at)]

    @app.post("/account/sessions/{handle}/end", dependencies=[SameOrigin])
    async def end_device(handle: str, session: RecentlyAuthenticated) -> Response:
        for store in account.async_stores():
            if await store.end_session(session.user_id, handle):
                return Response(status_code=204)
        return _json(404, "no such session")

    @app.post("/account/confirm-password", dependencies=[SameOrigin])
    def confirm(request: Request, form: Password) -> Response:
        session_id = read_session_cookie(request.headers.get("cookie"))
        address = request.client.host if request.client else None
        cookie = confirm_password(account, session_id, form.password, address)
        if cookie is None:
            return _json(401, "wrong password")
        return Response(status_code=204, headers={"Set-Cookie": cookie})

    @app.post("/account/email", dependencies=[SameOrigin])
    async def change_email(
        session: RecentlyAuthenticated, form: NewEmail
    ) -> dict[str, str]:
        return {"user": session.user_id, "email": form.email}  # a real app stores it

    @app.websocket("/ws/echo")
    async def echo(websocket: WebSocket) -> None:
        session = await websocket_session(websocket)
        if session is None:
            return
        await websocket.accept()
        await serve_socket(websocket, session)

    return app


# --8<-- [end:app]


def main() -> None:
    # --8<-- [start:demo]
    from argon2 import PasswordHasher
    from argon2.exceptions import VerificationError
    from fastapi.testclient import TestClient

    hasher = PasswordHasher()  # Argon2id with argon2-cffi's defaults
    hashes: Mapping[str, str] = {"alice": hasher.hash("correct horse battery")}
    unknown = hasher.hash("no such user")  # checked for unknown users: same time

    def check_password(user_id: str, password: str) -> bool:
        try:
            hasher.verify(hashes.get(user_id, unknown), password)
        except VerificationError:
            return False
        return user_id in hashes

    clock = [1_700_000_000.0]
    auth = AuthSettings(
        redis_url=os.environ["REDIS_URL"],
        key=None,  # this app takes no bearer tokens
        algorithm="EdDSA",
        issuer="https://auth.example.com",
        audience="https://api.example.com",
        prefix=os.environ.get("REDIS_KEY_PREFIX", "app:"),
        now=lambda: clock[0],
    )
    site = "https://app.example.com"
    account = AccountSettings(auth, origin=site, check_password=check_password)
    same_site = {"Origin": site, "Sec-Fetch-Site": "same-origin"}

    def cookie_of(answer: Any) -> dict[str, str]:
        return {"Cookie": answer.headers["set-cookie"].split(";")[0]}

    with TestClient(create_app(account), base_url=site) as client:
        form = {"user": "alice", "password": "correct horse battery"}
        laptop = cookie_of(client.post("/login", json=form, headers=same_site))
        remembered = {**form, "remember": True}
        answer = client.post("/login", json=remembered, headers=same_site)
        print("Max-Age=2592000" in answer.headers["set-cookie"])
        #> True
        phone = cookie_of(answer)
        devices = client.get("/account/sessions", headers=phone).json()
        print([d["current"] for d in devices])
        #> [False, True]
        end = f"/account/sessions/{devices[0]['handle']}/end"
        print(client.post(end, headers={**phone, **same_site}).status_code)
        #> 204
        print(client.get("/account/sessions", headers=laptop).status_code)
        #> 401
        clock[0] += 3600  # an hour later, the remembered session is still live...
        email = {"email": "alice@example.org"}
        headers = {**phone, **same_site}
        answer = client.post("/account/email", json=email, headers=headers)
        print(answer.status_code, answer.json())  # ...but sudo mode has lapsed
        #> 403 {'detail': 'confirm your password to continue'}
        again = {"password": "correct horse battery"}
        answer = client.post(
            "/account/confirm-password", json=again, headers={**phone, **same_site}
        )
        phone = cookie_of(answer)  # a new session ID
        headers = {**phone, **same_site}
        answer = client.post("/account/email", json=email, headers=headers)
        print(answer.json())
        #> {'user': 'alice', 'email': 'alice@example.org'}
        ws_headers = {**phone, "Origin": site}
        with client.websocket_connect("/ws/echo", headers=ws_headers) as ws:
            ws.send_text("hello")
            print(ws.receive_text())
            #> alice: hello
        auth.sessions.destroy_all("alice")
        account.remembered.destroy_all("alice")
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
