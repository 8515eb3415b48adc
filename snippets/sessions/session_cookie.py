"""The session cookie: build it, clear it, and read it back from a ``Cookie`` header.

The ``__Host-`` prefix makes the browser refuse the cookie unless it is ``Secure``, has
``Path=/`` and no ``Domain``: a sibling subdomain cannot plant or overwrite it.
``HttpOnly`` keeps it away from page scripts, and ``SameSite`` keeps it off most
cross-site requests.

Run it without any server::

    python -m snippets.sessions.session_cookie
"""

from __future__ import annotations

# --8<-- [start:setup]
import re
import secrets
from http.cookies import Morsel
from typing import Literal

COOKIE_NAME = "__Host-session"
MAX_COOKIE_HEADER = 8192  # bytes a Cookie header may take before we stop reading it
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
# --8<-- [end:setup]


# --8<-- [start:build]
def build_session_cookie(
    session_id: str,
    *,
    same_site: Literal["Lax", "Strict"] = "Lax",
    max_age: int | None = None,
) -> str:
    """Return the ``Set-Cookie`` header value that hands the session ID to the browser.

    Args:
        session_id: A fresh ID from the session store.
        same_site: ``"Lax"`` keeps the user logged in when they follow a link from
            another site; ``"Strict"`` does not send the cookie on any cross-site
            request.
        max_age: Seconds the browser keeps the cookie. Leave it out for a cookie
            that ends with the browser; give it for "remember me", equal to the
            session's absolute timeout.

    Returns:
        The header value, for example ``__Host-session=...; HttpOnly; Path=/;
        SameSite=Lax; Secure``.

    Raises:
        ValueError: ``session_id`` does not look like an ID the store issued.
    """
    if not _SESSION_ID.fullmatch(session_id):
        raise ValueError("not a session ID")
    morsel: Morsel[str] = Morsel()
    morsel.set(COOKIE_NAME, session_id, session_id)
    morsel["path"] = "/"  # required by __Host-; no "domain" (also required)
    morsel["secure"] = True  # HTTPS only; required by __Host-
    morsel["httponly"] = True  # invisible to JavaScript
    morsel["samesite"] = same_site
    if max_age is not None:  # the server's timeouts still decide; this only keeps it
        if type(max_age) is not int or max_age <= 0:
            raise ValueError("max_age must be a positive int")
        morsel["max-age"] = max_age
    return morsel.OutputString()


# --8<-- [end:build]


# --8<-- [start:clear]
def clear_session_cookie() -> str:
    """Return the ``Set-Cookie`` header value that removes the cookie (send it on
    logout).

    Returns:
        An empty cookie with the same name and attributes, expired in the past.
    """
    morsel: Morsel[str] = Morsel()
    morsel.set(COOKIE_NAME, "", "")
    morsel["path"] = "/"
    morsel["secure"] = True
    morsel["httponly"] = True
    morsel["samesite"] = "Lax"
    morsel["max-age"] = 0
    morsel["expires"] = (
        "Thu, 01 Jan 1970 00:00:00 GMT"  # for clients that ignore Max-Age
    )
    return morsel.OutputString()


# --8<-- [end:clear]


# --8<-- [start:read]
def read_session_cookie(cookie_header: object) -> str | None:
    """Find a well-formed session ID in a request's ``Cookie`` header.

    The header is split by hand rather than with ``http.cookies.SimpleCookie``, which
    keeps the last of two cookies with the same name and silently drops every cookie
    after one it cannot parse.

    Args:
        cookie_header: The raw header, or None if the request had none.

    Returns:
        The session ID, or None if the header is missing or oversized, the cookie is
        absent, sent twice, or its value is not exactly the shape of an ID the store
        issues.
    """
    if not isinstance(cookie_header, str) or len(cookie_header) > MAX_COOKIE_HEADER:
        return None
    values = [
        value.strip()
        for name, sep, value in (
            pair.partition("=") for pair in cookie_header.split(";")
        )
        if sep and name.strip() == COOKIE_NAME
    ]
    if len(values) != 1 or not _SESSION_ID.fullmatch(values[0]):
        return None
    return values[0]


# --8<-- [end:read]


def main() -> None:
    # --8<-- [start:demo]
    session_id = secrets.token_urlsafe(32)
    set_cookie = build_session_cookie(session_id)
    print(set_cookie.replace(session_id, "<id>"))
    #> __Host-session=<id>; HttpOnly; Path=/; SameSite=Lax; Secure
    cleared = clear_session_cookie()  # on logout
    print(cleared.replace("expires=Thu, 01 Jan 1970 00:00:00 GMT; ", ""))
    #> __Host-session=; HttpOnly; Max-Age=0; Path=/; SameSite=Lax; Secure
    print(read_session_cookie(f"theme=dark; __Host-session={session_id}") == session_id)
    #> True
    print(read_session_cookie("__Host-session=' OR 1=1 --"))
    #> None
    # --8<-- [end:demo]
    # --8<-- [start:demo_strict]
    print(
        build_session_cookie(session_id, same_site="Strict").replace(session_id, "<id>")
    )
    #> __Host-session=<id>; HttpOnly; Path=/; SameSite=Strict; Secure
    # --8<-- [end:demo_strict]


if __name__ == "__main__":
    main()
