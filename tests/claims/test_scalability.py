"""Scalability: any process holding the key verifies a JWT with nothing shared; every process
that accepts a session must reach the same store."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import redis
from cryptography.hazmat.primitives import serialization

from snippets.sessions.session_store import RedisSessionStore
from tests.claims.conftest import AUDIENCE, ISSUER, T0, Keys
from tests.helpers import ROOT, ManualClock
from tools.redis_server import RedisServer

VERIFY_ELSEWHERE = textwrap.dedent(f"""
    import sys
    from snippets.tokens.keys import load_public_key
    from snippets.tokens.verify_token import verify_token
    key = load_public_key(sys.stdin.buffer.read())
    claims = verify_token(sys.argv[1], key, algorithm="EdDSA", audience={AUDIENCE!r},
                          issuer={ISSUER!r}, now={T0 + 1})
    print(claims["sub"])
""")


def test_another_process_with_only_the_public_key_verifies_the_token(keys: Keys) -> None:
    token = keys.issue("user-42")
    public_pem = keys.verifying.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # A fresh interpreter: no shared memory, no Redis, no secret; just the public key.
    result = subprocess.run(
        [sys.executable, "-c", VERIFY_ELSEWHERE, token],
        input=public_pem,
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.decode().strip() == "user-42"


def test_a_session_is_known_only_to_processes_sharing_its_store(
    redis_url: str, key_prefix: str, private_redis: RedisServer
) -> None:
    clock = ManualClock(T0)
    web_1 = RedisSessionStore(redis.Redis.from_url(redis_url), prefix=key_prefix, now=clock)
    web_2 = RedisSessionStore(redis.Redis.from_url(redis_url), prefix=key_prefix, now=clock)
    own_store = redis.Redis(host=private_redis.host, port=private_redis.port)
    web_3 = RedisSessionStore(own_store, prefix=key_prefix, now=clock)

    session_id = web_1.create("user-42", {"role": "reader"})
    assert web_2.validate(session_id).user_id == "user-42"  # same store: accepted
    assert web_3.validate(session_id) is None  # a store of its own: a stranger
