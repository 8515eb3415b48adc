"""A real Redis Cluster on loopback for the tests and benchmarks: three masters, one replica each.

Started with ``redis-server --cluster-enabled yes`` and ``redis-cli --cluster create``, in a
temporary folder, on free ports (each node's bus port, port + 10000, free too). Stopped at the end.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
from redis.cluster import RedisCluster

from tools.redis_server import PortTaken, RedisServer, free_port

NODE_TIMEOUT_MS = 1000  # how long before a silent master is failed over


def _port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_cluster_ports(count: int) -> list[int]:
    """Ports p with p and p + 10000 (the cluster bus) both free."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port < 55000 and port not in ports and _port_is_free(port + 10000):
            ports.append(port)
    return ports


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(
            f"{name} is not installed: run `make test` as root (it installs Debian's "
            "redis-server and redis-tools) or `apt-get install redis-server redis-tools`"
        )
    return path


class Node(RedisServer):
    """One cluster node: a private redis-server in cluster mode on a fixed port."""

    def __init__(self, port: int, folder: Path) -> None:
        options = [
            "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
            "--repl-diskless-sync-delay", "0",
            "--protected-mode", "yes",
        ]  # fmt: skip
        super().__init__(folder, port=port, options=options, persist=False)

    def stop(self) -> None:
        self.kill()  # the failover tests stop a master as a crash would

    def role(self) -> str:
        return str(self.client().info("replication")["role"])


@dataclass
class LocalCluster:
    folder: Path
    masters: int = 3
    replicas_per_master: int = 1
    nodes: list[Node] = field(default_factory=list)

    def start(self, attempts: int = 3) -> None:
        """Start the nodes and form the cluster; new ports if another process took one.

        Free ports are found by binding and releasing them, so another process (a second
        pytest worker, say) can take one before redis-server binds it: then try again.
        """
        for attempt in range(attempts):
            try:
                self._start_once()
                return
            except PortTaken:
                if attempt == attempts - 1:
                    raise

    def _start_once(self) -> None:
        count = self.masters * (1 + self.replicas_per_master)
        self.nodes = [Node(port, self.folder / str(port)) for port in _free_cluster_ports(count)]
        try:
            for node in self.nodes:
                node.start()
            subprocess.run(  # noqa: S603 - redis-cli with fixed arguments
                [
                    _binary("redis-cli"),
                    "--cluster",
                    "create",
                    *[f"127.0.0.1:{n.port}" for n in self.nodes],
                    "--cluster-replicas",
                    str(self.replicas_per_master),
                    "--cluster-yes",
                ],
                check=True,
                capture_output=True,
                timeout=60,
            )
            self.wait_until_healthy()
        except BaseException:
            self.stop()
            raise

    def is_healthy(self) -> bool:
        """Every slot served, every live node agrees, every replica in sync with its master."""
        for node in self.live_nodes():
            info = node.client().cluster("info")
            if info["cluster_state"] != "ok" or int(info["cluster_slots_ok"]) != 16384:
                return False
            replication = node.client().info("replication")
            if replication["role"] != "master" and replication["master_link_status"] != "up":
                return False  # a replica that never synced cannot take over
        return len([n for n in self.live_nodes() if n.role() == "master"]) == self.masters

    def wait_until_healthy(self, timeout: float = 30) -> None:
        _wait_for(self.is_healthy, "the cluster to become healthy", timeout)

    def wait_for_replication(self, timeout: float = 10) -> None:
        """Wait until every replica has every write its master has acknowledged."""

        def caught_up() -> bool:
            for node in self.live_nodes():
                info = node.client().info("replication")
                if info["role"] != "master":
                    continue
                offset = info["master_repl_offset"]
                replicas = [v for k, v in info.items() if k.startswith("slave")]
                if len(replicas) < self.replicas_per_master:
                    return False
                if any(r["offset"] != offset for r in replicas):
                    return False
            return True

        _wait_for(caught_up, "the replicas to catch up", timeout)

    def live_nodes(self) -> list[Node]:
        return [n for n in self.nodes if n.running]

    def master_for(self, key: str) -> Node:
        """The node that currently serves ``key`` as a master."""
        client = self.client()
        try:
            port = client.get_node_from_key(key).port
        finally:
            client.close()
        return next(n for n in self.live_nodes() if n.port == port)

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.live_nodes()[0].port}/0"

    def client(self, **kwargs: object) -> RedisCluster:
        return RedisCluster.from_url(self.url(), **kwargs)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def _wait_for(condition, what: str, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (redis.RedisError, OSError) as exc:
            last = exc
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}" + (f": {last}" if last else ""))
