"""The HTTP benchmark measures what it says: real answers, parsed right, ratios as defined."""

from __future__ import annotations

import pytest

from benchmarks.http_overhead import (
    ENDPOINTS,
    MODES,
    VARIANT_ENDPOINTS,
    VARIANTS,
    measure_http,
    parse_wrk,
    ratios,
)

WRK_REPORT = """Running 1s test @ http://127.0.0.1:1/open
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.40ms  201.55us   4.01ms   85.12%
    Req/Sec     2.87k    86.43     2.98k    80.00%
  Latency Distribution
     50%  {median}
     75%    1.49ms
     90%    1.60ms
     99%    2.16ms
  2859 requests in 1.00s, 396.71KB read
{extra}Requests/sec:   2859.21
Transfer/sec:    396.00KB
"""


@pytest.mark.parametrize(("median", "ms"), [("1.38ms", 1.38), ("812.00us", 0.812), ("1.02s", 1020)])
def test_wrk_reports_are_read_in_milliseconds(median: str, ms: float) -> None:
    parsed = parse_wrk(WRK_REPORT.format(median=median, extra=""))
    assert parsed == {"requests_per_s": 2859.21, "median_ms": pytest.approx(ms)}


@pytest.mark.parametrize(
    "extra", ["  Non-2xx or 3xx responses: 12\n", "  Socket errors: connect 0, read 3\n"]
)
def test_a_run_with_failed_requests_is_an_error_not_a_number(extra: str) -> None:
    with pytest.raises(RuntimeError, match="failed requests"):
        parse_wrk(WRK_REPORT.format(median="1.38ms", extra=extra))


def test_ratios_are_costs_per_request() -> None:
    rates = {"open": 1000, "jwt-HS256": 800, "jwt-RS256": 400, "jwt-ES256": 500}
    rates |= {"jwt-EdDSA": 500, "jwt-check": 400, "session": 800}
    results = {
        m: {e: {"requests_per_s": rates[e] / (1 if m == "async" else 2)} for e in ENDPOINTS}
        for m in MODES
    }
    variants = {"uvicorn_defaults": {"open": {"requests_per_s": 500}}}
    found = ratios(results, variants)  # type: ignore[arg-type]
    assert found["async_over_open"] == {
        "jwt-HS256": 1.25,
        "jwt-RS256": 2.5,
        "jwt-ES256": 2.0,
        "jwt-EdDSA": 2.0,
        "jwt-check": 2.5,
        "session": 1.25,
    }
    assert found["async_session_over"] == {"jwt-EdDSA": 0.62, "jwt-check": 0.5}
    assert found["async_mechanism_range"] == {
        "cheapest_over_open": 1.25,
        "dearest_over_open": 2.5,
        "dearest_over_cheapest": 2.0,
    }
    assert found["async_speed_over_sync"] == dict.fromkeys(ENDPOINTS, 2.0)
    # half the rate of the server as make app runs it: twice the cost per request
    assert found["uvicorn_defaults_over_server"] == {"open": 2.0}


def test_a_short_run_measures_every_endpoint_over_http(redis_url: str, key_prefix: str) -> None:
    data = measure_http(redis_url, key_prefix, duration=1, rounds=1)
    for mode in MODES:
        for endpoint in ENDPOINTS:
            result = data["endpoints"][mode][endpoint]
            assert result["requests_per_s"] > 0 and result["median_ms"] > 0, (mode, endpoint)
    assert set(data["ratios"]["async_over_open"]) == set(ENDPOINTS) - {"open"}
    for name in VARIANTS:
        for endpoint in VARIANT_ENDPOINTS:
            assert data["variant_endpoints"][name][endpoint]["requests_per_s"] > 0
        assert set(data["ratios"][f"{name}_over_server"]) == set(VARIANT_ENDPOINTS)
