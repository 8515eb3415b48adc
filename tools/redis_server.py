"""A private redis-server on loopback, for the tests and the benchmarks; or ``REDIS_URL``.

``RedisServer`` starts ``redis-server`` on a free port of 127.0.0.1 with its files in a folder
of its own, and can be stopped and started again on the same port with its data (the fault
tests simulate an outage that way). ``redis_server()`` yields the server the benchmarks
use: ``REDIS_URL`` when it is set, else a private one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import redis

START_SECONDS = 30  # generous: a busy machine may take a while to start a process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_server_binary() -> str:
    """The path of ``redis-server``; a RuntimeError that says how to install it if missing."""
    path = shutil.which("redis-server")
    if path is None:
        raise RuntimeError(
            "redis-server is not installed. Run `make test` (it installs Debian's "
            "redis-server as root), install it yourself (`apt-get install redis-server`), or "
            "point REDIS_URL at a running server."
        )
    return path


class PortTaken(RuntimeError):
    """redis-server exited at start: most likely another process took its port."""


class RedisServer:
    """A redis-server of its own on 127.0.0.1; ``stop()`` and ``start()`` for outages.

    Args:
        folder: Where it keeps its log and, when stopped, its data.
        port: A fixed port (a cluster node's); by default a free one, replaced by another if
            a different process takes it first.
        options: More ``redis-server`` arguments, e.g. to enable cluster mode.
        persist: Save the data when stopped, so that a restart keeps it.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        folder: Path,
        *,
        port: int | None = None,
        options: Sequence[str] = (),
        persist: bool = True,
    ) -> None:
        self.folder = folder
        self._fixed_port = port is not None
        self.port = free_port() if port is None else port
        self._options = list(options)
        self._persist = persist
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None

    def client(self) -> redis.Redis:
        return redis.Redis(host=self.host, port=self.port, socket_timeout=2)

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for attempt in range(1 if self._fixed_port else 3):
            if attempt:
                self.port = free_port()  # the chosen one was taken before we bound it
            # A save point only for the save at shutdown; never one in the background.
            save = "86400 1" if self._persist else ""
            self._process = subprocess.Popen(  # noqa: S603 - a fixed binary, fixed arguments
                [
                    redis_server_binary(),
                    "--port",
                    str(self.port),
                    "--bind",
                    self.host,
                    "--dir",
                    str(self.folder),
                    "--save",
                    save,
                    "--appendonly",
                    "no",
                    "--loglevel",
                    "warning",
                    "--logfile",
                    str(self.folder / "redis.log"),
                    *self._options,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_until_up():
                return
        self.stop()
        raise PortTaken(f"redis-server on {self.port} did not start; see {self.folder}")

    def _wait_until_up(self) -> bool:
        probe = redis.Redis(host=self.host, port=self.port, socket_timeout=1)
        deadline = time.monotonic() + START_SECONDS
        try:
            while time.monotonic() < deadline:
                if self._process is None or self._process.poll() is not None:
                    return False  # exited: most likely the port was taken
                try:
                    return bool(probe.ping())
                except redis.ConnectionError:
                    time.sleep(0.02)
            return False
        finally:
            probe.close()

    def stop(self) -> None:
        """Shut down as an operator would (saving the data if ``persist``)."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)
        self._process = None

    def kill(self) -> None:
        """End the process at once, as a crash would: nothing saved, nothing flushed."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)
        self._process = None

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextlib.contextmanager
def redis_server() -> Iterator[tuple[str, str]]:
    """Yield (URL, what it is): ``REDIS_URL`` if set, else a private redis-server."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url, "REDIS_URL"
        return
    try:
        redis_server_binary()
    except RuntimeError as exc:
        sys.exit(str(exc))
    with (
        tempfile.TemporaryDirectory(prefix="bench-redis-") as tmp,
        RedisServer(Path(tmp)) as server,
    ):
        yield server.url, "private redis-server on 127.0.0.1"
