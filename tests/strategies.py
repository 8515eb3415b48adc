"""Hypothesis strategies several hostile-input tests share."""

from __future__ import annotations

from hypothesis import strategies as st

# Any JSON value, nested a few levels: what a body, a claim or a record may hold.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
