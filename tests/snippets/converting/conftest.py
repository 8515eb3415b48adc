"""Fixtures for the converting snippets: a session store on a moved clock, signing keys, an IdP."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from snippets.converting.demo_idp import DemoIdentityProvider
from snippets.converting.exchange_session_for_jwt import Signer
from snippets.sessions.session_store import RedisSessionStore
from snippets.tokens.keys import generate_private_key
from tests.helpers import ManualClock

ISSUER = "https://app.example.com"
ORDERS, REPORTS = "https://orders.example.com", "https://reports.example.com"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(int(time.time()))


@pytest.fixture
def store(redis_client: redis.Redis, key_prefix: str, clock: ManualClock) -> RedisSessionStore:
    return RedisSessionStore(redis_client, prefix=key_prefix, now=clock)


_KEY = generate_private_key("EdDSA")


@pytest.fixture
def signer() -> Signer:
    return Signer(_KEY, "EdDSA", "test-1", ISSUER)


@pytest.fixture(scope="session")
def idp() -> Iterator[DemoIdentityProvider]:
    with DemoIdentityProvider(client_id="demo-app") as provider:
        yield provider
