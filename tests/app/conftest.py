"""Harness for the demo application: a demo IdP, in-process servers and a cookie-keeping client.

``app_server`` runs ``create_app`` under a real uvicorn in a thread on 127.0.0.1, with this
test's Redis key prefix and a clock the test moves. ``app_processes`` starts several uvicorn
processes that share one Redis and the same keys (key files in a temporary folder).
"""

from __future__ import annotations

import os
import re
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization

from app.main import create_app
from app.settings import Settings
from app.users import make_demo_users
from snippets.converting.demo_idp import DemoIdentityProvider
from snippets.tokens.keys import generate_private_key
from tests.helpers import ROOT, ManualClock
from tools.redis_server import free_port

PASSWORD = "demo-password-for-tests"
USERS = make_demo_users(PASSWORD)
_TLS = ssl.create_default_context()  # scrypt once, not once per app
SECOND_ORIGIN = "http://127.0.0.1:8002"
# Three base64url segments, the first starting with eyJ ('{"'): what a JWT looks like.
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


@dataclass
class Browser:
    """An HTTP client that keeps cookies itself (httpx would not send Secure ones over http)
    and sends ``Origin`` like a browser does: the target's own origin unless told otherwise.
    Every response it sees is kept in ``seen`` so tests can scan them.
    """

    base_url: str
    cookies: dict[str, str] = field(default_factory=dict)
    seen: list[httpx.Response] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.http = httpx.Client(timeout=5, verify=_TLS)  # plain http; one context for all

    def request(
        self,
        method: str,
        path: str,
        *,
        base_url: str | None = None,
        origin: str | None = "own",
        **kwargs: Any,
    ) -> httpx.Response:
        base = base_url or self.base_url
        headers = dict(kwargs.pop("headers", {}))
        if origin == "own":
            origin = base
        if origin is not None and method != "GET":
            headers.setdefault("Origin", origin)
        if self.cookies:
            headers.setdefault("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        url = path if path.startswith("http") else base + path
        response = self.http.request(method, url, headers=headers, **kwargs)
        self.seen.append(response)
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in header.lower() or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def login(
        self, username: str = "alice", password: str = PASSWORD, **kwargs: Any
    ) -> httpx.Response:
        return self.post("/login", data={"username": username, "password": password}, **kwargs)

    def exchange(self, audience: str = "urn:demo:api", **kwargs: Any) -> httpx.Response:
        return self.post("/token/exchange", json={"audience": audience}, **kwargs)

    def close(self) -> None:
        self.http.close()


@pytest.fixture(scope="session")
def idp() -> Iterator[DemoIdentityProvider]:
    with DemoIdentityProvider(client_id="demo-app") as provider:
        yield provider


@dataclass
class AppServer:
    base_url: str
    clock: ManualClock
    settings: Settings
    browsers: list[Browser] = field(default_factory=list)

    def browser(self) -> Browser:
        """A new browser (closed at the end of the test)."""
        self.browsers.append(Browser(self.base_url))
        return self.browsers[-1]


def idp_settings(idp: DemoIdentityProvider) -> dict[str, str]:
    """The settings that point an app at the stand-in IdP."""
    return {
        "idp_issuer": idp.issuer,
        "idp_jwks_url": idp.jwks_url,
        "idp_authorize_url": idp.authorize_url,
        "idp_token_url": idp.token_url,
        "client_secret": idp.client_secret,
    }


@contextmanager
def serve_app(settings: Settings, clock: ManualClock) -> Iterator[AppServer]:
    """The app on a free port of 127.0.0.1, in uvicorn, in a thread."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    running = AppServer(f"http://127.0.0.1:{port}", clock, settings)
    try:
        yield running
    finally:
        for b in running.browsers:
            b.close()
        server.should_exit = True
        thread.join(5)


@pytest.fixture
def app_server(redis_url: str, key_prefix: str, idp: DemoIdentityProvider) -> Iterator[AppServer]:
    clock = ManualClock(time.time())
    settings = Settings(
        redis_url=redis_url,
        redis_prefix=key_prefix,
        demo_users=USERS,
        cors_origins=(SECOND_ORIGIN,),
        now=clock,
        **idp_settings(idp),
    )
    with serve_app(settings, clock) as running:
        yield running


@pytest.fixture
def browser(app_server: AppServer) -> Browser:
    return app_server.browser()


@dataclass
class AppProcesses:
    base_urls: list[str]
    legacy_secret: bytes


@pytest.fixture
def app_processes(
    redis_url: str, key_prefix: str, idp: DemoIdentityProvider, tmp_path: Path
) -> Iterator[AppProcesses]:
    """Three uvicorn processes on free ports, one Redis, the same keys (files in tmp_path)."""
    key_file = tmp_path / "signing.pem"
    key_file.write_bytes(
        generate_private_key("EdDSA").private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    legacy_secret = os.urandom(32).hex().encode()
    legacy_file = tmp_path / "legacy-secret"
    legacy_file.write_bytes(legacy_secret)
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "APP_REDIS_PREFIX": key_prefix,
        "APP_SIGNING_KEY_FILE": str(key_file),
        "APP_LEGACY_SECRET_FILE": str(legacy_file),
        "APP_DEMO_PASSWORD": PASSWORD,
        "APP_IDP_ISSUER": idp.issuer,
        "APP_IDP_JWKS_URL": idp.jwks_url,
        "APP_IDP_AUTHORIZE_URL": idp.authorize_url,
        "APP_IDP_TOKEN_URL": idp.token_url,
        "APP_OIDC_CLIENT_SECRET": idp.client_secret,
        "APP_CORS_ORIGINS": SECOND_ORIGIN,
    }
    ports = [free_port() for _ in range(3)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "app.main:app_from_env",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 10
        with httpx.Client(timeout=1) as client:
            for url, process in zip(urls, processes, strict=True):
                while True:
                    assert process.poll() is None, process.stderr.read().decode()
                    assert time.monotonic() < deadline, f"{url} did not answer"
                    try:
                        if client.get(url + "/").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.05)
        yield AppProcesses(urls, legacy_secret)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stderr.close()
