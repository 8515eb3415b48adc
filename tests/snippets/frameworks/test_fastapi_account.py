"""The device list, "remember me" with sudo mode, and WebSockets (fastapi_account)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.websockets import WebSocketDisconnect

from snippets.frameworks.fastapi_account import (
    RECENT_LOGIN_SECONDS,
    REMEMBER_ABSOLUTE_SECONDS,
    AccountSettings,
    ReauthenticationRequired,
    create_app,
    require_recent_login,
)
from snippets.sessions.session_store import Session
from tests.helpers import ManualClock
from tests.strategies import HOSTILE_BODIES, HOSTILE_CONTENT_TYPES, HOSTILE_HEADER, JSON_VALUES
from tools.redis_server import RedisServer

SITE = "https://app.example.com"
SAME = {"Origin": SITE, "Sec-Fetch-Site": "same-origin"}
CROSS = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
MINUTE, HOUR, DAY = 60, 3600, 86400
# cheap parameters for the tests' speed; the page shows argon2-cffi's defaults
HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
HASHES = {"alice": HASHER.hash("alice's password"), "bob": HASHER.hash("bob's password")}


def check_password(user: str, password: str) -> bool:
    try:
        HASHER.verify(HASHES.get(user, HASHES["alice"]), password)
    except VerificationError:
        return False
    return user in HASHES


def _cookie(answer: Any) -> dict[str, str]:
    assert answer.status_code == 204, answer.text
    return {"Cookie": answer.headers["set-cookie"].split(";")[0]}


class Site:
    """The account app under FastAPI's test client, with the test's clock. Every request
    names its cookie: the client's own cookie jar is emptied after each one."""

    def __init__(self, client: TestClient, account: AccountSettings, clock: ManualClock):
        self.client, self.account, self.clock = client, account, clock
        client.event_hooks["response"].append(lambda _: client.cookies.clear())

    def log_in(self, user: str = "alice", *, remember: bool = False, **headers: str) -> Any:
        form = {"user": user, "password": f"{user}'s password", "remember": remember}
        return self.client.post("/login", json=form, headers={**SAME, **headers})

    def cookie(self, user: str = "alice", *, remember: bool = False) -> dict[str, str]:
        return _cookie(self.log_in(user, remember=remember))

    def devices(self, cookie: dict[str, str]) -> Any:
        return self.client.get("/account/sessions", headers=cookie)

    def end(self, cookie: dict[str, str], handle: str, **headers: str) -> Any:
        path = f"/account/sessions/{handle}/end"
        return self.client.post(path, headers={**cookie, **SAME, **headers})

    def change_email(self, cookie: dict[str, str]) -> Any:
        body = {"email": "alice@example.org"}
        return self.client.post("/account/email", json=body, headers={**cookie, **SAME})

    def confirm(self, cookie: dict[str, str], password: str | None = None) -> Any:
        body = {"password": "alice's password" if password is None else password}
        path = "/account/confirm-password"
        return self.client.post(path, json=body, headers={**cookie, **SAME})


@pytest.fixture
def make_site(
    make_settings: Callable[..., Any], redis_url: str, clock: ManualClock
) -> Iterator[Callable[..., Site]]:
    clients: list[TestClient] = []

    def make(url: str = redis_url, **options: Any) -> Site:
        account = AccountSettings(
            make_settings(url), origin=SITE, check_password=check_password, **options
        )
        client = TestClient(create_app(account), base_url=SITE)
        clients.append(client)
        client.__enter__()
        return Site(client, account, clock)

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def site(make_site: Callable[..., Site]) -> Site:
    return make_site()


# -- the device list ---------------------------------------------------------------------


def test_a_user_lists_their_devices_and_ends_one_by_its_handle(site: Site) -> None:
    laptop = site.cookie()
    site.clock.advance(MINUTE)
    phone = site.cookie(remember=True)
    bob = site.cookie("bob")
    devices = site.devices(phone).json()
    assert [d["current"] for d in devices] == [False, True]  # oldest first, both tiers
    assert all(len(d["handle"]) == 64 for d in devices)
    assert devices[0]["created_at"] < devices[1]["created_at"]
    assert site.end(phone, devices[0]["handle"]).status_code == 204
    assert site.devices(laptop).status_code == 401  # that device is logged out
    assert [d["current"] for d in site.devices(phone).json()] == [True]
    assert site.end(phone, devices[0]["handle"]).status_code == 404  # already over
    assert site.devices(bob).status_code == 200  # nobody else's session moved


def test_ending_a_device_needs_a_recent_password(site: Site) -> None:
    laptop, phone = site.cookie(), site.cookie(remember=True)
    handle = next(d["handle"] for d in site.devices(phone).json() if not d["current"])
    site.clock.advance(RECENT_LOGIN_SECONDS + 1)
    assert site.end(phone, handle).status_code == 403  # a stolen phone cannot do it
    assert site.devices(laptop).status_code == 200
    phone = _cookie(site.confirm(phone))
    assert site.end(phone, handle).status_code == 204
    assert site.devices(laptop).status_code == 401


def test_a_handle_of_another_users_session_ends_nothing(site: Site) -> None:
    alice, bob = site.cookie(), site.cookie("bob")
    bobs = site.devices(bob).json()[0]["handle"]
    assert site.end(alice, bobs).status_code == 404
    assert site.devices(bob).status_code == 200
    session_id = alice["Cookie"].split("=", 1)[1]
    for made_up in [session_id, "0" * 64, "x", "A" * 64, "%00" * 30]:  # an ID is no handle
        assert site.end(alice, made_up).status_code == 404
    assert site.devices(alice).status_code == 200


def test_ending_a_device_refuses_cross_site_and_anonymous_requests(site: Site) -> None:
    phone = site.cookie()
    handle = site.devices(phone).json()[0]["handle"]
    answer = site.end(phone, handle, **CROSS)
    assert (answer.status_code, answer.json()) == (403, {"detail": "cross-site request refused"})
    assert site.end({}, handle).status_code == 401
    assert site.devices(phone).status_code == 200  # still logged in


# -- remember me --------------------------------------------------------------------------


def test_remember_me_outlives_the_browser_session_and_still_ends(site: Site) -> None:
    answer = site.log_in(remember=True)
    assert f"Max-Age={REMEMBER_ABSOLUTE_SECONDS}" in answer.headers["set-cookie"]
    assert "Max-Age" not in site.log_in().headers["set-cookie"]  # ends with the browser
    remembered, browser = _cookie(answer), site.cookie()
    site.clock.advance(9 * HOUR)
    assert site.devices(browser).status_code == 401  # past the 8-hour absolute timeout
    for _ in range(3):  # used every 13 days: the 14-day idle timeout keeps sliding...
        assert site.devices(remembered).status_code == 200
        site.clock.advance(13 * DAY)
    site.clock.advance(DAY)  # ...until 30 days after login
    assert site.devices(remembered).status_code == 401


def test_a_remembered_session_idles_out_after_two_weeks(site: Site) -> None:
    remembered = site.cookie(remember=True)
    site.clock.advance(14 * DAY + 1)
    assert site.devices(remembered).status_code == 401


def test_log_out_everywhere_ends_remembered_sessions_too(site: Site) -> None:
    remembered, browser = site.cookie(remember=True), site.cookie()
    site.account.auth.sessions.destroy_all("alice")
    site.account.remembered.destroy_all("alice")
    assert site.devices(remembered).status_code == 401
    assert site.devices(browser).status_code == 401


def test_a_wrong_password_starts_no_session(site: Site) -> None:
    wrong = {"user": "alice", "password": "guess", "remember": True}
    answer = site.client.post("/login", json=wrong, headers=SAME)
    assert (answer.status_code, answer.json()) == (401, {"detail": "wrong user or password"})
    assert "set-cookie" not in answer.headers
    unknown = {"user": "mallory", "password": "alice's password"}
    assert site.client.post("/login", json=unknown, headers=SAME).status_code == 401


def test_malformed_login_bodies_get_a_generic_answer_that_echoes_nothing(site: Site) -> None:
    secret = "hunter2" * 200  # too long: refused by validation
    for body in [{"user": "alice", "password": secret}, {"user": "", "password": "x"}, [], {}]:
        answer = site.client.post("/login", json=body, headers=SAME)
        assert (answer.status_code, answer.json()) == (422, {"detail": "invalid request"})
    answer = site.client.post("/login", content=b"\xff{", headers=SAME)
    assert answer.status_code == 422 and "hunter2" not in answer.text


# -- sudo mode ----------------------------------------------------------------------------


def test_a_sensitive_action_needs_a_password_entered_in_the_last_minutes(site: Site) -> None:
    cookie = site.cookie(remember=True)
    assert site.change_email(cookie).status_code == 200  # just logged in
    site.clock.advance(RECENT_LOGIN_SECONDS + 1)
    answer = site.change_email(cookie)
    assert (answer.status_code, answer.json()) == (
        403,
        {"detail": "confirm your password to continue"},
    )
    assert site.devices(cookie).status_code == 200  # still signed in: only sudo lapsed
    assert site.confirm(cookie, "guess").status_code == 401
    assert site.change_email(cookie).status_code == 403
    answer = site.confirm(cookie)
    assert f"Max-Age={REMEMBER_ABSOLUTE_SECONDS}" in answer.headers["set-cookie"]
    fresh = _cookie(answer)
    assert fresh != cookie
    assert site.devices(cookie).status_code == 401  # a new ID: the old one is dead
    assert site.change_email(fresh).json() == {"user": "alice", "email": "alice@example.org"}


def test_confirming_the_password_is_throttled(site: Site) -> None:
    cookie = site.cookie()
    answers = [site.confirm(cookie, "guess").status_code for _ in range(11)]
    assert answers == [401] * 10 + [429]
    answer = site.confirm(cookie)  # even the right password, while throttled
    assert answer.status_code == 429 and int(answer.headers["retry-after"]) > 0


def test_sudo_mode_refuses_cross_site_requests(site: Site) -> None:
    cookie = site.cookie()
    body = {"email": "mallory@example.org"}
    answer = site.client.post("/account/email", json=body, headers={**cookie, **CROSS})
    assert answer.status_code == 403
    answer = site.client.post(
        "/account/confirm-password", json={"password": "x"}, headers={**cookie, **CROSS}
    )
    assert answer.status_code == 403


def _session(data: dict[str, Any]) -> Session:
    return Session("alice", data, "0" * 64, 0.0, 1e12, 1e12)


@given(
    st.one_of(
        st.none(),
        st.booleans(),
        st.text(max_size=20),
        st.floats(allow_nan=True),
        st.integers(),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
    )
)
@settings(max_examples=300, deadline=None)
def test_only_a_recent_numeric_auth_time_unlocks_sudo_mode(auth_time: object) -> None:
    now, within = 1_700_000_000.0, 600.0
    ok = (
        type(auth_time) in (int, float)
        and not math.isnan(auth_time)  # type: ignore[arg-type]
        and now - within <= auth_time <= now  # type: ignore[operator]
    )
    try:
        require_recent_login(_session({"auth_time": auth_time}), now=now, within=within)
    except ReauthenticationRequired:
        assert not ok
    else:
        assert ok


def test_no_auth_time_or_one_from_the_future_is_no_recent_login() -> None:
    for data in [{}, {"auth_time": 1_700_000_001.0}, {"auth_time": True}]:
        with pytest.raises(ReauthenticationRequired):
            require_recent_login(_session(data), now=1_700_000_000.0, within=600)


# -- WebSockets ---------------------------------------------------------------------------


def _refused(site: Site, headers: dict[str, Any]) -> int:
    connect = site.client.websocket_connect
    with pytest.raises(WebSocketDisconnect) as refused, connect("/ws/echo", headers=headers):
        pass
    return refused.value.code


def test_the_handshake_needs_this_sites_origin_and_a_live_session(site: Site) -> None:
    cookie = site.cookie()
    assert _refused(site, {**cookie, "Origin": "https://evil.example"}) == 1008
    assert _refused(site, {**cookie, "Origin": SITE + ".evil.example"}) == 1008
    assert _refused(site, cookie) == 1008  # no Origin: not a page of this site
    assert _refused(site, {"Origin": SITE}) == 1008  # no session
    forged = {"Cookie": "__Host-session=" + "A" * 43, "Origin": SITE}
    assert _refused(site, forged) == 1008
    with site.client.websocket_connect("/ws/echo", headers={**cookie, "Origin": SITE}) as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "alice: hello"


@pytest.mark.parametrize("ending", ["logout", "log out everywhere", "ended by handle"])
def test_an_open_socket_closes_soon_after_its_session_ends(
    make_site: Callable[..., Site], ending: str
) -> None:
    site = make_site(recheck_seconds=0.2)
    cookie = site.cookie(remember=True)
    with site.client.websocket_connect("/ws/echo", headers={**cookie, "Origin": SITE}) as ws:
        ws.send_text("one")
        assert ws.receive_text() == "alice: one"
        session_id = cookie["Cookie"].split("=", 1)[1]
        store = site.account.remembered
        if ending == "logout":
            assert store.destroy(session_id)
        elif ending == "log out everywhere":
            assert store.destroy_all("alice") == 1
        else:
            [listed] = store.list_sessions("alice")
            assert store.end_session("alice", listed.handle)
        started = time.monotonic()
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()  # the client says nothing; the server closes
    assert (closed.value.code, closed.value.reason) == (1008, "session ended")
    assert time.monotonic() - started < 30  # bound by the recheck, not by the client


def test_an_open_socket_closes_when_its_session_idles_out(
    make_site: Callable[..., Site],
) -> None:
    site = make_site(recheck_seconds=0.2)
    cookie = site.cookie()
    with site.client.websocket_connect("/ws/echo", headers={**cookie, "Origin": SITE}) as ws:
        ws.send_text("one")
        assert ws.receive_text() == "alice: one"
        site.clock.advance(31 * MINUTE)  # the socket's rechecks do not count as use
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1008


def test_a_live_session_keeps_its_socket_across_rechecks(
    make_site: Callable[..., Site],
) -> None:
    site = make_site(recheck_seconds=0.05)
    cookie = site.cookie()
    with site.client.websocket_connect("/ws/echo", headers={**cookie, "Origin": SITE}) as ws:
        for i in range(5):
            ws.send_text(str(i))
            assert ws.receive_text() == f"alice: {i}"
            time.sleep(0.06)  # at least one recheck between messages


def test_with_redis_down_the_handshake_and_an_open_socket_answer_try_again_later(
    make_site: Callable[..., Site], private_redis: RedisServer
) -> None:
    site = make_site(private_redis.url, recheck_seconds=0.2)
    cookie = site.cookie()
    headers = {**cookie, "Origin": SITE}
    with site.client.websocket_connect("/ws/echo", headers=headers) as ws:
        ws.send_text("one")
        assert ws.receive_text() == "alice: one"
        private_redis.stop()
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1013
    assert _refused(site, headers) == 1013
    answer = site.devices(cookie)
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"


# -- hostile input: never a 500, a generic body, and a socket closed, never a crash -------

_ACCOUNT_BODIES = st.one_of(
    HOSTILE_BODIES,
    st.dictionaries(
        st.sampled_from(["user", "password", "remember", "email"]), JSON_VALUES, max_size=4
    ).map(lambda d: json.dumps(d).encode()),
)


def _account_routes(site: Site) -> list[tuple[str, str]]:
    return [
        (method, route.path)
        for route in site.client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, APIRoute)
        for method in sorted(route.methods)
    ]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    route=st.integers(min_value=0),
    handle=st.one_of(st.text(max_size=70), st.just("0" * 64)),
    real_cookie=st.booleans(),
    cookie=HOSTILE_HEADER,
    origin=HOSTILE_HEADER,
    fetch_site=HOSTILE_HEADER,
    content_type=HOSTILE_CONTENT_TYPES,
    body=_ACCOUNT_BODIES,
)
def test_a_hostile_request_to_any_account_route_gets_a_4xx_never_a_500(  # type: ignore[no-untyped-def]
    site: Site, route, handle, real_cookie, cookie, origin, fetch_site, content_type, body
) -> None:
    routes = _account_routes(site)
    method, path = routes[route % len(routes)]
    path = path.replace("{handle}", quote(handle, safe="") or "x")
    headers = {
        "Cookie": site.cookie()["Cookie"] if real_cookie else cookie,
        "Origin": origin,
        "Sec-Fetch-Site": fetch_site,
        "Content-Type": content_type,
    }
    raw = {k: v.encode("latin-1") for k, v in headers.items() if v}
    answer = site.client.request(method, path, headers=raw, content=body)
    assert answer.status_code < 500, answer.text[:300]
    if answer.status_code >= 400 and answer.headers.get("content-type", "").startswith(
        "application/json"
    ):
        assert set(answer.json()) == {"detail"}, answer.text[:300]
        assert "Error" not in answer.text and "Traceback" not in answer.text


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cookie=HOSTILE_HEADER, origin=HOSTILE_HEADER)
def test_a_hostile_handshake_is_closed_with_1008(site: Site, cookie: str, origin: str) -> None:
    # no hostile cookie is a live session, whatever the origin
    headers = {k: v for k, v in {"Cookie": cookie, "Origin": origin}.items() if v}
    assert _refused(site, {k: v.encode("latin-1") for k, v in headers.items()}) == 1008
