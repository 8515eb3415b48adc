"""Connect to Redis Cluster the way the session and revocation snippets expect.

The snippets take any redis-py client, so moving from one Redis server to a cluster
changes
one line: the client. This one fails fast, like the single-server clients of the other
snippets, so a request never hangs while a master is being replaced: the snippets turn
what it raises (``redis.RedisError``, and ``RedisClusterException`` when no node can be
reached, see `snippets.sessions.redis_errors`) into their "store unavailable"
exceptions (fail closed).

Run it against a cluster of your own::

    REDIS_CLUSTER_URL=redis://127.0.0.1:7000/0 python -m
    snippets.scaling.connect_cluster
"""

from __future__ import annotations

# --8<-- [start:setup]
import asyncio
import os
import time

import redis.asyncio.cluster
import redis.asyncio.retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

from snippets.sessions.redis_errors import REDIS_ERRORS

STARTUP_SECONDS = 5.0  # how long both connect functions keep trying at start-up

# --8<-- [end:setup]


# --8<-- [start:connect]
def connect_cluster(url: str) -> RedisCluster:
    """Return a cluster client with short timeouts and a few quick retries.

    Call it once, at start-up: the client learns the slot map before it is returned.

    Args:
        url: The ``redis://`` URL of any node; the client learns the others from it.

    Returns:
        A client that follows MOVED/ASK redirections and a failover's new slot map, and
        gives up within about a second when a slot has no reachable master.
    """
    # Start-up may wait where a request may not: a busy moment that outlasts the short
    # timeouts below is retried until STARTUP_SECONDS have passed, then raised.
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            return RedisCluster.from_url(
                url,
                socket_connect_timeout=0.25,
                socket_timeout=0.25,
                retry=Retry(
                    ExponentialWithJitterBackoff(base=0.02, cap=0.2), retries=3
                ),
            )
        except REDIS_ERRORS:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


# --8<-- [end:connect]


# --8<-- [start:connect_async]
async def connect_cluster_async(url: str) -> redis.asyncio.cluster.RedisCluster:
    """`connect_cluster` for ``redis.asyncio``; call it once, at start-up.

    It learns the slot map before returning. redis-py's asyncio cluster client, used
    by many requests at once before it has that map, can fail with a ``TypeError``
    instead of a ``RedisError`` (seen with redis-py 8.1 in this project's tests).

    Args:
        url: The ``redis://`` URL of any node.

    Returns:
        A connected client with the same timeouts and retries as `connect_cluster`.
    """
    client = redis.asyncio.cluster.RedisCluster.from_url(
        url,
        socket_connect_timeout=0.25,
        socket_timeout=0.25,
        retry=redis.asyncio.retry.Retry(
            ExponentialWithJitterBackoff(base=0.02, cap=0.2), retries=3
        ),
    )
    # Start-up may wait where a request may not: a busy moment that outlasts the short
    # timeouts above is retried until STARTUP_SECONDS have passed, then raised.
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            await client.initialize()
            return client
        except REDIS_ERRORS:
            if time.monotonic() >= deadline:
                await client.aclose()
                raise
            await asyncio.sleep(0.1)


# --8<-- [end:connect_async]


def main() -> None:
    # --8<-- [start:demo]
    client = connect_cluster(os.environ["REDIS_CLUSTER_URL"])
    prefix = os.environ.get("REDIS_KEY_PREFIX", "app:")
    client.set(prefix + "greeting", "hello", ex=60)
    print(client.get(prefix + "greeting"))
    #> b'hello'
    print(len(client.get_primaries()))
    #> 3
    # --8<-- [end:demo]
    client.close()


if __name__ == "__main__":
    main()
