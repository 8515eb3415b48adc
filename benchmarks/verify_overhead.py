"""What ``verify_token`` costs over a bare ``jwt.decode`` doing the same claim checks.

Run it from the repository root (about 20 seconds)::

    .venv/bin/python -m benchmarks.verify_overhead

Per algorithm it times batches of calls to each verifier, interleaved (their order alternates
from round to round) so both see the same machine state, and reports the medians and their
ratio. The results go to ``benchmarks/results/verify_overhead.json``.
"""

from __future__ import annotations

import gc
import json
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import jwt

from snippets.tokens.issue_access_token import issue_access_token
from snippets.tokens.keys import ALGORITHMS, generate_private_key
from snippets.tokens.verify_token import DEFAULT_LEEWAY, REQUIRED_CLAIMS, verify_token

RESULTS = Path(__file__).resolve().parent / "results" / "verify_overhead.json"
ROUNDS = 51
BATCH = 200
TARGET_RATIO = 1.2
AUDIENCE = "https://api.example.com"
ISSUER = "https://auth.example.com"


def _time_batch(call) -> float:
    """Nanoseconds per call, over one batch."""
    start = time.perf_counter_ns()
    for _ in range(BATCH):
        call()
    return (time.perf_counter_ns() - start) / BATCH


def measure(algorithm: str) -> dict[str, float]:
    signing = b"benchmark-secret-" * 3 if algorithm == "HS256" else generate_private_key(algorithm)
    verifying = signing if algorithm == "HS256" else signing.public_key()
    token = issue_access_token(
        "user-42", signing, algorithm=algorithm, kid="bench", issuer=ISSUER, audience=AUDIENCE
    )

    def ours() -> None:
        verify_token(token, verifying, algorithm=algorithm, audience=AUDIENCE, issuer=ISSUER)

    def bare() -> None:
        jwt.decode(
            token,
            verifying,
            algorithms=[algorithm],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=DEFAULT_LEEWAY,
            options={"require": list(REQUIRED_CLAIMS)},
        )

    ours(), bare()  # warm up, and fail early if either refuses the token
    timings: dict[str, list[float]] = {"ours": [], "bare": []}
    ratios = []
    gc.collect()
    gc.disable()
    try:
        for i in range(ROUNDS):
            order = (("ours", ours), ("bare", bare)) if i % 2 else (("bare", bare), ("ours", ours))
            this_round = {name: _time_batch(call) for name, call in order}
            for name, ns in this_round.items():
                timings[name].append(ns)
            ratios.append(this_round["ours"] / this_round["bare"])
    finally:
        gc.enable()
    ours_ns, bare_ns = statistics.median(timings["ours"]), statistics.median(timings["bare"])
    return {
        "verify_token_us": round(ours_ns / 1000, 2),
        "jwt_decode_us": round(bare_ns / 1000, 2),
        "ratio_of_medians": round(ours_ns / bare_ns, 3),
        "median_paired_ratio": round(statistics.median(ratios), 3),
    }


def main() -> dict:
    started = time.perf_counter()
    results = {alg: measure(alg) for alg in ALGORITHMS}
    report = {
        "benchmark": "verify_token vs jwt.decode with the same claim checks",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "pyjwt": version("pyjwt"),
        "cryptography": version("cryptography"),
        "machine": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "processor": platform.processor(),
            "implementation": platform.python_implementation(),
        },
        "rounds": ROUNDS,
        "calls_per_batch": BATCH,
        "target_ratio": TARGET_RATIO,
        "results": results,
        "seconds": round(time.perf_counter() - started, 1),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'algorithm':<10}{'verify_token µs':>17}{'jwt.decode µs':>15}{'ratio':>8}{'paired':>8}")
    for alg, r in results.items():
        print(
            f"{alg:<10}{r['verify_token_us']:>17.1f}{r['jwt_decode_us']:>15.1f}"
            f"{r['ratio_of_medians']:>8.3f}{r['median_paired_ratio']:>8.3f}"
        )
    worst = max(r["median_paired_ratio"] for r in results.values())
    verdict = "within" if worst <= TARGET_RATIO else "ABOVE"
    print(
        f"worst ratio {worst:.3f}: {verdict} the {TARGET_RATIO}x target; "
        f"{report['seconds']} s; written to {RESULTS.relative_to(Path.cwd())}"
    )
    return report


if __name__ == "__main__":
    main()
    sys.exit(0)
