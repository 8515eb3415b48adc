"""Hypothesis strategies several hostile-input tests share."""

from __future__ import annotations

import json

from hypothesis import strategies as st

# Any JSON value, nested a few levels: what a body, a claim or a record may hold.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)

# A request header value from anywhere: Latin-1 text, and values shaped like ours.
HOSTILE_HEADER = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=120),
    st.sampled_from(
        [
            "",
            "Bearer",
            "Bearer " + "A" * 43,
            "Bearer eyJhbGciOiJub25lIn0.e30.",
            "__Host-session=" + "A" * 43,
            "__Host-session=x; __Host-session=y",
            "__Host-oidc-state=" + "A" * 43,
            "null",
            "https://evil.example",
            "same-origin",
            "cross-site",
            "http://testserver",
        ]
    ),
)
# A request body: none, bytes, JSON, a form, deep nesting.
HOSTILE_BODIES = st.one_of(
    st.none(),
    st.binary(max_size=300),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(
        st.sampled_from(["username", "password", "state", "id_token", "token", "audience"]),
        st.text(max_size=60),
        max_size=5,
    ).map(lambda d: "&".join(f"{k}={v}" for k, v in d.items()).encode("utf-8", "surrogatepass")),
    st.just(b"[" * 5000),
    st.just(b"a=1&" * 50),
)
HOSTILE_CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data",
        "",
        "application/json; charset=latin-1",
    ]
)
