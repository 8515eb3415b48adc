from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snippets.sessions.session_cookie import (
    COOKIE_NAME,
    MAX_COOKIE_HEADER,
    build_session_cookie,
    clear_session_cookie,
    read_session_cookie,
)
from snippets.sessions.session_store import RedisSessionStore

# Fixed, so that test IDs are the same in every xdist worker; the shape is what matters.
SID = "Mo-yePsJapwZY8ays1HN5qDYYyeosWgZ9d724gdxmes"


def _attributes(set_cookie: str) -> dict[str, str]:
    parts = [p.strip() for p in set_cookie.split(";")]
    return {k.lower(): v for k, _, v in (p.partition("=") for p in parts[1:])}


@pytest.mark.parametrize("same_site", ["Lax", "Strict"])
def test_cookie_meets_the_host_prefix_rules(same_site: str) -> None:
    header = build_session_cookie(SID, same_site=same_site)
    assert header.startswith(f"{COOKIE_NAME}={SID};")
    attrs = _attributes(header)
    assert COOKIE_NAME.startswith("__Host-")
    assert attrs["path"] == "/"
    assert "secure" in attrs and "httponly" in attrs
    assert attrs["samesite"] == same_site
    assert "domain" not in attrs
    assert "max-age" not in attrs and "expires" not in attrs


def test_a_remembered_cookie_keeps_the_prefix_rules_and_gets_a_max_age() -> None:
    attrs = _attributes(build_session_cookie(SID, max_age=30 * 86400))
    assert attrs["max-age"] == "2592000" and "expires" not in attrs
    assert attrs["path"] == "/" and "secure" in attrs and "domain" not in attrs
    for bad in [0, -1, 1.5, True, "60"]:
        with pytest.raises(ValueError, match="max_age"):
            build_session_cookie(SID, max_age=bad)  # type: ignore[arg-type]


def test_a_browser_style_parser_reads_the_value_back() -> None:
    jar = SimpleCookie()
    jar.load(build_session_cookie(SID))
    assert jar[COOKIE_NAME].value == SID


@pytest.mark.parametrize(
    "bad",
    ["", "short", SID + "x", SID[:-1] + ";", "a b" * 15],
    ids=["empty", "short", "one-too-long", "semicolon", "spaces"],  # SID is random
)
def test_refuses_to_build_a_cookie_from_a_non_id(bad: str) -> None:
    with pytest.raises(ValueError, match="not a session ID"):
        build_session_cookie(bad)


def test_clearing_cookie_expires_the_same_cookie() -> None:
    header = clear_session_cookie()
    assert header.startswith(f"{COOKIE_NAME}=;")
    attrs = _attributes(header)
    assert attrs["max-age"] == "0"
    assert attrs["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert attrs["path"] == "/" and "secure" in attrs and "domain" not in attrs


@pytest.mark.parametrize(
    "header",
    [
        f"{COOKIE_NAME}={SID}",
        f"theme=dark; {COOKIE_NAME}={SID}; lang=en",
        f"theme=dark;{COOKIE_NAME}={SID}",
        f"broken cookie; x=\x00; {COOKIE_NAME}={SID}",  # SimpleCookie would drop it here
    ],
)
def test_reads_the_id_from_a_cookie_header(header: str) -> None:
    assert read_session_cookie(header) == SID


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "theme=dark",
        f"{COOKIE_NAME}=",
        f"{COOKIE_NAME}={SID[:-1]}",
        f"{COOKIE_NAME}={SID}x",
        f'{COOKIE_NAME}="{SID}"',
        f"{COOKIE_NAME}={SID}; {COOKIE_NAME}={SID[::-1]}",  # ambiguous
        f"__host-session={SID}",  # the prefix is case-sensitive for us
        f"session={SID}",
        f"x={'a' * MAX_COOKIE_HEADER}; {COOKIE_NAME}={SID}",  # oversized header
    ],
    ids=lambda v: repr(v)[:30],
)
def test_missing_malformed_or_oversized_is_none(header: str | None) -> None:
    assert read_session_cookie(header) is None


@given(st.text(max_size=300))
def test_never_raises_and_returns_only_well_formed_ids(header: str) -> None:
    found = read_session_cookie(header)
    assert found is None or (len(found) == 43 and found in header)


def test_bad_cookie_never_reaches_redis(counting_redis, key_prefix: str) -> None:
    client, round_trips = counting_redis
    store = RedisSessionStore(client, prefix=key_prefix)
    sid = store.create("alice")
    store.validate(sid)  # loads the validation script if this server lacks it
    round_trips.count = 0
    assert store.validate(read_session_cookie(f"{COOKIE_NAME}={sid}=")) is None
    assert store.validate(read_session_cookie("x" * 100_000)) is None
    assert round_trips.count == 0
    assert store.validate(read_session_cookie(f"{COOKIE_NAME}={sid}")).user_id == "alice"
    assert round_trips.count == 1
