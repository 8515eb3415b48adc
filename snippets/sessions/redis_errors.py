"""What a redis-py client raises when the store cannot answer, in one tuple.

Every snippet that talks to Redis turns these into its own "store unavailable"
exception (answer 503, fail closed). ``redis.RedisError`` alone is not enough:
redis-py's cluster clients raise ``RedisClusterException`` when no node of the cluster
can be reached ("Redis Cluster cannot be connected") or a slot has no master, and that
class does not derive from ``RedisError``. Caught as ``RedisError`` only, an unreachable
cluster became an unhandled exception (a 500) instead of a 503.

Run it to see the two families::

    python -m snippets.sessions.redis_errors
"""

from __future__ import annotations

# --8<-- [start:errors]
import redis
import redis.exceptions

# Catch these around every Redis call, and only around the Redis call.
REDIS_ERRORS: tuple[type[Exception], ...] = (
    redis.RedisError,  # connection, timeout, server replies such as OOM or READONLY
    redis.exceptions.RedisClusterException,  # cluster unreachable, slot not covered
)
# --8<-- [end:errors]


def main() -> None:
    # --8<-- [start:demo]
    unreachable = redis.exceptions.RedisClusterException("cannot be connected")
    print(isinstance(unreachable, redis.RedisError))
    #> False
    print(isinstance(unreachable, REDIS_ERRORS))
    #> True
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
