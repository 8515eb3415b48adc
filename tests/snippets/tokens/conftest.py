"""Keys for every algorithm (made once per session) and helpers to build hostile tokens."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

import jwt
import pytest

from snippets.tokens.jwks_verifier import LocalServer
from snippets.tokens.keys import ALGORITHMS
from tests.helpers import ManualClock, signing_and_verifying_keys

ISSUER = "https://auth.example.com"
AUDIENCE = "https://api.example.com"


@dataclass(frozen=True)
class KeyPair:
    algorithm: str
    signing: Any
    verifying: Any


def _pair(algorithm: str) -> KeyPair:
    return KeyPair(algorithm, *signing_and_verifying_keys(algorithm))


_PAIRS = {alg: _pair(alg) for alg in ALGORITHMS}


@pytest.fixture(params=ALGORITHMS)
def pair(request: pytest.FixtureRequest) -> KeyPair:
    return _PAIRS[request.param]


@pytest.fixture(scope="session")
def pairs() -> dict[str, KeyPair]:
    return _PAIRS


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_raw(pair: KeyPair, header: bytes | dict, payload: bytes | dict) -> str:
    """Sign exactly these header and payload bytes: a valid signature over hostile JSON."""
    if isinstance(header, dict):
        header = json.dumps(header).encode()
    if isinstance(payload, dict):
        payload = json.dumps(payload).encode()
    signing_input = f"{b64(header)}.{b64(payload)}"
    algo = jwt.get_algorithm_by_name(pair.algorithm)
    signature = algo.sign(signing_input.encode(), algo.prepare_key(pair.signing))
    return f"{signing_input}.{b64(signature)}"


def good_claims(now: float | None = None, **changes: Any) -> dict[str, Any]:
    t = int(time.time() if now is None else now)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-42",
        "iat": t,
        "exp": t + 900,
        "jti": "j-1",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


class JWKSServer:
    """A real HTTP server on 127.0.0.1 that publishes a JWKS and counts its requests."""

    def __init__(self) -> None:
        import http.server

        self.document: dict[str, Any] = {"keys": []}
        self.fetches = 0
        self.up = True
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                if not owner.up:
                    self.send_error(503)
                    return
                body = json.dumps(owner.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = LocalServer(Handler)
        self.url = self._server.url + "/jwks.json"

    def publish(self, *entries: tuple[str, Any]) -> None:
        from snippets.tokens.keys import build_jwks

        self.document = build_jwks(entries)

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def jwks_server():
    server = JWKSServer()
    yield server
    server.close()


class FakeClock(ManualClock):
    """The shared manual clock, starting where these tests expect."""

    def __init__(self, now: float = 1000.0) -> None:
        super().__init__(now)
