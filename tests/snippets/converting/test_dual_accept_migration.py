"""Dual accept: both credentials work, the old one is counted, then retired everywhere."""

from __future__ import annotations

import pytest
import redis

from snippets.converting.dual_accept_migration import (
    CredentialRefused,
    DualAcceptMigration,
    Identity,
    MigrationStateUnavailable,
)
from tests.helpers import ManualClock

NEW = {"session-1": "alice"}
OLD = {"legacy-1": "alice", "legacy-2": "bob"}


def migration(r: redis.Redis, prefix: str, clock: ManualClock) -> DualAcceptMigration:
    return DualAcceptMigration(
        r, name="m", accept_new=NEW.get, accept_old=OLD.get, prefix=prefix, now=clock
    )


def test_both_are_accepted_and_only_the_old_is_counted(
    counting_redis: tuple[redis.Redis, object], key_prefix: str, clock: ManualClock
) -> None:
    r, counter = counting_redis
    m = migration(r, key_prefix, clock)
    counter.count = 0
    assert m.authenticate(new="session-1") == Identity("alice", "new")
    assert counter.count == 0  # the new credential costs no Redis call here
    assert m.authenticate(old="legacy-2") == Identity("bob", "old")  # loads the script
    counter.count = 0
    assert m.authenticate(old="legacy-2") == Identity("bob", "old")
    assert counter.count == 1  # retired check and count: one script call
    assert m.authenticate(new="session-1", old="legacy-2").via == "new"
    assert m.authenticate(new="expired", old="legacy-1") == Identity("alice", "old")
    clock.advance(86400)
    m.authenticate(old="legacy-1")
    today, yesterday, *_ = m.old_usage().values()
    assert (today, yesterday) == (1, 3)


def test_invalid_credentials_are_refused_and_not_counted(
    redis_client: redis.Redis, key_prefix: str, clock: ManualClock
) -> None:
    m = migration(redis_client, key_prefix, clock)
    for kwargs in [{}, {"new": "forged"}, {"old": "forged"}, {"new": "", "old": ""}]:
        with pytest.raises(CredentialRefused, match="no valid credential"):
            m.authenticate(**kwargs)
    assert sum(m.old_usage().values()) == 0


def test_retiring_is_seen_by_every_process_at_once(
    redis_client: redis.Redis, key_prefix: str, clock: ManualClock
) -> None:
    one, two = (
        migration(redis_client, key_prefix, clock),
        migration(redis_client, key_prefix, clock),
    )
    assert two.authenticate(old="legacy-1").via == "old"
    one.retire()
    with pytest.raises(CredentialRefused, match="retired"):
        two.authenticate(old="legacy-1")
    assert two.authenticate(new="session-1").via == "new"
    assert one.refused_after_retirement() == 1
    assert sum(one.old_usage().values()) == 1


def test_counts_expire_after_thirty_days(
    redis_client: redis.Redis, key_prefix: str, clock: ManualClock
) -> None:
    m = migration(redis_client, key_prefix, clock)
    m.authenticate(old="legacy-1")
    keys = list(redis_client.scan_iter(f"{key_prefix}migration:m:old:*"))
    assert len(keys) == 1 and 29 * 86400 < redis_client.ttl(keys[0]) <= 30 * 86400


def test_redis_down_refuses_the_old_credential(private_redis: object, clock: ManualClock) -> None:
    from snippets.sessions.session_store import connect

    client = connect(f"redis://{private_redis.host}:{private_redis.port}/0")
    m = migration(client, "", clock)
    private_redis.stop()
    assert m.authenticate(new="session-1").via == "new"
    with pytest.raises(MigrationStateUnavailable):
        m.authenticate(old="legacy-1")
    client.close()
