"""Create a server-side session in Redis and read it back by its opaque ID.

Run it against a Redis server of your choice::

    REDIS_URL=redis://127.0.0.1:6379/0 python -m snippets.quickstart.create_and_read_session
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets

import redis

IDLE_TIMEOUT_SECONDS = 30 * 60
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 random bytes, base64url without padding


# --8<-- [start:session]
def _key(prefix: str, session_id: str) -> str:
    # Store under a hash of the ID: a key listing of Redis reveals no usable session ID.
    return prefix + "session:" + hashlib.sha256(session_id.encode()).hexdigest()


def create_session(r: redis.Redis, data: dict, *, prefix: str = "") -> str:
    """Store ``data`` under a fresh random ID and return the ID for the cookie."""
    session_id = secrets.token_urlsafe(32)  # 256 bits from the OS's CSPRNG
    stored = r.set(_key(prefix, session_id), json.dumps(data), ex=IDLE_TIMEOUT_SECONDS, nx=True)
    if not stored:  # never overwrite an existing session, however unlikely the clash
        raise RuntimeError("session ID collision; try again")
    return session_id


def read_session(r: redis.Redis, session_id: str, *, prefix: str = "") -> dict | None:
    """Return the session's data, or None if the ID is malformed, unknown or expired."""
    if not _SESSION_ID.fullmatch(session_id):
        return None  # never send attacker-shaped input to Redis
    raw = r.getex(_key(prefix, session_id), ex=IDLE_TIMEOUT_SECONDS)  # read and slide
    return None if raw is None else json.loads(raw)
# --8<-- [end:session]


def main() -> None:
    r = redis.Redis.from_url(os.environ["REDIS_URL"])
    prefix = os.environ.get("REDIS_KEY_PREFIX", "app:")
    # --8<-- [start:demo]
    session_id = create_session(r, {"user_id": 42, "role": "reader"}, prefix=prefix)
    print(len(session_id))
    #> 43
    print(read_session(r, session_id, prefix=prefix))
    #> {'user_id': 42, 'role': 'reader'}
    print(read_session(r, "not-a-session-id", prefix=prefix))
    #> None
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
