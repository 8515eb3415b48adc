"""Shared fixtures: a real Redis for every test that needs one.

Without ``REDIS_URL`` the session starts a private ``redis-server`` (tools.redis_server) on a free
loopback port with its data in a temporary folder, and stops it at the end. With
``REDIS_URL`` set, tests use that server instead; every test gets a unique key prefix and
deletes only the keys under it, so a shared server is never flushed.

Fixtures for tests:

``redis_url``        URL of the server this session uses.
``redis_client``     a ``redis.Redis`` connected to it (bytes responses).
``key_prefix``       a unique prefix for this test's keys, removed afterwards.
``private_redis``    a fresh ``redis-server`` for this test alone, which the test may stop
                     and start again (fault tests); always private, even with ``REDIS_URL``.
``redis_cluster``    a private Redis Cluster (three masters, one replica each) on loopback.
``api``              "sync" or "async": a test that asks for it runs once with each.
``loop_thread``      an event loop in a thread of its own (tests.async_bridge), for async code.
``redis_clients``    ``redis_clients(url=None, counter=None, **kwargs)`` makes a client of the
                     ``api``'s kind (``redis.asyncio`` for "async") on this test's topology,
                     closed at the end of the test.

A test module marked ``pytestmark = pytest.mark.also_on_cluster`` runs each of its tests that use
``redis_client`` or ``counting_redis`` twice: on one server and on the cluster (the client is then
a ``redis.cluster.RedisCluster``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio
import redis.asyncio.cluster
from filelock import FileLock
from playwright.sync_api import Browser, sync_playwright
from redis.cluster import RedisCluster

from tests.async_bridge import LoopThread
from tests.browser import CHROMIUM_ARGS, chromium_path
from tests.site_server import build_site, build_with_zensical, copy_site_sources, serve
from tools.redis_cluster import LocalCluster
from tools.redis_server import RedisServer, redis_server_binary
from tools.round_trips import RoundTripCounter

ROOT = Path(__file__).resolve().parent.parent


def _redis_server_binary() -> str:
    try:
        return redis_server_binary()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    _redis_server_binary()
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


@pytest.fixture
def key_prefix(redis_url: str) -> Iterator[str]:
    prefix = f"test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        # Keys with a hash tag keep the tag after the prefix, so one pattern finds them all.
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        keys += list(client.scan_iter(match=f"{{{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "also_on_cluster: run the module's Redis tests on a Redis Cluster as well"
    )
    config.addinivalue_line("markers", "cluster: needs the Redis Cluster (make test-fast skips)")
    config.addinivalue_line(
        "markers", "counts_round_trips: counts a client's round trips (not on an async cluster)"
    )
    config.addinivalue_line(
        "markers", "browser: builds the site or opens it in Chromium (make test-fast skips)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    names = set(metafunc.fixturenames)
    uses_redis = {"redis_client", "counting_redis", "redis_clients"} & names
    both = uses_redis and metafunc.definition.get_closest_marker("also_on_cluster")
    on_cluster = pytest.param("cluster", marks=pytest.mark.cluster)
    if "api" in names and both and metafunc.definition.get_closest_marker("counts_round_trips"):
        # Every pair but (async, cluster): redis-py's asyncio cluster client takes no
        # connection class, so nothing could count its round trips.
        pairs = [
            ("sync", "single"),
            ("async", "single"),
            pytest.param("sync", "cluster", marks=pytest.mark.cluster),
        ]
        metafunc.parametrize(("api", "redis_topology"), pairs, indirect=True)
        return
    if "api" in names:
        metafunc.parametrize("api", ["sync", "async"], indirect=True)
    if both:
        metafunc.parametrize("redis_topology", ["single", on_cluster], indirect=True)


_BROWSER_FIXTURES = {"browser", "chromium", "built_site", "site_url", "zensical_site"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what the edit loop (make test-fast) leaves out, from the fixtures a test uses."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & _BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if "redis_cluster" in fixtures:
            item.add_marker(pytest.mark.cluster)


@pytest.fixture
def redis_topology(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "single")


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    _redis_server_binary()
    cluster = LocalCluster(tmp_path_factory.mktemp("redis-cluster"))
    cluster.start()
    yield cluster
    cluster.stop()


def _client_for(
    request: pytest.FixtureRequest, topology: str, redis_url: str, **kwargs: object
) -> redis.Redis | RedisCluster:
    if topology == "cluster":
        cluster: LocalCluster = request.getfixturevalue("redis_cluster")
        return RedisCluster.from_url(cluster.url(), **kwargs)
    return redis.Redis.from_url(redis_url, **kwargs)


@pytest.fixture
def redis_client(
    request: pytest.FixtureRequest, redis_topology: str, redis_url: str
) -> Iterator[redis.Redis]:
    client = _client_for(request, redis_topology, redis_url)
    yield client
    client.close()


@pytest.fixture
def api(request: pytest.FixtureRequest) -> str:
    """Which version of a snippet the test drives: the blocking one or the asyncio one."""
    return str(request.param)


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    loop = LoopThread()
    yield loop
    loop.close()


@pytest.fixture
def redis_clients(
    request: pytest.FixtureRequest,
    api: str,
    redis_topology: str,
    redis_url: str,
    loop_thread: LoopThread,
) -> Iterator[Callable[..., Any]]:
    """Make clients of the ``api``'s kind: ``make(url=None, counter=None, **kwargs)``.

    ``url`` defaults to the test's topology (one server or the cluster); ``counter`` (a
    RoundTripCounter) counts the client's round trips. redis-py's asyncio cluster client
    takes no connection class, so an async client on the cluster cannot be counted.
    """
    made: list[Any] = []

    def make(url: str | None = None, counter: RoundTripCounter | None = None, **kwargs: Any) -> Any:
        if api == "sync":
            if counter is not None:
                kwargs["connection_class"] = counter.connection_class()
            client = (
                redis.Redis.from_url(url, **kwargs)
                if url
                else _client_for(request, redis_topology, redis_url, **kwargs)
            )
            if counter is not None:
                client.ping()
                counter.count = 0
        else:
            on_cluster = url is None and redis_topology == "cluster"
            if counter is not None:
                if on_cluster:
                    pytest.fail("an async cluster client cannot be counted", pytrace=False)
                kwargs["connection_class"] = counter.async_connection_class()
            if on_cluster:
                cluster: LocalCluster = request.getfixturevalue("redis_cluster")
                client = redis.asyncio.cluster.RedisCluster.from_url(cluster.url(), **kwargs)
                # Learn the slot map before concurrent use, as an app does at start-up:
                # redis-py's asyncio cluster client used concurrently before that can fail
                # with a TypeError (seen with redis-py 8.1; see snippets/scaling).
                loop_thread.run(client.initialize())
            else:
                client = redis.asyncio.Redis.from_url(url or redis_url, **kwargs)
            if counter is not None:
                loop_thread.run(client.ping())
                counter.count = 0
        made.append(client)
        return client

    yield make
    for client in made:
        if api == "sync":
            client.close()
        else:
            loop_thread.run(client.aclose())


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own; ``.stop()`` and ``.start()`` simulate an outage."""
    _redis_server_binary()
    with RedisServer(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def snippet_env(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    redis_url: str,
    key_prefix: str,
) -> None:
    """The environment a reader sets before running a snippet file.

    ``REDIS_CLUSTER_URL`` is set, and a cluster started, only for a test marked
    ``cluster`` (tests/test_snippets_run.py marks the snippets that read it).
    """
    monkeypatch.setenv("REDIS_URL", redis_url)
    if request.node.get_closest_marker("cluster"):
        cluster: LocalCluster = request.getfixturevalue("redis_cluster")
        monkeypatch.setenv("REDIS_CLUSTER_URL", cluster.url())
    monkeypatch.setenv("REDIS_KEY_PREFIX", key_prefix)
    monkeypatch.setenv("JWT_SECRET", secrets.token_urlsafe(48))
    monkeypatch.setenv("SESSION_SECRET", secrets.token_urlsafe(48))


@pytest.fixture
def counting_redis(
    request: pytest.FixtureRequest, redis_topology: str, redis_url: str
) -> Iterator[tuple[redis.Redis, RoundTripCounter]]:
    """A client whose every round trip to the server is counted in ``counter.count``."""
    counter = RoundTripCounter()
    counting = counter.connection_class()
    client = _client_for(request, redis_topology, redis_url, connection_class=counting)
    client.ping()  # connect (and, on a cluster, learn the slot map) before counting starts
    counter.count = 0
    yield client, counter
    client.close()


# The built site and a browser, shared by every test module that opens pages.


def _shared_build(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """A site built once per run into ``name``: the first xdist worker builds it, the others
    wait for it. ``build(staging)`` writes the site into a fresh folder."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's folder, above every worker's own
    site = shared / name
    with FileLock(str(shared / f"{name}.lock")):
        if not (site / "index.html").is_file():
            staging = shared / f"{name}.staging"
            shutil.rmtree(staging, ignore_errors=True)
            build(staging)
            staging.rename(site)  # whole or not at all: a failed build leaves no site
    return site


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as MkDocs builds it (strict), once per run."""

    def build(staging: Path) -> None:
        result = build_site(staging)
        assert result.returncode == 0, f"strict build failed:\n{result.stdout}\n{result.stderr}"

    return _shared_build(tmp_path_factory, "built-site", build)


@pytest.fixture(scope="session")
def zensical_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as Zensical (Material's successor) builds the unchanged mkdocs.yml (strict),
    once per run. Zensical writes its output and cache beside the config, so it builds a copy
    of the project: the tests leave the work tree as they found it."""

    def build(staging: Path) -> None:
        project = staging.parent / "zensical-project"
        shutil.rmtree(project, ignore_errors=True)
        copy_site_sources(project)
        shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
        result = build_with_zensical(project)
        assert result.returncode == 0, f"zensical build failed:\n{result.stdout}\n{result.stderr}"
        (project / "site").rename(staging)

    return _shared_build(tmp_path_factory, "zensical-site", build)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium under Playwright, one per run (``browser`` is the same one; the
    app tests name theirs ``chromium``, as ``browser`` is their HTTP client there)."""
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def browser(chromium: Browser) -> Browser:
    return chromium


@pytest.fixture(scope="session")
def site_url(built_site: Path) -> Iterator[str]:
    with serve(built_site) as url:
        yield url
