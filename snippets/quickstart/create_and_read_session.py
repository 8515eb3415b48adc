"""Create a server-side session in Redis and read it back by its opaque ID.

Self-contained on purpose: copied on its own it needs only redis-py. Run it against a
Redis server of your choice::

    REDIS_URL=redis://127.0.0.1:6379/0 python -m
    snippets.quickstart.create_and_read_session

The production store, ``snippets.sessions.session_store.RedisSessionStore``, adds
session rotation, logout everywhere, a device list, fail-closed errors and Redis Cluster
support.
"""

# --8<-- [start:setup]
import hashlib
import json
import os
import re
import secrets
import time
from typing import Any

import redis

IDLE_TIMEOUT_SECONDS = 30 * 60  # ends after 30 minutes without a request
ABSOLUTE_TIMEOUT_SECONDS = 8 * 60 * 60  # and 8 hours after login, however busy
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 random bytes, base64url, no padding
# --8<-- [end:setup]


# --8<-- [start:session]
def session_key(prefix: str, session_id: str) -> str:
    # Store under a hash of the ID: a key listing of Redis reveals no usable session ID.
    return prefix + "session:" + hashlib.sha256(session_id.encode()).hexdigest()


def create_session(r: redis.Redis, data: dict[str, Any], *, prefix: str = "") -> str:
    """Store ``data`` under a fresh random ID and return the ID for the cookie."""
    session_id = secrets.token_urlsafe(32)  # 256 bits from the OS's CSPRNG
    record = {"data": data, "ends_at": time.time() + ABSOLUTE_TIMEOUT_SECONDS}
    key = session_key(prefix, session_id)
    if not r.set(key, json.dumps(record), ex=IDLE_TIMEOUT_SECONDS, nx=True):
        raise RuntimeError("session ID collision; try again")  # never overwrite one
    return session_id


def read_session(
    r: redis.Redis, session_id: str, *, prefix: str = ""
) -> dict[str, Any] | None:
    """Return the session's data, or None if the ID is malformed, unknown or expired."""
    if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
        return None  # never send attacker-shaped input to Redis
    key = session_key(prefix, session_id)
    raw = r.getex(key, ex=IDLE_TIMEOUT_SECONDS)  # read and slide the idle timeout
    if raw is None:
        return None
    record = json.loads(raw)
    if time.time() >= record["ends_at"]:  # the absolute lifetime is over
        r.delete(key)
        return None
    data: dict[str, Any] = record["data"]
    return data


# --8<-- [end:session]


def main() -> None:
    # --8<-- [start:demo]
    r = redis.Redis.from_url(os.environ["REDIS_URL"])
    prefix = os.environ.get("REDIS_KEY_PREFIX", "app:")  # keep your keys apart
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
