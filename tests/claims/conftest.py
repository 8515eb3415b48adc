"""What the claims tests share: one key pair per algorithm, a clock, and token helpers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from snippets.tokens.issue_access_token import issue_access_token
from snippets.tokens.keys import ALGORITHMS
from snippets.tokens.verify_token import verify_token
from tests.helpers import ManualClock, signing_and_verifying_keys

ISSUER = "https://auth.example.com"
AUDIENCE = "https://api.example.com"
T0 = 1_764_000_000  # the controlled "now" every test starts from


@dataclass(frozen=True)
class Keys:
    algorithm: str
    signing: Any
    verifying: Any

    def issue(self, subject: str = "user-42", *, now: float = T0, **extra: Any) -> str:
        return issue_access_token(
            subject,
            self.signing,
            algorithm=self.algorithm,
            kid=f"{self.algorithm}-1",
            issuer=ISSUER,
            audience=AUDIENCE,
            now=now,
            extra_claims=extra or None,
        )

    def verify(self, token: str, *, now: float = T0 + 1) -> dict[str, Any]:
        return verify_token(
            token,
            self.verifying,
            algorithm=self.algorithm,
            audience=AUDIENCE,
            issuer=ISSUER,
            now=now,
        )


def _keys(algorithm: str) -> Keys:
    return Keys(algorithm, *signing_and_verifying_keys(algorithm))


@pytest.fixture(scope="session")
def all_keys() -> dict[str, Keys]:
    return {algorithm: _keys(algorithm) for algorithm in ALGORITHMS}


@pytest.fixture(scope="session")
def keys(all_keys: dict[str, Keys]) -> Keys:
    """The pair most tests use: Ed25519, small and asymmetric."""
    return all_keys["EdDSA"]


@pytest.fixture
def clock() -> Callable[[], float]:
    return ManualClock(T0)
