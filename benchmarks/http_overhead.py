"""What authentication costs inside a request: requests per second over HTTP on 127.0.0.1.

The server is ``benchmarks.http_app`` under uvicorn, started the way ``make app`` starts
the demo (``uvicorn --factory ... --loop uvloop --http httptools``: one process), in a
process of its own. Two more servers run beside it, so that the page can say how much the
server's configuration moves the result next to how much the mechanism does: one with
uvicorn's pure-Python defaults (``--loop asyncio --http h11``), and one whose
security-headers middleware is ``@app.middleware("http")`` (Starlette's
``BaseHTTPMiddleware``) instead of pure ASGI; those two serve the async ``/open``,
``/jwt-EdDSA`` and ``/session``.

The load generator is wrk (Debian's package ``wrk``): one thread and a few keep-alive
connections, each run bounded by ``--duration`` seconds. Every endpoint is measured in
every round, round after round (the order rotating from round to round), and the median of
the rounds is kept, so a busy moment of the machine touches all endpoints alike; the ratios
between endpoints are what the page reports, never an absolute rate on its own.

Before any timing, each protected endpoint is checked to answer 200 with its credential and
401 without, so a fast stream of refusals can never pass for a measurement. A run in which
wrk saw any answer but 200 is an error.

Run it alone with ``python -m benchmarks.http_overhead`` (``--quick`` for a smoke run);
``make bench`` runs it as part of ``benchmarks.measure``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import redis
from cryptography.hazmat.primitives import serialization

from benchmarks.http_app import AUDIENCE, ISSUER
from snippets.sessions.session_cookie import COOKIE_NAME
from snippets.sessions.session_store import RedisSessionStore
from snippets.tokens.issue_access_token import issue_access_token
from snippets.tokens.keys import generate_private_key
from tools.redis_server import free_port, redis_server

ROOT = Path(__file__).resolve().parent.parent
ALGORITHMS = ("HS256", "RS256", "ES256", "EdDSA")
ENDPOINTS = ("open", *(f"jwt-{a}" for a in ALGORITHMS), "jwt-check", "session")
MODES = ("async", "sync")
# How make app runs uvicorn (scripts/run-app), and the two variants measured beside it.
SERVER = ("uvloop", "httptools", "asgi")  # loop, HTTP parser, middleware style
VARIANTS = {
    "uvicorn_defaults": ("asyncio", "h11", "asgi"),
    "base_http_middleware": ("uvloop", "httptools", "base-http"),
}
VARIANT_ENDPOINTS = ("open", "jwt-EdDSA", "session")  # async def endpoints
CONNECTIONS = 4
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk_binary() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError(
            "wrk is not installed: run `make bench` (it installs Debian's wrk as root), "
            "or `apt-get install wrk`"
        )
    return path


def _path(mode: str, endpoint: str) -> str:
    return f"/{endpoint}" if mode == "async" else f"/sync/{endpoint}"


def parse_wrk(output: str) -> dict[str, float]:
    """Requests per second and median latency (ms) from wrk's ``--latency`` report."""
    if "Non-2xx or 3xx responses" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw failed requests:\n{output}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    median = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    if rate is None or median is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return {
        "requests_per_s": float(rate[1]),
        "median_ms": float(median[1]) * _UNITS[median[2]],
    }


@contextlib.contextmanager
def _server(env: dict[str, str], loop: str, http: str, middleware: str) -> Iterator[str]:
    port = free_port()
    env = {**env, "BENCH_MIDDLEWARE": middleware}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "benchmarks.http_app:app_from_env",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        loop,
        "--http",
        http,
    ]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            command, cwd=ROOT, env=env, stdout=log, stderr=log
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 20
            with httpx.Client(timeout=1) as client:
                while True:
                    if process.poll() is not None:
                        log.seek(0)
                        raise RuntimeError(f"the server exited:\n{log.read().decode()}")
                    if time.monotonic() > deadline:
                        raise RuntimeError("the server did not answer within 20 s")
                    with contextlib.suppress(httpx.TransportError):
                        if client.get(base + "/open").status_code == 200:
                            break
                    time.sleep(0.05)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _check_answers(
    base: str,
    credentials: dict[str, dict[str, str]],
    modes: tuple[str, ...],
    endpoints: tuple[str, ...],
) -> None:
    with httpx.Client(timeout=5) as client:
        for mode in modes:
            for endpoint in endpoints:
                url = base + _path(mode, endpoint)
                ok = client.get(url, headers=credentials[endpoint])
                if ok.status_code != 200:
                    raise RuntimeError(f"{url} answered {ok.status_code} with its credential")
                if endpoint != "open" and client.get(url).status_code != 401:
                    raise RuntimeError(f"{url} did not refuse a request without one")


def _wrk(wrk: str, url: str, headers: dict[str, str], duration: int) -> dict[str, float]:
    args = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
    command = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency", *args, url]
    done = subprocess.run(  # noqa: S603 - wrk, fixed arguments
        command, capture_output=True, text=True, timeout=duration + 30, check=True
    )
    return parse_wrk(done.stdout)


def _write_keys(folder: Path) -> dict[str, Any]:
    """One signing key per algorithm; the verifying halves go to ``folder`` for the app."""
    signing: dict[str, Any] = {}
    for algorithm in ALGORITHMS:
        if algorithm == "HS256":
            signing[algorithm] = os.urandom(32)
            (folder / "HS256.key").write_bytes(signing[algorithm])
            continue
        signing[algorithm] = generate_private_key(algorithm)
        (folder / f"{algorithm}.pem").write_bytes(
            signing[algorithm]
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return signing


def _median(values: list[dict[str, float]]) -> dict[str, float]:
    return {
        "requests_per_s": round(statistics.median(v["requests_per_s"] for v in values)),
        "median_ms": round(statistics.median(v["median_ms"] for v in values), 2),
    }


def measure_http(url: str, prefix: str, *, duration: int, rounds: int) -> dict[str, Any]:
    """Measure every endpoint ``rounds`` times for ``duration`` seconds each."""
    wrk = wrk_binary()
    client = redis.Redis.from_url(url)
    session_id = RedisSessionStore(client, prefix=prefix).create("bench-user")
    with tempfile.TemporaryDirectory(prefix="bench-http-") as folder:
        signing = _write_keys(Path(folder))
        tokens = {
            algorithm: issue_access_token(
                "bench-user",
                key,
                algorithm=algorithm,
                kid="bench",
                issuer=ISSUER,
                audience=AUDIENCE,
                lifetime=timedelta(hours=1),
            )
            for algorithm, key in signing.items()
        }
        credentials: dict[str, dict[str, str]] = {
            "open": {},
            **{f"jwt-{a}": {"Authorization": f"Bearer {t}"} for a, t in tokens.items()},
            "jwt-check": {"Authorization": f"Bearer {tokens['EdDSA']}"},
            "session": {"Cookie": f"{COOKIE_NAME}={session_id}"},
        }
        env = {
            **os.environ,
            "BENCH_REDIS_URL": url,
            "BENCH_PREFIX": prefix,
            "BENCH_KEY_DIR": folder,
        }
        runs: dict[tuple[str, str, str], list[dict[str, float]]] = {}
        with contextlib.ExitStack() as servers:
            bases = {
                name: servers.enter_context(_server(env, *config))
                for name, config in {"main": SERVER, **VARIANTS}.items()
            }
            _check_answers(bases["main"], credentials, MODES, ENDPOINTS)
            for name in VARIANTS:
                _check_answers(bases[name], credentials, ("async",), VARIANT_ENDPOINTS)
            jobs = [("main", m, e) for m in MODES for e in ENDPOINTS] + [
                (name, "async", e) for name in VARIANTS for e in VARIANT_ENDPOINTS
            ]
            for i in range(rounds):
                shift = i * len(jobs) // max(rounds, 1)
                for job in jobs[shift:] + jobs[:shift]:
                    name, mode, endpoint = job
                    url_ = bases[name] + _path(mode, endpoint)
                    runs.setdefault(job, []).append(
                        _wrk(wrk, url_, credentials[endpoint], duration)
                    )
    client.close()
    results = {m: {e: _median(runs["main", m, e]) for e in ENDPOINTS} for m in MODES}
    variants = {
        name: {e: _median(runs[name, "async", e]) for e in VARIANT_ENDPOINTS} for name in VARIANTS
    }
    return {
        "server": "uvicorn, one process, uvloop and httptools (as make app runs it)",
        "variants": {
            "uvicorn_defaults": "uvicorn's defaults: the asyncio loop and the h11 parser",
            "base_http_middleware": "the same headers middleware as @app.middleware('http')",
        },
        "load": f"wrk, 1 thread, {CONNECTIONS} keep-alive connections",
        "duration_s": duration,
        "rounds": rounds,
        "endpoints": results,
        "variant_endpoints": variants,
        "ratios": ratios(results, variants),
    }


def ratios(
    results: dict[str, dict[str, dict[str, float]]],
    variants: dict[str, dict[str, dict[str, float]]] | None = None,
) -> dict[str, dict[str, float]]:
    """Cost per request as a ratio: to the open endpoint (per mode), async to sync, a
    session to a JWT (checked or not), and each server variant to the server as make app
    runs it. Costs are inverse rates: 1.25 means a quarter more time per request."""
    cost = {m: {e: 1 / results[m][e]["requests_per_s"] for e in ENDPOINTS} for m in MODES}
    found: dict[str, dict[str, float]] = {}
    for mode in MODES:
        over_open = {e: cost[mode][e] / cost[mode]["open"] for e in ENDPOINTS if e != "open"}
        found[f"{mode}_over_open"] = {e: round(v, 2) for e, v in over_open.items()}
        found[f"{mode}_session_over"] = {
            e: round(cost[mode]["session"] / cost[mode][e], 2) for e in ("jwt-EdDSA", "jwt-check")
        }
        # The mechanism's whole effect: the cheapest and the dearest mechanism against no
        # authentication, and what choosing one over the other moves the cost by.
        cheapest, dearest = min(over_open.values()), max(over_open.values())
        found[f"{mode}_mechanism_range"] = {
            "cheapest_over_open": round(cheapest, 2),
            "dearest_over_open": round(dearest, 2),
            "dearest_over_cheapest": round(dearest / cheapest, 2),
        }
    found["async_speed_over_sync"] = {
        e: round(cost["sync"][e] / cost["async"][e], 2) for e in ENDPOINTS
    }
    for name, rates in (variants or {}).items():
        # its cost per request over the same endpoint's as make app serves it
        found[f"{name}_over_server"] = {
            e: round(results["async"][e]["requests_per_s"] / rates[e]["requests_per_s"], 2)
            for e in rates
        }
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 s, one round")
    args = parser.parse_args(argv)
    duration, rounds = (1, 1) if args.quick else (4, 3)
    prefix = f"bench-http:{uuid.uuid4().hex}:"
    with redis_server() as (url, _):
        data = measure_http(url, prefix, duration=duration, rounds=rounds)
        cleanup = redis.Redis.from_url(url)
        keys = list(cleanup.scan_iter(match=f"{prefix}*"))
        if keys:
            cleanup.delete(*keys)
        cleanup.close()
    print(json.dumps(data, indent=2))


if __name__ == "__main__":
    main()
