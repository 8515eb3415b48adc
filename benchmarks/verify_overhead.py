"""What ``verify_token`` costs over the signature check alone, and over ``jwt.decode``.

Run it from the repository root (about 30 seconds)::

    .venv/bin/python -m benchmarks.verify_overhead

``make bench`` runs it too and renders it on the Measured page. Per algorithm it times
batches of calls to three verifiers of the same token, interleaved (their order rotates from
round to round) so all see the same machine state:

- ``verify_token``, with every check it makes;
- a bare ``jwt.decode`` doing the same claim checks;
- the floor: the raw ``cryptography`` verify of the same signature over the same signing
  input with the same key object (for ES256 the signature already in DER, for HS256 an
  HMAC-SHA256 and ``hmac.compare_digest``). No verifier can cost less than that.

It reports the medians and the median, min and max of the per-round ratios. The results go to
``benchmarks/results/verify_overhead.json``.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import hmac
import json
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from snippets.tokens.issue_access_token import issue_access_token
from snippets.tokens.keys import ALGORITHMS, generate_private_key
from snippets.tokens.verify_token import DEFAULT_LEEWAY, REQUIRED_CLAIMS, verify_token

RESULTS = Path(__file__).resolve().parent / "results" / "verify_overhead.json"
ROUNDS = 51
BATCH = 200
TARGET_RATIO = 1.2  # verify_token / jwt.decode
FLOOR_TARGET = 2.0  # verify_token / the raw signature check, for RS256, ES256 and EdDSA
AUDIENCE = "https://api.example.com"
ISSUER = "https://auth.example.com"


def _time_batch(call) -> float:
    """Nanoseconds per call, over one batch."""
    start = time.perf_counter_ns()
    for _ in range(BATCH):
        call()
    return (time.perf_counter_ns() - start) / BATCH


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def floor_check(algorithm: str, token: str, key: object):  # type: ignore[no-untyped-def]
    """The raw signature check of ``token``, with everything that is not it done here."""
    head, body, signature = token.split(".")
    signing_input, raw = f"{head}.{body}".encode(), _b64(signature)
    if algorithm == "HS256":
        return lambda: hmac.compare_digest(
            hmac.new(key, signing_input, hashlib.sha256).digest(),
            raw,  # type: ignore[arg-type]
        )
    if algorithm == "RS256":
        pad, sha = padding.PKCS1v15(), hashes.SHA256()
        return lambda: key.verify(raw, signing_input, pad, sha)  # type: ignore[attr-defined]
    if algorithm == "ES256":
        der = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
        ecdsa = ec.ECDSA(hashes.SHA256())
        return lambda: key.verify(der, signing_input, ecdsa)  # type: ignore[attr-defined]
    return lambda: key.verify(raw, signing_input)  # type: ignore[attr-defined]


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

    floor = floor_check(algorithm, token, verifying)
    ours(), bare(), floor()  # warm up, and fail early if any refuses the token
    calls = [("ours", ours), ("bare", bare), ("floor", floor)]
    timings: dict[str, list[float]] = {name: [] for name, _ in calls}
    to_bare, to_floor = [], []
    gc.collect()
    gc.disable()
    try:
        for i in range(ROUNDS):
            order = calls[i % 3 :] + calls[: i % 3]
            this_round = {name: _time_batch(call) for name, call in order}
            for name, ns in this_round.items():
                timings[name].append(ns)
            to_bare.append(this_round["ours"] / this_round["bare"])
            to_floor.append(this_round["ours"] / this_round["floor"])
    finally:
        gc.enable()
    ours_ns, bare_ns = statistics.median(timings["ours"]), statistics.median(timings["bare"])
    return {
        "verify_token_us": round(ours_ns / 1000, 2),
        "jwt_decode_us": round(bare_ns / 1000, 2),
        "floor_us": round(statistics.median(timings["floor"]) / 1000, 2),
        "ratio_of_medians": round(ours_ns / bare_ns, 3),
        "median_paired_ratio": round(statistics.median(to_bare), 3),
        "ratio_to_floor": round(statistics.median(to_floor), 3),
        "ratio_to_floor_min": round(min(to_floor), 3),
        "ratio_to_floor_max": round(max(to_floor), 3),
    }


def run() -> dict:
    """Measure every algorithm; the report, without writing it anywhere."""
    started = time.perf_counter()
    results = {alg: measure(alg) for alg in ALGORITHMS}
    return {
        "benchmark": "verify_token vs jwt.decode and the raw signature check",
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
        "floor_target": FLOOR_TARGET,
        "results": results,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> dict:
    report = run()
    results = report["results"]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"{'algorithm':<10}{'verify_token':>13}{'jwt.decode':>12}{'floor':>9}"
        f"{'÷ decode':>10}{'÷ floor':>9}{'(min - max)':>16}"
    )
    for alg, r in results.items():
        print(
            f"{alg:<10}{r['verify_token_us']:>10.1f} µs{r['jwt_decode_us']:>9.1f} µs"
            f"{r['floor_us']:>6.1f} µs{r['median_paired_ratio']:>10.3f}{r['ratio_to_floor']:>9.3f}"
            f"   ({r['ratio_to_floor_min']:.2f} - {r['ratio_to_floor_max']:.2f})"
        )
    worst = max(r["median_paired_ratio"] for r in results.values())
    worst_floor = max(results[a]["ratio_to_floor"] for a in ("RS256", "ES256", "EdDSA"))
    print(
        f"worst ratio to jwt.decode {worst:.3f} (target {TARGET_RATIO}x); worst ratio to the "
        f"floor for RS256, ES256, EdDSA {worst_floor:.3f} (target {FLOOR_TARGET}x); "
        f"{report['seconds']} s; written to {RESULTS.relative_to(Path.cwd())}"
    )
    return report


if __name__ == "__main__":
    main()
    sys.exit(0)
