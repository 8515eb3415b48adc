"""What session validation costs on top of the cheapest possible Redis read.

Compares ``RedisSessionStore.validate`` (format check, SHA-256, one EVALSHA that checks both
deadlines and slides the idle one) with a bare ``GETEX`` of a value of the same size on the same
connection. The two are interleaved over many rounds, and the medians are reported.

Run it with::

    .venv/bin/python -m benchmarks.session_overhead

With ``REDIS_URL`` set it uses that server (under a unique key prefix, deleting only its own
keys); otherwise it starts a private ``redis-server`` on a free loopback port in a temporary
folder and stops it at the end. Results go to ``benchmarks/results/session_overhead.json``.
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

from snippets.sessions.session_store import RedisSessionStore
from tools.redis_server import redis_server

ROUNDS = 41
OPS_PER_ROUND = 500
TARGET_RATIO = 1.2
RESULTS = Path(__file__).resolve().parent / "results" / "session_overhead.json"


def _time_per_op(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter_ns()
    for _ in range(n):
        fn()
    return (time.perf_counter_ns() - start) / n / 1000  # microseconds


def run() -> dict:
    with redis_server() as (url, where):
        client = redis.Redis.from_url(url, single_connection_client=True)
        prefix = f"bench:{uuid.uuid4().hex}:"
        try:
            store = RedisSessionStore(client, prefix=prefix)
            data = {"role": "reader", "csrf": "x" * 43}
            session_id = store.create("bench-user", data)
            plain_key = prefix + "plain"
            client.set(plain_key, json.dumps(data), ex=1800)

            def validate() -> None:
                if store.validate(session_id) is None:
                    raise RuntimeError("session vanished during the benchmark")

            def getex() -> None:
                client.getex(plain_key, ex=1800)

            for _ in range(200):  # warm up: connection, script cache, branch predictors
                validate()
                getex()
            before = client.info("commandstats")
            validate_us, getex_us, ratios = [], [], []
            for i in range(ROUNDS):
                pair = [(validate, validate_us), (getex, getex_us)]
                for fn, sink in pair if i % 2 == 0 else reversed(pair):
                    sink.append(_time_per_op(fn, OPS_PER_ROUND))
                ratios.append(validate_us[-1] / getex_us[-1])
            after = client.info("commandstats")
            info = client.info("server")
        finally:
            keys = list(client.scan_iter(match=f"{prefix}*"))
            if keys:
                client.delete(*keys)
            client.close()
    server_us = {
        name: round(
            (after[f"cmdstat_{name}"]["usec"] - before.get(f"cmdstat_{name}", {}).get("usec", 0))
            / (
                after[f"cmdstat_{name}"]["calls"]
                - before.get(f"cmdstat_{name}", {}).get("calls", 0)
            ),
            2,
        )
        for name in ("evalsha", "getex")
    }
    return {
        "what": "RedisSessionStore.validate vs bare GETEX, same connection",
        "note": "server_us: time inside redis-server per call (INFO commandstats); on a shared "
        "server it includes other clients' calls of the same command",
        "rounds": ROUNDS,
        "ops_per_round": OPS_PER_ROUND,
        "validate_median_us": round(statistics.median(validate_us), 2),
        "getex_median_us": round(statistics.median(getex_us), 2),
        "ratio_median": round(statistics.median(ratios), 3),
        "ratio_of_fastest_rounds": round(min(validate_us) / min(getex_us), 3),
        "ratio_min": round(min(ratios), 3),
        "ratio_max": round(max(ratios), 3),
        "server_us": {"validate_script": server_us["evalsha"], "getex": server_us["getex"]},
        "target_ratio": TARGET_RATIO,
        "meets_target": statistics.median(ratios) <= TARGET_RATIO,
        "redis": where,
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
        ("session validate (EVALSHA)", f"{result['validate_median_us']:.1f} µs"),
        ("bare GETEX", f"{result['getex_median_us']:.1f} µs"),
        ("ratio (median of rounds)", f"{result['ratio_median']:.3f}x"),
        (
            "inside redis-server",
            f"{result['server_us']['validate_script']:.1f} µs vs "
            f"{result['server_us']['getex']:.1f} µs",
        ),
        ("ratio of fastest rounds", f"{result['ratio_of_fastest_rounds']:.3f}x"),
        ("ratio range", f"{result['ratio_min']:.3f}x - {result['ratio_max']:.3f}x"),
        ("target", f"<= {TARGET_RATIO}x: {'met' if result['meets_target'] else 'NOT met'}"),
    ]
    width = max(len(r[0]) for r in rows)
    print(
        f"{result['rounds']} rounds x {result['ops_per_round']} calls each, "
        f"{result['redis']}, redis-server {result['versions']['redis-server']}"
    )
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
