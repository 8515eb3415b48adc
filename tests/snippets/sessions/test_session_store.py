from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from snippets.sessions.session_store import (
    IDLE_GRANULARITY_SECONDS,
    SESSION_ID,
    AsyncRedisSessionStore,
    RedisSessionStore,
    SessionStoreUnavailable,
    connect,
    connect_async,
    session_handle,
    session_key,
    unpack_record,
    user_index_key,
)
from tests.async_bridge import LoopThread, settle
from tests.helpers import ManualClock
from tools.redis_server import RedisServer
from tools.round_trips import RoundTripCounter

pytestmark = pytest.mark.also_on_cluster

MINUTE = 60
HOUR = 60 * MINUTE


def _keys(client: redis.Redis, prefix: str) -> set[str]:
    return {k.decode() for k in client.scan_iter(match=f"{prefix}*", count=1000)}


_handle = session_handle


def _index(client: redis.Redis, prefix: str, user: str) -> set[str]:
    return {m.decode() for m in client.zrange(user_index_key(prefix, user), 0, -1)}


# -- create and validate -------------------------------------------------------------------


def test_created_session_validates(store: RedisSessionStore, clock: ManualClock) -> None:
    sid = store.create("alice", {"role": "reader", "n": [1, 2]})
    session = store.validate(sid)
    assert session is not None
    assert session.user_id == "alice"
    assert session.data == {"role": "reader", "n": [1, 2]}
    assert session.handle == _handle(sid)
    assert session.created_at == clock.now
    assert session.expires_at == clock.now + 8 * HOUR
    assert session.idle_expires_at == clock.now + 30 * MINUTE


@pytest.mark.parametrize("user", ["alice", "名前 with spaces", "a\nb\n\nc", "\n"])
def test_any_user_id_and_data_come_back_intact(store: RedisSessionStore, user: str) -> None:
    data = {"note": "line one\nline two", "名": "é ü\u2028", "n": [1, None, True]}
    sid = store.create(user, data)
    session = store.validate(sid)
    assert (session.user_id, session.data) == (user, data)
    new = store.rotate(sid)
    assert (store.validate(new).user_id, store.validate(new).data) == (user, data)
    assert [s.user_id for s in store.list_sessions(user)] == [user]


def test_ids_are_fresh_256_bit_tokens(store: RedisSessionStore) -> None:
    ids = [store.create("alice") for _ in range(100)]
    assert len(set(ids)) == 100
    assert all(SESSION_ID.fullmatch(i) and len(i) == 43 for i in ids)


def test_an_id_the_client_made_up_is_no_session(store: RedisSessionStore) -> None:
    chosen = "A" * 43  # well-formed, but never issued: session fixation gets nowhere
    assert store.validate(chosen) is None
    assert store.rotate(chosen) is None
    assert store.destroy(chosen) is False


def test_redis_holds_no_usable_session_id(
    store: RedisSessionStore, redis_client: redis.Redis, key_prefix: str
) -> None:
    ids = [store.create(user, {"k": "v"}) for user in ("alice", "alice", "bob")]
    dump = b""
    for key in _keys(redis_client, key_prefix):
        dump += key.encode() + (redis_client.dump(key) or b"")
        if redis_client.type(key) == b"string":
            dump += redis_client.get(key) or b""
        else:
            dump += b"".join(redis_client.zrange(key, 0, -1))
    for sid in ids:
        assert sid.encode() not in dump
        assert _handle(sid).encode() in dump  # the keys are there, under the hash
    assert _keys(redis_client, key_prefix) == {
        *(session_key(key_prefix, _handle(i)) for i in ids),
        user_index_key(key_prefix, "alice"),
        user_index_key(key_prefix, "bob"),
    }


def test_works_with_a_decoding_client(redis_clients, make_store, redis_url: str) -> None:
    store = make_store(redis_clients(url=redis_url, decode_responses=True))
    sid = store.create("alice", {"x": 1})
    assert store.validate(sid).data == {"x": 1}
    assert store.rotate(sid) is not None
    assert [s.user_id for s in store.list_sessions("alice")] == ["alice"]
    assert store.destroy_all("alice") == 1


@pytest.mark.parametrize("user", ["", "x" * 257, None, 42])
def test_bad_user_id_is_refused(store: RedisSessionStore, user: object) -> None:
    with pytest.raises(ValueError, match="user_id"):
        store.create(user)  # type: ignore[arg-type]


@pytest.mark.parametrize(("idle", "absolute"), [(0, 10), (-1, 10), (11, 10)])
def test_bad_timeouts_are_refused(make_store, idle: int, absolute: int) -> None:
    with pytest.raises(ValueError, match="timeout"):
        make_store(idle_timeout=idle, absolute_timeout=absolute)


# -- bad input ------------------------------------------------------------------------------

MALFORMED = [
    None,
    42,
    b"A" * 43,
    "",
    "x",
    "A" * 42,
    "A" * 44,
    "A" * 100_000,
    "A" * 42 + "=",
    "A" * 42 + "\n",
    "A" * 42 + " ",
    "A" * 42 + "é",
    "../" * 14 + "A",
    "*" * 43,
]


@pytest.mark.counts_round_trips
@pytest.mark.parametrize("bad", MALFORMED, ids=lambda v: repr(v)[:20])
def test_malformed_ids_never_reach_redis(redis_clients, make_store, bad: object) -> None:
    round_trips = RoundTripCounter()
    store = make_store(redis_clients(counter=round_trips))
    assert store.validate(bad) is None
    assert store.rotate(bad) is None
    assert store.destroy(bad) is False
    assert round_trips.count == 0


# -- one round trip -------------------------------------------------------------------------


@pytest.mark.counts_round_trips
def test_validation_takes_exactly_one_round_trip(redis_clients, make_store) -> None:
    round_trips = RoundTripCounter()
    store = make_store(redis_clients(counter=round_trips))
    sid = store.create("alice", {"role": "reader"})
    store.validate(sid)  # the first call may load the script into a fresh server
    for _ in range(20):
        round_trips.count = 0
        assert store.validate(sid) is not None
        assert round_trips.count == 1
    round_trips.count = 0
    assert store.validate("B" * 43) is None  # unknown IDs cost the same single trip
    assert round_trips.count == 1


@pytest.mark.counts_round_trips
def test_round_trips_of_the_other_operations(
    redis_clients, make_store, key_prefix: str, redis_topology: str
) -> None:
    round_trips = RoundTripCounter()
    client = redis_clients(counter=round_trips)
    store = make_store(client)
    store.destroy(store.rotate(store.create("warm-up")))  # load the scripts into every master

    def trips(call):  # type: ignore[no-untyped-def]
        round_trips.count = 0
        result = call()
        return result, round_trips.count

    sid, count = trips(lambda: store.create("alice"))
    assert count == 2  # index entry, then record: one key each, on either topology
    sid, count = trips(lambda: store.rotate(sid))
    assert count == 5  # read user, index the new handle, claim, write, unindex the old one
    assert trips(lambda: store.destroy(sid)) == (True, 2)  # delete the record, then unindex
    ids = [store.create("alice") for _ in range(6)]
    keys = [session_key(key_prefix, _handle(i)) for i in ids]
    # Read the index, end each handle (one pipeline), then drop them from the index and read
    # it again in one request. On a cluster the pipeline is a request to each node holding a
    # record, and redis-py first asks the server for the keys of each EVAL (COMMAND GETKEYS).
    end_handles = 1
    if redis_topology == "cluster":
        end_handles = len(ids) + len({client.get_node_from_key(k).name for k in keys})
    assert trips(lambda: store.destroy_all("alice")) == (6, 1 + end_handles + 1)
    assert trips(lambda: store.destroy_all("alice")) == (0, 1)
    handle = _handle(store.create("alice"))
    end_one = 2 if redis_topology == "cluster" else 1  # COMMAND GETKEYS, then the EVAL
    # find the handle in the index, end it, drop it from the index
    assert trips(lambda: store.end_session("alice", handle)) == (True, 1 + end_one + 1)
    assert trips(lambda: store.end_session("alice", handle)) == (False, 1)
    assert trips(lambda: store.end_session("alice", handle.upper())) == (False, 0)


# -- logout, log out everywhere, rotation ---------------------------------------------------


def test_logout_invalidates_at_once(
    store: RedisSessionStore, redis_client: redis.Redis, key_prefix: str
) -> None:
    sid = store.create("alice")
    other = store.create("alice")
    assert store.destroy(sid) is True
    assert store.validate(sid) is None
    assert store.destroy(sid) is False
    assert store.validate(other) is not None
    assert _index(redis_client, key_prefix, "alice") == {_handle(other)}


def test_log_out_everywhere_ends_that_user_only(
    store: RedisSessionStore, redis_client: redis.Redis, key_prefix: str
) -> None:
    alice = [store.create("alice") for _ in range(3)]
    bob = [store.create("bob") for _ in range(2)]
    assert store.destroy_all("alice") == 3
    assert all(store.validate(s) is None for s in alice)
    assert all(store.validate(s).user_id == "bob" for s in bob)
    assert store.list_sessions("alice") == []
    assert {s.handle for s in store.list_sessions("bob")} == {_handle(s) for s in bob}
    assert user_index_key(key_prefix, "alice") not in _keys(redis_client, key_prefix)
    assert store.destroy_all("alice") == 0
    assert store.destroy_all("nobody") == 0


def test_rotation_makes_the_old_id_worthless(
    store: RedisSessionStore, redis_client: redis.Redis, key_prefix: str, clock: ManualClock
) -> None:
    old = store.create("alice", {"role": "reader"})
    before = store.validate(old)
    clock.advance(10 * MINUTE)
    new = store.rotate(old)
    assert new is not None and new != old and SESSION_ID.fullmatch(new)
    assert store.validate(old) is None
    assert store.rotate(old) is None
    assert store.destroy(old) is False
    after = store.validate(new)
    assert (after.user_id, after.data, after.created_at, after.expires_at) == (
        before.user_id,
        before.data,
        before.created_at,
        before.expires_at,
    )  # the absolute deadline does not move
    assert after.idle_expires_at == clock.now + 30 * MINUTE
    assert _index(redis_client, key_prefix, "alice") == {_handle(new)}
    assert session_key(key_prefix, _handle(old)) not in _keys(redis_client, key_prefix)


def test_rotation_can_replace_the_data(store: RedisSessionStore) -> None:
    sid = store.create("alice", {"role": "reader"})
    new = store.rotate(sid, {"role": "admin"})
    assert store.validate(new).data == {"role": "admin"}


def test_concurrent_rotations_of_one_session_yield_one_winner(store: RedisSessionStore) -> None:
    sid = store.create("alice")
    barrier = threading.Barrier(8)
    results: list[str | None] = []

    def rotate() -> None:
        barrier.wait()
        results.append(store.rotate(sid))

    threads = [threading.Thread(target=rotate) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r is not None]
    assert len(results) == 8 and len(winners) == 1
    assert [s.handle for s in store.list_sessions("alice")] == [_handle(winners[0])]


# Each multi-key operation is a sequence of single-key steps. These tests stop a process
# between two steps (an exception where Redis would have been called) or run "log out
# everywhere" there, and check that nothing unsafe can come of it.


class Crash(Exception):
    """The process died here."""


def _before(store, step: str, action, results: list | None = None) -> None:  # type: ignore[no-untyped-def]
    """Run ``action`` just before the store's next call of ``step`` (a script or a method
    that writes); its result (awaited, on the async store) goes into ``results``."""
    target = getattr(store, "_target", store)  # the async store itself, not its wrapper
    original = getattr(target, step)

    def wrapped(*args, **kwargs):  # type: ignore[no-untyped-def]
        setattr(target, step, original)
        outcome = action()
        (results if results is not None else []).append(outcome)
        return original(*args, **kwargs)

    async def awaited(*args, **kwargs):  # type: ignore[no-untyped-def]
        setattr(target, step, original)
        outcome = await settle(action())
        (results if results is not None else []).append(outcome)
        return await original(*args, **kwargs)

    asynchronous = isinstance(target, AsyncRedisSessionStore)  # its steps return awaitables
    setattr(target, step, awaited if asynchronous else wrapped)


def test_a_login_that_dies_half_way_leaves_only_a_harmless_index_entry(
    store: RedisSessionStore, redis_client: redis.Redis, key_prefix: str
) -> None:
    keep = store.create("alice")
    _before(store, "_write_record", lambda: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        store.create("alice")
    assert len(_index(redis_client, key_prefix, "alice")) == 2  # indexed, never written
    assert [s.handle for s in store.list_sessions("alice")] == [_handle(keep)]  # not listed
    assert len(_index(redis_client, key_prefix, "alice")) == 2  # kept: it may be in flight
    assert store.destroy_all("alice") == 1
    assert _index(redis_client, key_prefix, "alice") == set()


def test_a_rotation_that_dies_after_the_claim_logs_the_user_out(
    store: RedisSessionStore, redis_client: redis.Redis, key_prefix: str
) -> None:
    sid = store.create("alice")
    _before(store, "_write_record", lambda: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        store.rotate(sid)
    assert store.validate(sid) is None  # fails closed: no session, never two
    assert store.list_sessions("alice") == []
    assert not any(
        k.startswith(session_key(key_prefix, "")) for k in _keys(redis_client, key_prefix)
    )


@pytest.mark.parametrize("step", ["_claim", "_write_record"])
def test_log_out_everywhere_during_a_rotation_ends_the_session(
    store: RedisSessionStore, redis_client: redis.Redis, key_prefix: str, step: str
) -> None:
    sid = store.create("alice")
    bob = store.create("bob")
    ended: list[int] = []
    _before(store, step, lambda: store.destroy_all("alice"), ended)
    assert store.rotate(sid) is None  # the session existed before "log out everywhere"
    assert store.validate(sid) is None
    assert ended == [1 if step == "_claim" else 0]  # before the claim the record was live
    assert store.list_sessions("alice") == []
    assert _index(redis_client, key_prefix, "alice") == set()
    assert store.validate(bob).user_id == "bob"
    assert store.create("alice") is not None  # logging in again works


def test_log_out_everywhere_during_a_login_never_leaves_a_half_made_session(
    store: RedisSessionStore, redis_client: redis.Redis, key_prefix: str
) -> None:
    _before(store, "_write_record", lambda: store.destroy_all("alice"))
    sid = store.create("alice")  # the first handle was ended before its record; a new ID
    assert store.validate(sid).user_id == "alice"  # a login that ends after the logout stays
    assert [s.handle for s in store.list_sessions("alice")] == [_handle(sid)]
    assert _index(redis_client, key_prefix, "alice") == {_handle(sid)}


def test_list_sessions_shows_live_ones_and_prunes_the_rest(
    store: RedisSessionStore, redis_client: redis.Redis, key_prefix: str, clock: ManualClock
) -> None:
    stale = store.create("alice", {"device": "old laptop"})
    clock.advance(20 * MINUTE)
    fresh = store.create("alice", {"device": "phone"})
    listed = store.list_sessions("alice")
    assert [s.data["device"] for s in listed] == ["old laptop", "phone"]
    assert all(store.validate(s.handle) is None for s in listed)  # a handle is no ID
    clock.advance(15 * MINUTE)  # the stale one has now been idle for 35 minutes
    assert [s.handle for s in store.list_sessions("alice")] == [_handle(fresh)]
    assert _index(redis_client, key_prefix, "alice") == {_handle(fresh)}
    assert session_key(key_prefix, _handle(stale)) not in _keys(redis_client, key_prefix)


# -- the device list: end one session by its handle ----------------------------------------


def test_a_device_is_logged_out_by_its_handle(
    store: RedisSessionStore, redis_client: redis.Redis, key_prefix: str
) -> None:
    laptop = store.create("alice", {"device": "laptop"})
    phone = store.create("alice", {"device": "phone"})
    listed = {s.data["device"]: s.handle for s in store.list_sessions("alice")}
    assert store.end_session("alice", listed["phone"]) is True
    assert store.validate(phone) is None
    assert store.validate(laptop).data == {"device": "laptop"}
    assert [s.handle for s in store.list_sessions("alice")] == [listed["laptop"]]
    assert _index(redis_client, key_prefix, "alice") == {listed["laptop"]}
    assert session_key(key_prefix, listed["phone"]) not in _keys(redis_client, key_prefix)
    assert store.end_session("alice", listed["phone"]) is False  # already over


def test_a_handle_ends_only_a_session_of_the_signed_in_user(
    store: RedisSessionStore, redis_client: redis.Redis, key_prefix: str
) -> None:
    alice = store.create("alice")
    bob = store.create("bob")
    bobs_handle = store.list_sessions("bob")[0].handle
    assert store.end_session("alice", bobs_handle) is False
    assert store.validate(bob).user_id == "bob"
    assert store.end_session("alice", alice) is False  # a session ID is not a handle
    assert store.end_session("alice", _handle("made-up")) is False
    assert store.validate(alice).user_id == "alice"
    # nothing was written for the made-up or foreign handles
    assert session_key(key_prefix, _handle("made-up")) not in _keys(redis_client, key_prefix)
    assert _index(redis_client, key_prefix, "bob") == {bobs_handle}


@pytest.mark.counts_round_trips
@pytest.mark.parametrize(
    "bad", [None, 42, b"0" * 64, "0" * 63, "0" * 65, "A" * 64, "g" * 64, "0" * 63 + "\n"]
)
def test_a_malformed_handle_never_reaches_redis(redis_clients, make_store, bad: object) -> None:
    round_trips = RoundTripCounter()
    store = make_store(redis_clients(counter=round_trips))
    assert store.end_session("alice", bad) is False
    assert round_trips.count == 0


@pytest.mark.parametrize("step", ["_claim", "_write_record"])
def test_ending_a_device_while_it_rotates_never_leaves_it_unseen(
    store: RedisSessionStore, step: str
) -> None:
    sid = store.create("alice")
    handle = store.list_sessions("alice")[0].handle
    ended: list[bool] = []
    _before(store, step, lambda: store.end_session("alice", handle), ended)
    new = store.rotate(sid)
    if step == "_claim":  # ended before the rotation took the record: it is over
        assert ended == [True] and new is None
        assert store.list_sessions("alice") == []
    else:  # the rotation had taken it: the call says so, and the new handle is listed
        assert ended == [False] and store.validate(new).user_id == "alice"
        [moved] = store.list_sessions("alice")
        assert moved.handle == _handle(new)
        assert store.end_session("alice", moved.handle) is True
        assert store.validate(new) is None
    assert store.validate(sid) is None


# -- timeouts, with a clock the test moves --------------------------------------------------


def test_idle_timeout_slides_on_use(store: RedisSessionStore, clock: ManualClock) -> None:
    sid = store.create("alice")
    for _ in range(5):
        clock.advance(30 * MINUTE - 1)
        assert store.validate(sid) is not None
    clock.advance(30 * MINUTE)
    assert store.validate(sid) is None
    clock.advance(-HOUR)  # even a clock turned back cannot revive it: the record is gone
    assert store.validate(sid) is None


def test_absolute_timeout_never_slides(store: RedisSessionStore, clock: ManualClock) -> None:
    sid = store.create("alice")
    start = clock.now
    while clock.now + 20 * MINUTE < start + 8 * HOUR:
        clock.advance(20 * MINUTE)
        session = store.validate(sid)
        assert session is not None
        assert session.idle_expires_at <= session.expires_at == start + 8 * HOUR
    clock.now = start + 8 * HOUR
    assert store.validate(sid) is None


def test_redis_ttls_clean_up_behind_the_deadlines(
    store: RedisSessionStore, redis_client: redis.Redis, key_prefix: str, clock: ManualClock
) -> None:
    sid = store.create("alice")
    key = session_key(key_prefix, _handle(sid))
    index = user_index_key(key_prefix, "alice")
    assert 29 * MINUTE * 1000 < redis_client.pttl(key) <= 30 * MINUTE * 1000
    assert 7.9 * HOUR * 1000 < redis_client.pttl(index) <= 8 * HOUR * 1000
    while clock.now < 1_700_000_000 + 7 * HOUR + 40 * MINUTE:
        clock.advance(20 * MINUTE)
        assert store.validate(sid) is not None
    # The last write, 7h40m after login, left only 20 minutes: the TTL is capped by the
    # absolute deadline. (Redis counts real time; validation writes the TTL only when it
    # moves the idle deadline, so the check follows the last write.)
    assert 19 * MINUTE * 1000 < redis_client.pttl(key) <= 20 * MINUTE * 1000


# -- Redis down or stuck: fail closed, recover by itself ------------------------------------


@pytest.fixture
def private_store(
    api: str, private_redis: RedisServer, make_store, loop_thread: LoopThread
) -> Iterator[RedisSessionStore]:
    url = f"redis://{private_redis.host}:{private_redis.port}/0"
    if api == "sync":
        client = connect(url)
        yield make_store(client, prefix="app:")
        client.close()
    else:
        aclient = connect_async(url)
        yield make_store(aclient, prefix="app:")
        loop_thread.run(aclient.aclose())


def test_redis_stopped_fails_closed_and_recovers(
    private_redis: RedisServer, private_store: RedisSessionStore
) -> None:
    store = private_store
    sid = store.create("alice")
    assert store.validate(sid) is not None
    private_redis.stop()
    calls = [
        lambda: store.validate(sid),
        lambda: store.create("alice"),
        lambda: store.rotate(sid),
        lambda: store.destroy(sid),
        lambda: store.destroy_all("alice"),
        lambda: store.list_sessions("alice"),
    ]
    for call in calls:
        with pytest.raises(SessionStoreUnavailable) as caught:
            call()
        assert isinstance(caught.value.__cause__, redis.ConnectionError)
    private_redis.start()
    assert store.validate(sid) is not None  # the record was saved; the same client reconnects
    fresh = store.create("bob")
    assert store.validate(fresh).user_id == "bob"
    assert store.destroy(sid) is True and store.validate(sid) is None


def test_redis_timing_out_fails_closed_and_recovers(
    api: str, private_redis: RedisServer, redis_clients, make_store
) -> None:
    url = f"redis://{private_redis.host}:{private_redis.port}/0"
    # Bounds with room for a busy machine: the pause outlasts the timeout tenfold, and the
    # recovery may take a few calls while the server catches up.
    no_retry = Retry(NoBackoff(), 0) if api == "sync" else AsyncRetry(NoBackoff(), 0)
    store = make_store(redis_clients(url=url, socket_timeout=0.2, retry=no_retry))
    admin = redis.Redis.from_url(url)
    sid = store.create("alice")
    admin.client_pause(2000, all=True)  # a real server that stops answering for 2 s
    with pytest.raises(SessionStoreUnavailable) as caught:
        store.validate(sid)
    assert isinstance(caught.value.__cause__, redis.TimeoutError)
    admin.ping()  # returns when the pause is over
    deadline = time.monotonic() + 10
    while True:
        try:
            session = store.validate(sid)
            break
        except SessionStoreUnavailable:
            assert time.monotonic() < deadline, "the store did not recover within 10 s"
    assert session is not None and session.user_id == "alice"
    admin.close()


# -- many threads at once -------------------------------------------------------------------


def test_concurrent_use_loses_nothing_and_leaks_nothing(
    store: RedisSessionStore, redis_client: redis.Redis, key_prefix: str
) -> None:
    users = [f"user-{n}" for n in range(4)]
    live: dict[str, str] = {}  # session ID -> user
    dead: list[str] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    barrier = threading.Barrier(12)

    def work(worker: int) -> None:
        try:
            barrier.wait()
            mine: dict[str, str] = {}
            gone: list[str] = []
            for i in range(40):
                user = users[(worker + i) % len(users)]
                sid = store.create(user, {"worker": worker, "i": i})
                assert store.validate(sid).data == {"worker": worker, "i": i}
                if i % 3 == 0:
                    assert store.destroy(sid) is True
                    gone.append(sid)
                elif i % 3 == 1:
                    new = store.rotate(sid)
                    assert new is not None
                    gone.append(sid)
                    mine[new] = user
                else:
                    mine[sid] = user
            with lock:
                live.update(mine)
                dead.extend(gone)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(live) == 12 * 26 and len(dead) == 12 * 27
    assert all(store.validate(s).user_id == u for s, u in live.items())
    assert all(store.validate(s) is None for s in dead)
    for user in users:
        expected = {_handle(s) for s, u in live.items() if u == user}
        assert _index(redis_client, key_prefix, user) == expected
        assert {s.handle for s in store.list_sessions(user)} == expected
    assert _keys(redis_client, key_prefix) == {
        *(session_key(key_prefix, _handle(s)) for s in live),
        *(user_index_key(key_prefix, u) for u in users),
    }


# -- the read path: one plain read, a write at most once a granularity ------------------


def _writes(client: redis.Redis) -> int:
    """Writing commands this server ran, inside scripts or not (Redis counts both)."""
    stats = client.info("commandstats")
    names = ("hset", "hdel", "pexpire", "expire", "del", "set", "zadd", "zrem")
    return sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in names)


def test_a_session_in_use_costs_one_read_and_at_most_one_write_a_minute(
    private_redis: RedisServer, clock: ManualClock, redis_clients, make_store
) -> None:
    client = redis.Redis.from_url(private_redis.url)
    store = make_store(redis_clients(url=private_redis.url))
    sid = store.create("alice")
    before = _writes(client)
    for _ in range(120):  # a request every second for two minutes
        clock.advance(1)
        assert store.validate(sid) is not None
    # One slide, at 61 s (the first time the deadline has moved by more than 60 s): one
    # SET with its new expiry. 120 validations, 1 write; the first Lua design made 240.
    assert _writes(client) - before == 1
    client.close()


def test_the_granularity_ends_a_session_early_at_most_never_late(
    store: RedisSessionStore, clock: ManualClock
) -> None:
    start = clock.now
    sid = store.create("alice")
    clock.now = start + 90
    assert store.validate(sid) is not None  # moved 90 s: written, idle ends at +1890
    clock.now = start + 120
    session = store.validate(sid)  # moved 30 s only: not written
    assert session is not None and session.idle_expires_at == start + 90 + 30 * MINUTE
    # The exact idle deadline would be +1920: it ends at +1890, 30 s early (< 60 s).
    clock.now = start + 90 + 30 * MINUTE - 1
    assert store.validate(sid) is not None
    clock.now = start + 90 + 30 * MINUTE - 1 + 30 * MINUTE  # a request just in time...
    assert store.validate(sid) is None  # ...is refused: it had ended at +1890


def test_concurrent_validations_never_move_a_deadline_back_or_past_its_limit(
    store: RedisSessionStore,
    redis_client: redis.Redis,
    key_prefix: str,
    clock: ManualClock,
    redis_clients,
    make_store,
) -> None:
    start = clock.now
    sid = store.create("alice")
    key = session_key(key_prefix, _handle(sid))
    shared = redis_clients()
    stores = [  # eight app processes whose requests arrive 100 to 107 s after login
        make_store(shared, now=lambda n=n: start + 100 + n) for n in range(8)
    ]
    barrier = threading.Barrier(len(stores))
    results: list[object] = []

    def validate(s: RedisSessionStore) -> None:
        barrier.wait()
        results.append(s.validate(sid))

    threads = [threading.Thread(target=validate, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r is not None for r in results)
    record = unpack_record(redis_client.get(key))
    assert record is not None
    idle = record[4]
    # Never past the latest request's deadline; short of it by less than the granularity at
    # most (a request that finds the deadline already within a minute of its own does not
    # write), so never moved back past what an earlier request wrote by more than that.
    latest = (start + 107 + 30 * MINUTE) * 1000
    assert latest - IDLE_GRANULARITY_SECONDS * 1000 <= idle <= latest


def test_a_slide_never_brings_back_a_session_logged_out_meanwhile(
    store: RedisSessionStore,
    redis_client: redis.Redis,
    key_prefix: str,
    clock: ManualClock,
    redis_clients,
    make_store,
) -> None:
    sid = store.create("alice")
    key = session_key(key_prefix, _handle(sid))
    clock.advance(5 * MINUTE)
    shared = redis_clients()
    stores = [make_store(shared) for _ in range(8)]
    barrier = threading.Barrier(len(stores) + 1)

    def validate(s: RedisSessionStore) -> None:
        barrier.wait()
        s.validate(sid)

    threads = [threading.Thread(target=validate, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    barrier.wait()
    assert store.destroy(sid) is True
    for t in threads:
        t.join()
    assert redis_client.exists(key) == 0  # no half record written after the logout
    assert store.validate(sid) is None


def _text_of(value: bytes | str | None) -> str:
    assert value is not None
    return value.decode() if isinstance(value, bytes) else value


_HOSTILE_BYTES = st.one_of(
    st.binary(max_size=64),
    st.text(max_size=64).map(str.encode),
    st.integers(min_value=-(2**70), max_value=2**70).map(lambda n: str(n).encode()),
    st.sampled_from(
        [b"", b"nan", b"1e309", b"[]", b'"s"', b"{}", b"null", b"\xed\xb3\xbf", b"S1", b"E1"]
    ),
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    at=st.integers(0, 120),
    cut=st.integers(0, 20),
    value=_HOSTILE_BYTES,
    call=st.sampled_from(["validate", "rotate", "destroy", "list_sessions"]),
)
def test_a_corrupted_record_is_no_session_or_a_store_error(
    store: RedisSessionStore,
    redis_client: redis.Redis,
    key_prefix: str,
    at: int,
    cut: int,
    value: bytes,
    call: str,
) -> None:
    """A Redis reply is input too: whatever bytes a record holds, in its header, its user
    or its data, each method answers as documented or raises SessionStoreUnavailable,
    never another exception."""
    sid = store.create("alice", {"role": "reader"})
    key = session_key(key_prefix, _handle(sid))
    record = redis_client.get(key)
    assert record is not None
    redis_client.set(key, record[:at] + value + record[at + cut :], ex=60)
    try:
        if call == "list_sessions":
            listed = store.list_sessions("alice")
            assert all(isinstance(s.data, dict) for s in listed)
            return
        result = getattr(store, call)(sid)
    except SessionStoreUnavailable:
        return
    if call == "validate":
        assert result is None or isinstance(result.data, dict)
    elif call == "rotate":
        assert result is None or SESSION_ID.fullmatch(result)
    else:
        assert isinstance(result, bool)
