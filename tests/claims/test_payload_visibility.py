"""Payload visibility: a JWT's claims are readable by anyone who holds it; a session cookie
reveals nothing, and Redis does not even hold the ID."""

from __future__ import annotations

import base64
import json

import redis

from snippets.sessions.session_cookie import build_session_cookie
from snippets.sessions.session_store import RedisSessionStore
from tests.claims.conftest import T0, Keys
from tests.helpers import ManualClock

PRIVATE = {"email": "ada.lovelace@example.com", "roles": ["admin"], "name": "Ada Lovelace"}


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def test_anyone_reads_a_jwt_payload_without_a_key(keys: Keys) -> None:
    token = keys.issue("user-42", **PRIVATE)
    # No key, no JWT library: split on dots and decode base64.
    payload = json.loads(_b64decode(token.split(".")[1]))
    assert payload["email"] == PRIVATE["email"]
    assert payload["roles"] == ["admin"]
    assert payload["sub"] == "user-42"


def test_a_session_cookie_reveals_nothing(redis_client: redis.Redis, key_prefix: str) -> None:
    store = RedisSessionStore(redis_client, prefix=key_prefix, now=ManualClock(T0))
    session_id = store.create("user-42", PRIVATE)
    set_cookie = build_session_cookie(session_id)
    for secret in ("user-42", PRIVATE["email"], "admin", "Ada"):
        assert secret not in set_cookie
        assert secret.encode() not in _b64decode(session_id)  # 32 random bytes, no structure
    # Redis holds the data under a hash of the ID: a dump of Redis yields no usable ID.
    stored = list(redis_client.scan_iter(match=f"{key_prefix}*"))
    assert stored and not any(session_id.encode() in key for key in stored)
    assert store.validate(session_id).data == PRIVATE
