"""Refuse cross-site forgeries of cookie-authenticated requests that change state.

The browser attaches the session cookie to requests other sites trigger, so a ``POST``
carrying a valid cookie does not prove the user meant it. Two checks, each enough on its
own, both cheap:

1. Fetch metadata and ``Origin``: browsers say where a request comes from; refuse unsafe
   methods unless it is this very origin.
2. A synchronizer token: a random value kept in the session on the server and echoed by
the
   page in a form field or header; a forger's page cannot read it.

Run it against a Redis server of your choice::

    REDIS_URL=redis://127.0.0.1:6379/0 python -m snippets.sessions.csrf_check
"""

from __future__ import annotations

# --8<-- [start:setup]
import os
import secrets

from snippets.sessions.session_store import RedisSessionStore, Session, connect

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf"  # the key of the token in the session's data
# --8<-- [end:setup]


# --8<-- [start:origin]
def request_origin_allowed(
    method: str, *, sec_fetch_site: str | None, origin: str | None, own_origin: str
) -> bool:
    """Decide whether a request may act on the user's session, judging by where it came
    from.

    Args:
        method: The HTTP method.
        sec_fetch_site: The ``Sec-Fetch-Site`` request header, if any.
        origin: The ``Origin`` request header, if any.
        own_origin: This site's origin, for example ``"https://app.example.com"``.

    Returns:
        True for safe methods (which must not change state) and for unsafe ones sent by
        this origin; False for cross-site or same-site-but-other-origin requests and for
        unsafe requests that say nothing about their origin.
    """
    if method.upper() in SAFE_METHODS:
        return True
    if sec_fetch_site is not None:  # every current browser sends it
        return sec_fetch_site == "same-origin"
    if origin is not None:
        return origin == own_origin
    return False  # no evidence either way: refuse


# --8<-- [end:origin]


# --8<-- [start:token]
def new_csrf_token() -> str:
    """Return a fresh synchronizer token; keep it in the session's data under
    ``"csrf"``."""
    return secrets.token_urlsafe(32)


def csrf_token_valid(session: Session, submitted: object) -> bool:
    """Check the token a form or ``X-CSRF-Token`` header sent against the session's own.

    Args:
        session: The session the request's cookie validated to.
        submitted: The untrusted token from the request.

    Returns:
        True only if the session holds a token and ``submitted`` equals it.
    """
    expected = session.data.get(CSRF_FIELD)
    if not isinstance(expected, str) or not isinstance(submitted, str):
        return False
    # constant time
    return secrets.compare_digest(expected.encode(), submitted.encode())


# --8<-- [end:token]


def main() -> None:
    # --8<-- [start:demo]
    store = RedisSessionStore(
        connect(os.environ["REDIS_URL"]),
        prefix=os.environ.get("REDIS_KEY_PREFIX", "app:"),
    )
    own = "https://app.example.com"
    print(
        request_origin_allowed(
            "POST", sec_fetch_site="same-origin", origin=own, own_origin=own
        )
    )
    #> True
    print(
        request_origin_allowed(
            "POST", sec_fetch_site="cross-site", origin=None, own_origin=own
        )
    )
    #> False
    print(
        request_origin_allowed("POST", sec_fetch_site=None, origin=None, own_origin=own)
    )
    #> False

    alice = store.validate(store.create("alice", {CSRF_FIELD: new_csrf_token()}))
    mallory = store.validate(store.create("mallory", {CSRF_FIELD: new_csrf_token()}))
    assert alice is not None and mallory is not None  # both were just created
    print(csrf_token_valid(alice, alice.data[CSRF_FIELD]))
    #> True
    print(csrf_token_valid(alice, mallory.data[CSRF_FIELD]))  # another session's token
    #> False
    # --8<-- [end:demo]
    store.destroy_all("alice")
    store.destroy_all("mallory")


if __name__ == "__main__":
    main()
