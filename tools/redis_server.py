"""A private redis-server for the benchmarks, or the server ``REDIS_URL`` names."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def redis_server() -> Iterator[tuple[str, str]]:
    """Yield (URL, what it is): ``REDIS_URL`` if set, else a private redis-server.

    The private server listens on a free loopback port, keeps its files in a temporary folder,
    persists nothing, and is stopped (and its folder removed) when the block ends.
    """
    url = os.environ.get("REDIS_URL")
    if url:
        yield url, "REDIS_URL"
        return
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed: run `make system-deps` or set REDIS_URL")
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as tmp:
        port = free_port()
        proc = subprocess.Popen(  # noqa: S603 - a fixed binary and fixed arguments
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                tmp,
                "--save",
                "",
                "--appendonly",
                "no",
                "--loglevel",
                "warning",
                "--logfile",
                str(Path(tmp) / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        try:
            probe = redis.Redis.from_url(url)
            deadline = time.monotonic() + 10
            while True:
                try:
                    probe.ping()
                    break
                except redis.ConnectionError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise RuntimeError("the private redis-server did not start") from None
                    time.sleep(0.02)
            probe.close()
            yield url, "private redis-server on 127.0.0.1"
        finally:
            proc.terminate()
            proc.wait(timeout=10)
