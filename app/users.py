"""The demo users: an in-memory table of two users with salted scrypt password hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass


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
