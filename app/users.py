"""The demo users: an in-memory table of two users with Argon2id password hashes.

Argon2id at OWASP's minimum (Password Storage Cheat Sheet: m=19 MiB, t=2, p=1), through
argon2-cffi, which also salts, encodes the parameters into the hash and compares in
constant time. Tens of milliseconds per check on this project's machines.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP Password Storage Cheat Sheet, Argon2id: 19 MiB of memory, 2 passes, 1 lane.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
MAX_PASSWORD_CHARS = 1024  # longer input is refused before any hashing work


@dataclass(frozen=True)
class DemoUser:
    """A user of the in-memory demo table; only an Argon2id hash of the password is kept."""

    user_id: str
    username: str
    role: str
    password_hash: str


def hash_password(password: str) -> str:
    """An Argon2id hash (``$argon2id$v=19$m=19456,t=2,p=1$...``) with a fresh salt."""
    return HASHER.hash(password)


def make_demo_users(password: str) -> dict[str, DemoUser]:
    """Alice (admin) and Bob (user), both with ``password``, hashed at start-up."""
    return {
        username: DemoUser(user_id, username, role, hash_password(password))
        for user_id, username, role in [("u-alice", "alice", "admin"), ("u-bob", "bob", "user")]
    }


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def check_password(users: Mapping[str, DemoUser], username: str, password: str) -> DemoUser | None:
    """Return the user if the password is right; the same work is done for unknown users."""
    if not isinstance(password, str) or len(password) > MAX_PASSWORD_CHARS:
        return None
    user = users.get(username) if isinstance(username, str) else None
    try:
        HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return user
