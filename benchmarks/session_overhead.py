"""What session validation costs on top of the cheapest possible Redis reads.

Compares ``RedisSessionStore.validate`` (format check, SHA-256, one ``GET`` of the packed
record, both deadlines decided in Python, a write only when the idle deadline has moved by
more than the granularity) with a bare ``GETEX`` of a value of the same size and a bare
``HMGET`` of the same five fields kept as a hash (the store's earlier layout), on the same
connection. The three are interleaved over many rounds, the order rotating each round, and
the medians are reported with the range of the per-round ratios. Writes are counted from
Redis's own command statistics: during the timed rounds (real clock), and for one session
used continuously for a minute (1,000 validations, the store's clock moved 60 ms each).

Run it alone with::

    .venv/bin/python -m benchmarks.session_overhead

``make bench`` runs it too, on the same private Redis as the rest, and renders it on the
Measured and Sessions pages. Alone, with ``REDIS_URL`` set it uses that server (under a
unique key prefix, deleting only its own keys); otherwise it starts a private
``redis-server`` on a free loopback port in a temporary folder and stops it at the end.
Results go to ``benchmarks/results/session_overhead.json``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import redis

from snippets.sessions.session_store import (
    IDLE_GRANULARITY_SECONDS,
    RedisSessionStore,
    session_handle,
    session_key,
    unpack_record,
)
from tools.redis_server import redis_server

ROUNDS = 41
OPS_PER_ROUND = 500
TARGET_RATIO = 1.35  # issue 18: one GETEX, hashing the ID and parsing measured 1.29-1.36x
VALIDATIONS_PER_MINUTE = 1000  # one session in constant use: a validation every 60 ms
CONTINUOUS_MINUTES = 10  # of the store's clock
RESULTS = Path(__file__).resolve().parent / "results" / "session_overhead.json"


def _time_per_op(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter_ns()
    for _ in range(n):
        fn()
    return (time.perf_counter_ns() - start) / n / 1000  # microseconds


WRITES = ("hset", "hdel", "pexpire", "expire", "del", "set")  # inside scripts or not


def _delta(before: dict, after: dict, name: str, field: str) -> float:
    key = f"cmdstat_{name}"
    return float(after.get(key, {}).get(field, 0) - before.get(key, {}).get(field, 0))


def _writes_in_continuous_use(client: redis.Redis, prefix: str) -> float:
    """Writes Redis ran per 1,000 validations of one session in use without a pause: a
    validation every 60 ms (1,000 a minute) for ten minutes of the store's clock."""
    clock = [time.time()]
    store = RedisSessionStore(client, prefix=prefix + "continuous:", now=lambda: clock[0])
    session_id = store.create("busy-user", {"role": "reader"})
    before = client.info("commandstats")
    validations = VALIDATIONS_PER_MINUTE * CONTINUOUS_MINUTES
    for _ in range(validations):
        clock[0] += 60 / VALIDATIONS_PER_MINUTE
        if store.validate(session_id) is None:
            raise RuntimeError("session ended during the benchmark")
    after = client.info("commandstats")
    store.destroy(session_id)
    writes = sum(_delta(before, after, name, "calls") for name in WRITES)
    return round(writes / validations * 1000, 2)


def run(url: str | None = None, where: str = "") -> dict:
    """Measure on the Redis at ``url``, or on a private server when it is None."""
    if url is None:
        with redis_server() as (private_url, private_where):
            return run(private_url, private_where)
    client = redis.Redis.from_url(url, single_connection_client=True)
    prefix = f"bench:{uuid.uuid4().hex}:"
    try:
        store = RedisSessionStore(client, prefix=prefix)
        data = {"role": "reader", "csrf": "x" * 43}
        session_id = store.create("bench-user", data)
        record = session_key(prefix, session_handle(session_id))
        value = client.get(record)
        fields = ("user", "data", "created", "abs_exp", "idle_exp")
        hash_key = prefix + "hash"
        unpacked = unpack_record(value)
        assert unpacked is not None
        client.hset(hash_key, mapping=dict(zip(fields, unpacked, strict=True)))
        plain_key = prefix + "plain"
        client.set(plain_key, value, ex=1800)  # the same bytes as the record

        def validate() -> None:
            if store.validate(session_id) is None:
                raise RuntimeError("session vanished during the benchmark")

        def getex() -> None:
            client.getex(plain_key, ex=1800)

        def hmget() -> None:
            client.hmget(hash_key, fields)

        for _ in range(200):  # warm up: connection, script cache, branch predictors
            validate()
            getex()
            hmget()
        before = client.info("commandstats")
        started = time.monotonic()
        times: dict[str, list[float]] = {"validate": [], "getex": [], "hmget": []}
        functions = [("validate", validate), ("getex", getex), ("hmget", hmget)]
        for i in range(ROUNDS):
            for name, fn in functions[i % 3 :] + functions[: i % 3]:  # rotate the order
                times[name].append(_time_per_op(fn, OPS_PER_ROUND))
        seconds = time.monotonic() - started
        after = client.info("commandstats")
        info = client.info("server")
        continuous_writes = _writes_in_continuous_use(client, prefix)
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
    validations = ROUNDS * OPS_PER_ROUND
    writes = sum(_delta(before, after, name, "calls") for name in WRITES)
    server_us = {
        name: round(_delta(before, after, name, "usec") / _delta(before, after, name, "calls"), 2)
        for name in ("get", "hmget", "getex")
    }
    ratios = {
        base: [v / b for v, b in zip(times["validate"], times[base], strict=True)]
        for base in ("getex", "hmget")
    }
    return {
        "what": "RedisSessionStore.validate (one GET) vs bare GETEX and HMGET, one connection",
        "note": "server_us: time inside redis-server per call (INFO commandstats); get counts "
        "validate's reads. On a shared server it includes other clients' calls of the same "
        "command",
        "rounds": ROUNDS,
        "ops_per_round": OPS_PER_ROUND,
        "seconds": round(seconds, 1),
        "validate_median_us": round(statistics.median(times["validate"]), 2),
        "getex_median_us": round(statistics.median(times["getex"]), 2),
        "hmget_median_us": round(statistics.median(times["hmget"]), 2),
        "ratio_median": round(statistics.median(ratios["getex"]), 3),
        "ratio_min": round(min(ratios["getex"]), 3),
        "ratio_max": round(max(ratios["getex"]), 3),
        "ratio_to_hmget_median": round(statistics.median(ratios["hmget"]), 3),
        "ratio_to_hmget_min": round(min(ratios["hmget"]), 3),
        "ratio_to_hmget_max": round(max(ratios["hmget"]), 3),
        "per_validations": 1000,
        "validations_per_minute": VALIDATIONS_PER_MINUTE,
        "continuous_minutes": CONTINUOUS_MINUTES,
        "idle_granularity_s": IDLE_GRANULARITY_SECONDS,
        "writes_per_1000_validations": round(writes / validations * 1000, 3),
        "writes_per_1000_validations_in_continuous_use": continuous_writes,
        "server_us": server_us,
        "target_ratio": TARGET_RATIO,
        "meets_target": statistics.median(ratios["getex"]) <= TARGET_RATIO,
        "redis": where or "the Redis at REDIS_URL",
        "versions": {
            "python": platform.python_version(),
            "redis-py": redis.__version__,
            "redis-server": info.get("redis_version"),
        },
        "machine": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "processor": platform.processor(),
            "cpus": os.cpu_count(),
        },
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    result = run()
    rows = [
        ("session validate (GET)", f"{result['validate_median_us']:.1f} µs"),
        ("bare GETEX", f"{result['getex_median_us']:.1f} µs"),
        ("bare HMGET of 5 fields", f"{result['hmget_median_us']:.1f} µs"),
        (
            "validate / GETEX",
            f"{result['ratio_median']:.3f}x (rounds {result['ratio_min']:.3f}x - "
            f"{result['ratio_max']:.3f}x)",
        ),
        (
            "validate / HMGET",
            f"{result['ratio_to_hmget_median']:.3f}x (rounds {result['ratio_to_hmget_min']:.3f}x"
            f" - {result['ratio_to_hmget_max']:.3f}x)",
        ),
        ("writes per 1,000 validations", f"{result['writes_per_1000_validations']:.3f}"),
        (
            "... a session in use for 10 minutes",
            f"{result['writes_per_1000_validations_in_continuous_use']:.2f}",
        ),
        (
            "inside redis-server",
            f"GET {result['server_us']['get']:.1f} µs, HMGET "
            f"{result['server_us']['hmget']:.1f} µs, GETEX {result['server_us']['getex']:.1f} µs",
        ),
        ("target", f"<= {TARGET_RATIO}x GETEX: {'met' if result['meets_target'] else 'NOT met'}"),
    ]
    width = max(len(r[0]) for r in rows)
    print(
        f"{result['rounds']} rounds x {result['ops_per_round']} calls each, "
        f"{result['seconds']} s, {result['redis']}, "
        f"redis-server {result['versions']['redis-server']}"
    )
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
