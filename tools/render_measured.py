"""Turn benchmarks/results/measured.json into the site's tables, sentences and charts.

Usage::

    python -m tools.render_measured [--data FILE] [--out DIR]

It writes Markdown fragments (``*.md.txt``) and SVG charts into ``docs/generated/``; the pages
include the fragments with pymdownx.snippets block includes, so MkDocs and Zensical both show
them without hooks or macros. Every number in a fragment is a value of the data file, formatted
by one of the ``fmt_*`` functions below, and nothing else: the renderer does no arithmetic.

Fragments are ``.md.txt`` rather than ``.md``: a ``.md`` file under ``docs/`` is a page to MkDocs,
and a page missing from ``nav`` fails the strict build.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "results" / "measured.json"
OUT = ROOT / "docs" / "generated"
SUFFIX = ".md.txt"
ALGORITHMS = ("HS256", "RS256", "ES256", "EdDSA")
CLAIM_SETS = ("minimal", "typical")
# The algorithm quoted where one stands for all: the one most identity providers sign with.
QUOTED_ALGORITHM = "RS256"
TIMES = "\N{MULTIPLICATION SIGN}"

# ----------------------------------------------------------------------------- formatting


def fmt_int(value: float) -> str:
    """A count or size: ``1,038``."""
    return f"{round(value):,}"


def fmt_us(value: float) -> str:
    """A time in microseconds, three significant figures: ``287``, ``66.2``, ``4.81``."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_ratio(value: float) -> str:
    """A ratio, two significant figures: ``12``, ``1.5``, ``0.42``."""
    if value >= 10:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.1f}"
    return f"{value:.2f}"


FORMATTERS: tuple[Callable[[float], str], ...] = (fmt_int, fmt_us, fmt_ratio)


def us(value: float) -> str:
    return f"{fmt_us(value)} µs"


def times(value: float) -> str:
    return f"{fmt_ratio(value)}{TIMES}"


def times3(value: float) -> str:
    """A ratio with three significant figures, for ratios compared with a target."""
    return f"{fmt_us(value)}{TIMES}"


def span(low: float, high: float) -> str:
    """The range of per-round ratios."""
    return f"{times3(low)} to {times3(high)}"


def nbytes(value: float) -> str:
    return f"{fmt_int(value)} bytes"


def table(header: Iterable[str], rows: Iterable[Iterable[str]], align: str = "") -> str:
    header = list(header)
    align = align or "l" + "r" * (len(header) - 1)
    marks = {"l": "---", "r": "--:", "c": ":-:"}
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(marks[a] for a in align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# ----------------------------------------------------------------------------- fragments


def machine_fragment(d: dict[str, Any]) -> str:
    m, v, h = d["machine"], d["versions"], d["harness"]
    return (
        f"Measured on {d['date']} with `{d['command']}` on {m['cpu_model']} "
        f"({fmt_int(m['cpu_count'])} cores, {m['platform']}), Python {v['python']}, "
        f"PyJWT {v['pyjwt']}, cryptography {v['cryptography']} ({v['openssl']}), "
        f"redis-py {v['redis']} against Redis {v['redis_server']} ({d['redis']}). "
        f"Costs were timed with pyperf {v['pyperf']}: {fmt_int(h['pyperf_processes'])} worker "
        f"processes per benchmark, {fmt_int(h['pyperf_values_per_process'])} values each after "
        f"a warm-up. The whole run took {fmt_int(d['wall_time_s'])} s"
        + (
            f"; the one-minute load average was {fmt_ratio(m['load_average_before'])} when it "
            f"started and {fmt_ratio(m['load_average_after'])} when it ended (a load above "
            "the number of cores means other work competed for them and inflated the times)"
            if "load_average_before" in m
            else ""
        )
        + ".\n"
    )


def sizes_fragment(d: dict[str, Any]) -> str:
    s = d["sizes"]
    rows = []
    for algorithm in ALGORITHMS:
        for claim_set in CLAIM_SETS:
            t = s["tokens"][algorithm][claim_set]
            rows.append(
                [
                    algorithm,
                    claim_set,
                    fmt_int(t["token_bytes"]),
                    fmt_int(t["header_bytes"]),
                    fmt_int(t["payload_bytes"]),
                    fmt_int(t["signature_bytes"]),
                ]
            )
    session = s["session"]
    return (
        table(["Algorithm", "Claims", "Token (bytes)", "Header", "Payload", "Signature"], rows)
        + "\n"
        + f"The session ID is {nbytes(session['session_id_bytes'])} whatever the session holds "
        f"(a session with a long shopping cart also got "
        f"{nbytes(session['session_id_bytes_with_large_data'])}); "
        f"its `Set-Cookie` header line is {nbytes(session['set_cookie_bytes'])}, sent once at "
        f"login. On the server, the first session of a user wrote "
        f"{fmt_int(session['redis_keys_first_session'])} Redis keys (the record and the "
        f"user's index), each further one {fmt_int(session['redis_keys_each_further_session'])};"
        f" the record takes {nbytes(session['redis_memory_bytes'])} of Redis memory.\n\n"
        "![Token sizes per algorithm and claim set, beside the session ID; the shaded band is "
        "the range usually quoted for a JWT](generated/measured-sizes.svg)\n"
    )


def seed_fragment(d: dict[str, Any]) -> str:
    seed, s = d["seed"], d["sizes"]
    low, high = seed["jwt_bytes"]["low"], seed["jwt_bytes"]["high"]
    lines = [
        f"The usual figures, as comparison pages quote them, say a JWT takes "
        f"{fmt_int(low)} to {nbytes(high)} and a session ID "
        f"{fmt_int(seed['session_id_bytes']['low'])} to "
        f"{nbytes(seed['session_id_bytes']['high'])}.",
        "",
    ]
    for claim_set in CLAIM_SETS:
        verdicts: dict[str, list[str]] = {"within": [], "above": [], "below": []}
        for algorithm in ALGORITHMS:
            size = s["tokens"][algorithm][claim_set]["token_bytes"]
            verdict = "below" if size < low else "above" if size > high else "within"
            verdicts[verdict].append(f"{algorithm} ({nbytes(size)})")
        parts = []
        if verdicts["within"]:
            parts.append(f"**agrees** for {_join(verdicts['within'])}")
        if verdicts["above"]:
            parts.append(
                f"**disagrees** for {_join(verdicts['above'])}, which "
                f"{'is' if len(verdicts['above']) == 1 else 'are'} larger"
            )
        if verdicts["below"]:
            parts.append(
                f"**disagrees** for {_join(verdicts['below'])}, which "
                f"{'is' if len(verdicts['below']) == 1 else 'are'} smaller"
            )
        fields = len(s["claim_sets"][claim_set])
        lines.append(
            f"- With the {claim_set} claim set ({fmt_int(fields)} claims), the usual "
            f"range {'; it '.join(parts)}."
        )
    session_id = s["session"]["session_id_bytes"]
    sid = seed["session_id_bytes"]
    inside = sid["low"] <= session_id <= sid["high"]
    lines.append(
        f"- The session ID is {nbytes(session_id)}: the usual range "
        + ("**agrees**." if inside else "**disagrees**.")
        + f" The whole `Cookie` header line that carries it is "
        f"{nbytes(s['session']['request_header_bytes'])}."
    )
    return "\n".join(lines) + "\n"


def request_bytes_fragment(d: dict[str, Any]) -> str:
    s = d["sizes"]
    cookie = s["session"]["request_header_bytes"]
    rows = []
    for algorithm in ALGORITHMS:
        for claim_set in CLAIM_SETS:
            t = s["tokens"][algorithm][claim_set]
            rows.append(
                [
                    f"`Authorization: Bearer` ({algorithm}, {claim_set})",
                    fmt_int(t["request_header_bytes"]),
                    times(s["header_ratio_to_cookie"][algorithm][claim_set]),
                ]
            )
    rows.append(["`Cookie: __Host-session=`", fmt_int(cookie), times(1)])
    return table(["Header line, on every request", "Bytes", f"{TIMES} the cookie"], rows)


def _cost_rows(c: dict[str, Any], names: list[tuple[str, str]]) -> list[list[str]]:
    return [
        [
            label,
            fmt_us(c[n]["median_us"]),
            fmt_us(c[n]["stdev_us"]),
            times(c[n]["ratio_to_session_validate"]),
            times(c[n]["ratio_to_verify_HS256"]),
        ]
        for n, label in names
    ]


COST_LABELS: list[tuple[str, str]] = [
    *((f"verify_{a}", f"Verify an {a} token") for a in ALGORITHMS),
    *(
        (f"verify_and_check_{a}", f"Verify {a}, then blocklist and cut-off check")
        for a in ALGORITHMS
    ),
    ("blocklist_check", "Blocklist check alone (`EXISTS`)"),
    ("blocklist_and_cutoff_check", "Blocklist and cut-off check (`MGET`)"),
    ("session_validate", "Validate a session (one plain read)"),
    *((f"issue_{a}", f"Issue an {a} token") for a in ALGORITHMS),
    ("session_create", "Create a session"),
]


def costs_fragment(d: dict[str, Any]) -> str:
    c = d["costs"]
    header = [
        "Operation",
        "Median (µs)",
        "Std dev (µs)",
        f"{TIMES} session validation",
        f"{TIMES} HS256 verification",
    ]
    return (
        table(header, _cost_rows(c, COST_LABELS))
        + f"\nMeasured on {d['machine']['cpu_model']} with a Redis server on the same machine. "
        "The times depend on the hardware (and, for Redis, on the network: a real deployment "
        "adds a network round trip to every Redis call); the ratios, measured side by side in "
        "one run, carry over better.\n\n"
        "![Median cost per operation](generated/measured-costs.svg)\n"
    )


def round_trips_fragment(d: dict[str, Any]) -> str:
    r = d["round_trips"]
    labels = [
        ("jwt", "JWT, verified with the key only"),
        ("jwt_blocklist", "JWT, then the blocklist"),
        ("jwt_blocklist_cutoff", "JWT, then the blocklist and the user's cut-off"),
        ("session", "Session cookie, validated in the store"),
    ]
    return table(
        ["Request authenticated by", "Redis round trips per request"],
        [[label, fmt_int(r[key])] for key, label in labels],
    )


def scaling_costs_fragment(d: dict[str, Any]) -> str:
    c = d["costs"]
    labels = [
        ("session_validate", "Validate a session (one plain read)"),
        ("blocklist_and_cutoff_check", "Blocklist and cut-off check (`MGET`)"),
    ]
    rows = [
        [
            label,
            fmt_us(c[name]["median_us"]),
            fmt_us(c[f"{name}_cluster"]["median_us"]),
            times(c[f"{name}_cluster"]["ratio_to_one_server"]),
        ]
        for name, label in labels
    ]
    return (
        table(["Check", "One server (µs)", "Cluster (µs)", f"Cluster {TIMES} one server"], rows)
        + f"\nBoth on this machine, timed side by side in one run of `{d['command']}`: "
        f"the cluster is a {d['cluster']}. Every check is still one round trip; the cluster "
        "client adds its own work per call (finding the key's slot and node).\n"
    )


STORE_OPERATIONS = [
    ("validate", "Validate (every request)"),
    ("create", "Create (login)"),
    ("destroy", "Destroy (logout)"),
    ("rotate", "Rotate the ID (login, privilege change)"),
    ("destroy_all_3", "Log out everywhere, a user with three sessions"),
]


def store_round_trips_fragment(d: dict[str, Any]) -> str:
    r = d["store_round_trips"]
    rows = [
        [label, fmt_int(r["single"][key]), fmt_int(r["cluster"][key])]
        for key, label in STORE_OPERATIONS
    ]
    return (
        table(["Session store operation", "Round trips, one server", "Round trips, cluster"], rows)
        + "\nCounted by `benchmarks/measure.py` with a connection that counts every request it "
        "sends (a pipeline or a script call counts once). On a cluster, logging out everywhere "
        "sends one request to each node that holds one of the user's sessions, so its count "
        "depends on where the sessions landed.\n"
    )


def throughput_fragment(d: dict[str, Any]) -> str:
    t = d["throughput"]
    counts = d["harness"]["throughput_processes"]
    header = [
        "Algorithm",
        *(f"{fmt_int(n)} process{'es' if n > 1 else ''} (tokens/s)" for n in counts),
        *(f"speed-up at {fmt_int(n)}" for n in counts[1:]),
    ]
    rows = []
    for algorithm in ALGORITHMS:
        per = t["algorithms"][algorithm]
        rows.append(
            [
                algorithm,
                *(fmt_int(per[str(n)]["tokens_per_s"]) for n in counts),
                *(times(per[str(n)]["speedup"]) for n in counts[1:]),
            ]
        )
    return (
        table(header, rows)
        + f"\nEach cell verified {fmt_int(t['tokens_per_round'])} tokens split evenly between "
        f"the processes; the best of {fmt_int(t['rounds'])} rounds is shown. This machine "
        f"has {fmt_int(d['machine']['cpu_count'])} cores.\n\n"
        "![Verification throughput by number of processes](generated/measured-throughput.svg)\n"
    )


HTTP_ENDPOINTS = (
    ("open", "No authentication"),
    ("jwt-HS256", "Bearer JWT, HS256"),
    ("jwt-RS256", "Bearer JWT, RS256"),
    ("jwt-ES256", "Bearer JWT, ES256"),
    ("jwt-EdDSA", "Bearer JWT, EdDSA"),
    ("jwt-check", "EdDSA JWT, then blocklist and cut-off"),
    ("session", "Session cookie"),
)
HTTP_VARIANTS = (
    ("uvicorn_defaults", "uvicorn's defaults (asyncio loop, h11 parser)"),
    ("base_http_middleware", "the headers middleware as `@app.middleware`"),
)


def http_fragment(d: dict[str, Any]) -> str:
    h = d["http"]
    e, r = h["endpoints"], h["ratios"]
    # short headers: the table fits the page at 1280 px, so it never scrolls sideways
    header = [
        "Endpoint",
        "async def: req/s",
        "median",
        "cost",
        "def: req/s",
        "median",
        "cost",
        "async ÷ def",
    ]
    rows = []
    for key, name in HTTP_ENDPOINTS:
        cells = [name]
        for mode in ("async", "sync"):
            cost = "the base" if key == "open" else times(r[f"{mode}_over_open"][key])
            cells += [
                fmt_int(e[mode][key]["requests_per_s"]),
                f"{fmt_us(e[mode][key]['median_ms'])} ms",
                cost,
            ]
        cells.append(times(r["async_speed_over_sync"][key]))
        rows.append(cells)
    names = dict(HTTP_ENDPOINTS)
    shown = list(h["variant_endpoints"][HTTP_VARIANTS[0][0]])
    variant_rows = [
        [label, *(times(r[f"{key}_over_server"][endpoint]) for endpoint in shown)]
        for key, label in HTTP_VARIANTS
    ]
    a, s_ = r["async_session_over"], r["sync_session_over"]
    spread = r["async_mechanism_range"]
    config = r["uvicorn_defaults_over_server"]["open"]
    middleware = r["base_http_middleware_over_server"]["open"]
    server_effect = max(config, middleware)
    verdict = (
        "more than"
        if server_effect > spread["dearest_over_cheapest"]
        else "less than"
        if server_effect < spread["dearest_over_cheapest"]
        else "as much as"
    )
    return (
        table(header, rows)
        + f"\nServer: {h['server']}. Load: {h['load']}, {fmt_int(h['duration_s'])} s per "
        f"endpoint per round, the median of the rounds ({fmt_int(h['rounds'])}). Cost per "
        "request is the unauthenticated endpoint's rate divided by this one's. With `async def` "
        f"endpoints a session costs {times(a['jwt-EdDSA'])} an EdDSA JWT and "
        f"{times(a['jwt-check'])} one with the revocation check; with `def` endpoints "
        f"{times(s_['jwt-EdDSA'])} and {times(s_['jwt-check'])}.\n\n"
        "The same `async def` endpoints on two other servers, measured in the same rounds, "
        "as a cost per request over the server `make app` runs:\n\n"
        + table(["Server", *(names[endpoint] for endpoint in shown)], variant_rows)
        + f"\nWith `async def` endpoints the mechanisms cost from "
        f"{times(spread['cheapest_over_open'])} to {times(spread['dearest_over_open'])} no "
        f"authentication, so choosing one over another moves the cost per request by up to "
        f"{times(spread['dearest_over_cheapest'])}. On the unauthenticated endpoint, uvicorn's "
        f"pure-Python defaults cost {times(config)} and the headers middleware written as "
        f"`@app.middleware` {times(middleware)}: how the app is served (the loop and the "
        f"parser, or the middleware's style) moved the result "
        f"{verdict} the choice of mechanism did, in this run.\n"
    )


def session_read_fragment(d: dict[str, Any]) -> str:
    s = d["session_read"]
    rows = [
        [
            "`RedisSessionStore.validate`: one `GET`",
            us(s["validate_median_us"]),
            "the base",
            "the base",
        ],
        [
            "A bare `GETEX` of the same bytes",
            us(s["getex_median_us"]),
            times3(s["ratio_median"]),
            span(s["ratio_min"], s["ratio_max"]),
        ],
        [
            "A bare `HMGET` of the same five fields",
            us(s["hmget_median_us"]),
            times3(s["ratio_to_hmget_median"]),
            span(s["ratio_to_hmget_min"], s["ratio_to_hmget_max"]),
        ],
    ]
    return (
        table(["Call", "median", "validate ÷ this", "per round"], rows)
        + f"\n{fmt_int(s['rounds'])} interleaved rounds of {fmt_int(s['ops_per_round'])} calls "
        "each, the order rotating from round to round; the last column is the range of the "
        "per-round ratios. Redis ran "
        f"{fmt_us(s['writes_per_1000_validations'])} writes per "
        f"{fmt_int(s['per_validations'])} validations during the timed rounds, and "
        f"{fmt_us(s['writes_per_1000_validations_in_continuous_use'])} per "
        f"{fmt_int(s['per_validations'])} for one session validated "
        f"{fmt_int(s['validations_per_minute'])} times a minute for "
        f"{fmt_int(s['continuous_minutes'])} minutes of the store's clock: validation writes "
        f"the idle deadline only once it has moved by more than "
        f"{fmt_int(s['idle_granularity_s'])} s.\n"
    )


def page_weight_fragment(d: dict[str, Any]) -> str:
    w = d["pages"]

    def row(name: str, r: dict[str, float]) -> list[str]:
        return [
            name,
            fmt_us(r["html_kib"]),
            fmt_us(r["assets_kib"]),
            fmt_us(r["search_kib"]),
            fmt_us(r["total_kib"]),
        ]

    rows = [row(f"`{page}`", r) for page, r in w["pages"].items()]
    rows.append(row("A default Material for MkDocs page", w["default_material_page"]))
    header = ["Page", "HTML, KiB", "styles, scripts, images", "search", "first visit"]
    return (
        table(header, rows)
        + f"\nEvery file compressed with gzip at level {fmt_int(w['gzip_level'])}, as a static "
        "host serves it; a file is counted once per page. The search column is Material's "
        "search worker and the index it loads on every first visit, the same for every page "
        f"of a site. The heaviest page, `{w['heaviest']}`, downloads "
        f"{times(w['heaviest_over_default'])} what the default page does.\n"
    )


def verify_floor_fragment(d: dict[str, Any]) -> str:
    v = d["verify_floor"]
    rows = [
        [
            algorithm,
            us(r["verify_token_us"]),
            us(r["floor_us"]),
            times3(r["ratio_to_floor"]),
            span(r["ratio_to_floor_min"], r["ratio_to_floor_max"]),
            us(r["jwt_decode_us"]),
            times3(r["median_paired_ratio"]),
        ]
        for algorithm, r in v["results"].items()
    ]
    header = [
        "Algorithm",
        "`verify_token`",
        "floor",
        "÷ floor",
        "per round",
        "`jwt.decode`",
        "÷ decode",
    ]
    return (
        table(header, rows)
        + f"\n{fmt_int(v['rounds'])} interleaved rounds of {fmt_int(v['calls_per_batch'])} "
        "calls of each verifier, the order rotating from round to round; the ratios are "
        "medians of the per-round ratios. The floor is the raw `cryptography` verify of the "
        "same signature over the same signing input with the same key object: no verifier "
        "can cost less. For HS256 that floor is one HMAC, so parsing and checking the claims "
        "are most of the cost however lean they are.\n"
    )


def comparison_table_fragment(d: dict[str, Any]) -> str:
    s, r, c = d["sizes"], d["round_trips"], d["costs"]
    tp = d["throughput"]["algorithms"][QUOTED_ALGORITHM]
    counts = d["harness"]["throughput_processes"]
    typical = s["tokens"][QUOTED_ALGORITHM]["typical"]
    session = s["session"]
    ext = s["extremes"]
    check = c["blocklist_and_cutoff_check"]
    measured = {
        "server_state": (
            f"Redis round trips per request: JWT {fmt_int(r['jwt'])}, session "
            f"{fmt_int(r['session'])}. A session record: {nbytes(session['redis_memory_bytes'])}"
            " of Redis memory."
        ),
        "invalidation": (
            f"A blocklist check adds {us(c['blocklist_check']['median_us'])} and "
            f"{fmt_int(r['jwt_blocklist'])} round trip per request."
        ),
        "scalability": (
            f"{QUOTED_ALGORITHM} verification: {fmt_int(tp[str(counts[0])]['tokens_per_s'])}"
            f" tokens/s in {fmt_int(counts[0])} process, "
            f"{fmt_int(tp[str(counts[1])]['tokens_per_s'])} in {fmt_int(counts[1])}."
        ),
        "payload_size": (
            f"`Authorization` header: {fmt_int(ext['smallest_request_header_bytes'])} to "
            f"{nbytes(ext['largest_request_header_bytes'])}; `Cookie` header: "
            f"{nbytes(session['request_header_bytes'])}."
        ),
        "cross_domain": (
            f"Another service verifies {QUOTED_ALGORITHM} with the public key alone: "
            f"{us(c['verify_' + QUOTED_ALGORITHM]['median_us'])}, {fmt_int(r['jwt'])} round "
            "trips."
        ),
        "revocation": (
            f"Blocklist and cut-off check: {us(check['median_us'])} "
            f"({times(check['ratio_to_session_validate'])} a session validation), "
            f"{fmt_int(r['jwt_blocklist_cutoff'])} round trip."
        ),
        "payload_visibility": (
            f"Typical {QUOTED_ALGORITHM} token: {nbytes(typical['readable_claims_bytes'])} of "
            "claims readable without a key; session cookie: "
            f"{nbytes(session['readable_claims_bytes'])}."
        ),
    }
    rows = [
        (
            "Server state",
            "server_state",
            "Nothing is stored per token; the signature is the proof.",
            "A record per session lives in a shared store such as Redis.",
            "[When to use JWT](when-to-use-jwt.md), "
            "[When to use sessions](when-to-use-sessions.md)",
        ),
        (
            "Invalidation",
            "invalidation",
            "Stays valid until `exp`, unless a blocklist is checked.",
            "Gone the moment its record is deleted.",
            "[Logout and revocation](logout-and-revocation.md)",
        ),
        (
            "Scalability",
            "scalability",
            "Any process with the key verifies it; nothing to share.",
            "Every process must reach the same store.",
            "[Scaling out](scaling-out.md)",
        ),
        (
            "Payload size",
            "payload_size",
            "The claims travel with every request.",
            "Only a short opaque ID travels; the data stays on the server.",
            "[Measured](measured.md)",
        ),
        (
            "Cross-domain",
            "cross_domain",
            "A bearer header goes to any host; from a browser on another origin it still "
            "needs CORS, with a preflight.",
            "A cookie goes to its own host (`__Host-`) or its `Domain`; `SameSite` only decides"
            " whether cross-site requests carry it. Other origins need CORS with credentials.",
            "[Converting](converting.md)",
        ),
        (
            "Revocation",
            "revocation",
            "Needs a distributed blocklist, a per-user cut-off or short lifetimes.",
            "Delete the record; logging out everywhere deletes them all.",
            "[Logout and revocation](logout-and-revocation.md)",
        ),
        (
            "Payload visibility",
            "payload_visibility",
            "Signed, not encrypted: anyone holding it can read the claims.",
            "The ID says nothing; the data never leaves the server.",
            "[Security pitfalls](security-pitfalls.md)",
        ),
    ]
    body = [
        [
            aspect,
            jwt_text,
            session_text,
            measured[key],
            f"{proof}, [test](measured.md#claim-{key.replace('_', '-')})",
        ]
        for aspect, key, jwt_text, session_text, proof in rows
    ]
    return table(
        ["Aspect", "JWT", "Server-side session", "Measured here", "Proof"], body, align="lllll"
    )


def decision_table_fragment(d: dict[str, Any]) -> str:
    """The home page's first screen: a default per case, its reason, cost and proof."""
    c, r = d["costs"], d["round_trips"]
    session = us(c["session_validate"]["median_us"])
    es256 = us(c["verify_ES256"]["median_us"])
    mint = us(c["issue_ES256"]["median_us"])
    rows = [
        [
            "A browser app and its own server, one site",
            "**Server-side session** in a `__Host-` cookie",
            "Logout is immediate; scripts (and XSS) cannot read the cookie",
            f"{session}, {fmt_int(r['session'])} Redis round trip",
            "[Sessions](when-to-use-sessions.md)",
        ],
        [
            "An SPA on another subdomain, or sign-in at an IdP",
            "**BFF**: a session cookie; tokens stay on the server",
            "No token within reach of the page's scripts",
            f"{session} per request; one code exchange per login",
            "[BFF](converting.md#id-token-to-session-backend-for-frontend)",
        ],
        [
            "Service to service, third-party APIs",
            "**Short-lived JWT** (minutes), one audience, ES256 or EdDSA",
            "No shared store to reach; each service verifies alone",
            f"{es256} to verify, {fmt_int(r['jwt'])} round trips",
            "[JWT](when-to-use-jwt.md)",
        ],
        [
            "Mobile and native clients",
            "**Opaque token** checked at a gateway, rotating refresh token",
            "Revoked by one delete; reveals nothing if copied off the device",
            f"1 Redis lookup, then cached; {mint} to mint the inner JWT",
            "[Phantom token](converting.md#phantom-token)",
        ],
        [
            "Both: browsers outside, services inside",
            "**Session at the edge, JWTs inside**",
            "Logout at the edge; no store behind it",
            f"{session} + {mint} per token minted",
            "[Session to JWT](converting.md#session-to-jwt-token-exchange)",
        ],
    ]
    return table(
        ["If you are building", "Start with", "Because", "Costs here", "Proof"],
        rows,
        align="lllll",
    )


FRAGMENTS: dict[str, Callable[[dict[str, Any]], str]] = {
    "decision-table": decision_table_fragment,
    "comparison-table": comparison_table_fragment,
    "measured-machine": machine_fragment,
    "measured-sizes": sizes_fragment,
    "measured-seed": seed_fragment,
    "measured-request-bytes": request_bytes_fragment,
    "measured-costs": costs_fragment,
    "measured-round-trips": round_trips_fragment,
    "measured-throughput": throughput_fragment,
    "measured-http": http_fragment,
    "measured-session-read": session_read_fragment,
    "measured-verify-floor": verify_floor_fragment,
    "measured-page-weight": page_weight_fragment,
    "scaling-costs": scaling_costs_fragment,
    "session-store-round-trips": store_round_trips_fragment,
}

# ----------------------------------------------------------------------------- charts

GREY = "#8c8c8c"  # reads on Material's white and on its slate background
COLOURS = ("#5c6bc0", "#ef8f00", "#26a69a")  # indigo, orange, teal: mid tones, both themes


def _figure(height: float) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.hashsalt": "measured",  # stable element IDs: the same data gives the same file
            "svg.fonttype": "none",  # text stays text: small files, the page's font
            "font.family": ["DejaVu Sans", "sans-serif"],
            "font.size": 9,
            "text.color": GREY,
            "axes.labelcolor": GREY,
            "axes.edgecolor": GREY,
            "xtick.color": GREY,
            "ytick.color": GREY,
            "axes.facecolor": "none",
            "figure.facecolor": "none",
            "savefig.transparent": True,
            "legend.frameon": False,
            "legend.labelcolor": GREY,
        }
    )
    fig, ax = plt.subplots(figsize=(7, height))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def _svg(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


def sizes_chart(d: dict[str, Any]) -> str:
    s = d["sizes"]
    fig, ax = _figure(3.2)
    labels = list(ALGORITHMS)
    ys = range(len(labels))
    for i, claim_set in enumerate(CLAIM_SETS):
        values = [s["tokens"][a][claim_set]["token_bytes"] for a in labels]
        bars = ax.barh(
            [y + (i - 0.5) * 0.38 for y in ys],
            values,
            height=0.36,
            color=COLOURS[i],
            label=f"JWT, {claim_set} claims",
        )
        ax.bar_label(bars, labels=[fmt_int(v) for v in values], padding=2, color=GREY, fontsize=8)
    sid = s["session"]["session_id_bytes"]
    bars = ax.barh([len(labels)], [sid], height=0.36, color=COLOURS[2], label="session ID")
    ax.bar_label(bars, labels=[fmt_int(sid)], padding=2, color=GREY, fontsize=8)
    seed = d["seed"]["jwt_bytes"]
    ax.axvspan(seed["low"], seed["high"], color=GREY, alpha=0.15, lw=0, label="usual JWT range")
    ax.set_yticks([*ys, len(labels)], [*labels, "session"])
    ax.invert_yaxis()
    ax.set_xlabel("bytes")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _svg(fig)


def costs_chart(d: dict[str, Any]) -> str:
    c = d["costs"]
    names = [(n, label) for n, label in COST_LABELS]
    fig, ax = _figure(0.28 * len(names) + 0.8)
    colour = [
        COLOURS[2] if n.startswith("session") else COLOURS[1] if "check" in n else COLOURS[0]
        for n, _ in names
    ]
    bars = ax.barh(
        range(len(names)), [c[n]["median_us"] for n, _ in names], color=colour, height=0.7
    )
    ax.bar_label(
        bars,
        labels=[fmt_us(c[n]["median_us"]) for n, _ in names],
        padding=2,
        color=GREY,
        fontsize=8,
    )
    ax.set_yticks(range(len(names)), [label.replace("`", "") for _, label in names])
    ax.invert_yaxis()
    ax.set_xlabel("median time per call (µs)")
    return _svg(fig)


def throughput_chart(d: dict[str, Any]) -> str:
    t = d["throughput"]["algorithms"]
    counts = d["harness"]["throughput_processes"]
    fig, ax = _figure(2.8)
    width = 0.8 / len(counts)
    for i, n in enumerate(counts):
        xs = [x + (i - (len(counts) - 1) / 2) * width for x in range(len(ALGORITHMS))]
        bars = ax.bar(
            xs,
            [t[a][str(n)]["tokens_per_s"] for a in ALGORITHMS],
            width=width,
            color=COLOURS[i % len(COLOURS)],
            label=f"{n} process{'es' if n > 1 else ''}",
        )
        ax.bar_label(
            bars,
            labels=[fmt_int(t[a][str(n)]["tokens_per_s"]) for a in ALGORITHMS],
            padding=2,
            color=GREY,
            fontsize=7,
        )
    ax.set_xticks(range(len(ALGORITHMS)), ALGORITHMS)
    ax.set_ylabel("tokens verified per second")
    ax.legend(loc="upper right")
    return _svg(fig)


CHARTS: dict[str, Callable[[dict[str, Any]], str]] = {
    "measured-sizes": sizes_chart,
    "measured-costs": costs_chart,
    "measured-throughput": throughput_chart,
}

# ----------------------------------------------------------------------------- main


def render(data: dict[str, Any], out: Path) -> list[Path]:
    """Write every fragment and chart for ``data`` into ``out``; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fragment in FRAGMENTS.items():
        path = out / f"{name}{SUFFIX}"
        path.write_text(fragment(data))
        written.append(path)
    for name, chart in CHARTS.items():
        path = out / f"{name}.svg"
        path.write_text(chart(data))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    for path in render(json.loads(args.data.read_text()), args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
