"""Count the requests a redis-py client sends to Redis, for tests and benchmarks."""

from __future__ import annotations

import redis
import redis.asyncio


class RoundTripCounter:
    """How many requests were sent: a command, a pipeline or a script call each count once."""

    def __init__(self) -> None:
        self.count = 0

    def connection_class(self) -> type[redis.Connection]:
        """A connection class that adds to this counter, leaving out a new connection's
        hand-shake (HELLO, CLIENT SETINFO, SELECT), which a cluster client makes lazily."""
        counter = self

        class CountingConnection(redis.Connection):
            _handshaking = False

            def on_connect_check_health(self, check_health: bool = True) -> None:
                self._handshaking = True
                try:
                    super().on_connect_check_health(check_health)
                finally:
                    self._handshaking = False

            def send_packed_command(self, command, check_health=True):  # type: ignore[no-untyped-def]
                if not self._handshaking:
                    counter.count += 1
                return super().send_packed_command(command, check_health)

        return CountingConnection

    def async_connection_class(self) -> type[redis.asyncio.Connection]:
        """`connection_class` for ``redis.asyncio`` clients (one server only: the asyncio
        cluster client takes no connection class)."""
        counter = self

        class CountingAsyncConnection(redis.asyncio.Connection):
            _handshaking = False

            async def on_connect_check_health(self, check_health: bool = True) -> None:
                self._handshaking = True
                try:
                    await super().on_connect_check_health(check_health)
                finally:
                    self._handshaking = False

            async def send_packed_command(self, command, check_health=True):  # type: ignore[no-untyped-def]
                if not self._handshaking:
                    counter.count += 1
                return await super().send_packed_command(command, check_health)

        return CountingAsyncConnection
