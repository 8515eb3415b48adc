"""Backend-for-frontend login: an ID token from the identity provider becomes a session.

The browser never holds a token. The server starts the login with a one-time ``state``
and ``nonce``, the identity provider (IdP) sends the ID token back to the server's
callback, and the server verifies it against the IdP's published keys (JWKS, fetched by
`JWKSVerifier`): signature, ``iss``, ``aud`` (this application's client ID), ``exp`` and
``nonce``. It then creates a server-side session and answers with the session cookie
only. The ID token is
dropped: it proved who the user is, once.

An access token is not an ID token: one marked ``typ: at+jwt`` is refused here, and the
access-token verifier (`verify_token` with ``typ="at+jwt"``) refuses ID tokens in turn.

Run it against a Redis server of your choice (it publishes a demo JWKS on 127.0.0.1)::

    REDIS_URL=redis://127.0.0.1:6379/0 python -m snippets.converting.id_token_to_session
"""

from __future__ import annotations

# --8<-- [start:setup]
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
import redis

from snippets.sessions.session_store import (
    RedisSessionStore,
    SessionStoreUnavailable,
    connect,
)
from snippets.tokens.jwks_verifier import JWKSVerifier, serve_jwks_for_demo
from snippets.tokens.keys import build_jwks, generate_private_key
from snippets.tokens.verify_token import MAX_TOKEN_BYTES, TokenError

LOGIN_REQUEST_SECONDS = 5 * 60
_STATE = re.compile(r"[A-Za-z0-9_-]{43}")
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_SUBJECT = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, no spaces
# --8<-- [end:setup]


# --8<-- [start:errors]
class LoginRefused(Exception):
    """The login callback is refused: bad or replayed state, or an ID token that fails.

    Answer 400 or 401 and show "login failed"; the message is safe to log.
    """


# --8<-- [end:errors]


# --8<-- [start:begin]
@dataclass(frozen=True)
class LoginRequest:
    """What the server sends along with the browser to the IdP.

    Attributes:
        state: Binds the callback to this browser (also kept in a short-lived cookie).
        nonce: Binds the ID token to this login; the IdP copies it into the token.
    """

    state: str
    nonce: str


def _state_key(prefix: str, state: str) -> str:
    return f"{prefix}oidc:state:{hashlib.sha256(state.encode()).hexdigest()}"


def begin_login(
    r: redis.Redis, *, prefix: str = "", ttl: int = LOGIN_REQUEST_SECONDS
) -> LoginRequest:
    """Start a login: a fresh ``state`` and ``nonce``, kept in Redis for ``ttl``
    seconds.

    Kept in Redis, not in process memory, so the callback may land on any process.

    Raises:
        SessionStoreUnavailable: Redis could not answer.
    """
    request = LoginRequest(secrets.token_urlsafe(32), secrets.token_urlsafe(32))
    try:
        r.set(_state_key(prefix, request.state), request.nonce, ex=ttl, nx=True)
    except redis.RedisError as exc:
        raise SessionStoreUnavailable(f"session store unavailable: {exc}") from exc
    return request


# --8<-- [end:begin]


# --8<-- [start:verify]
class IdTokenVerifier:
    """Verify ID tokens from one IdP against the keys it publishes at ``jwks_url``.

    Builds on `JWKSVerifier` (cached keys, bounded refetch for an unknown ``kid``) and
    adds what makes a token an ID token for this login: its type, ``azp`` and ``nonce``.

    Args:
        jwks_url: The IdP's JWKS address (from its discovery document), https in
            production.
        issuer: The IdP's exact ``iss``.
        client_id: This application's client ID: the ``aud`` an ID token must carry.
        algorithm: The one algorithm the IdP signs ID tokens with.
        timeout: Seconds to wait for the JWKS.
    """

    def __init__(
        self,
        jwks_url: str,
        *,
        issuer: str,
        client_id: str,
        algorithm: str = "ES256",
        timeout: float = 2.0,
    ) -> None:
        self._keys = JWKSVerifier(
            jwks_url,
            algorithm=algorithm,
            audience=client_id,
            issuer=issuer,
            typ=None,
            timeout=timeout,
        )
        self._client_id = client_id

    def verify(
        self, id_token: object, *, nonce: str, now: float | None = None
    ) -> dict[str, Any]:
        """Return the claims of a valid ID token issued for this login.

        Args:
            id_token: The token from the callback; hostile.
            nonce: The nonce this login started with.
            now: Current time in seconds since the epoch; ``time.time()`` when omitted.

        Returns:
            The ID token's claims.

        Raises:
            TokenError: The token is refused (the message says why).
        """
        if not isinstance(id_token, str) or len(id_token) > MAX_TOKEN_BYTES:
            raise TokenError("not an ID token")
        if not _COMPACT.fullmatch(id_token):
            raise TokenError("not a compact JWS: three base64url segments, no padding")
        claims = self._keys.verify(id_token, now=now)
        typ = jwt.get_unverified_header(id_token).get("typ", "JWT")
        if not isinstance(typ, str) or typ.lower() != "jwt":
            raise TokenError("wrong token type: not an ID token")
        audiences = (
            claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        )
        # OIDC Core 3.1.3.7: no audience this client does not trust (here: none but
        # itself), and an azp, when present, must name this client.
        if audiences != [self._client_id]:
            raise TokenError("audience: the token names other audiences too")
        if "azp" in claims and claims["azp"] != self._client_id:
            raise TokenError("azp does not name this client")
        subject = claims.get("sub")
        # OIDC Core 2: sub is at most 255 ASCII characters; nothing else is a user.
        if not (isinstance(subject, str) and _SUBJECT.fullmatch(subject)):
            raise TokenError("sub is not an OIDC subject")
        received = claims.get("nonce")
        if not isinstance(received, str) or not hmac.compare_digest(received, nonce):
            raise TokenError("nonce does not match this login")
        return claims


# --8<-- [end:verify]


# --8<-- [start:complete]
def complete_login(
    r: redis.Redis,
    store: RedisSessionStore,
    verifier: IdTokenVerifier,
    *,
    state: object,
    browser_state: object,
    id_token: object,
    previous_session: object = None,
    prefix: str = "",
    now: float | None = None,
) -> str:
    """Finish a login: check state, verify the ID token, create a session, drop the
    token.

    Args:
        r: The Redis client `begin_login` wrote to.
        store: Where the session is created.
        verifier: The ID-token verifier of this IdP.
        state: ``state`` as the IdP sent it back; hostile.
        browser_state: ``state`` from this browser's short-lived login cookie; hostile.
        id_token: The ID token from the callback; hostile.
        previous_session: The session ID this browser sent, if any; it is destroyed,
            so that a session from before the login never carries over.
        prefix: The key prefix `begin_login` used.
        now: Current time in seconds since the epoch; ``time.time()`` when omitted.

    Returns:
        The new session ID: the only thing the browser receives (in its cookie).

    Raises:
        LoginRefused: Bad, foreign or replayed state, or a refused ID token.
        SessionStoreUnavailable: Redis could not answer.
    """
    if not (isinstance(state, str) and _STATE.fullmatch(state)):
        raise LoginRefused("malformed state")
    if not (
        isinstance(browser_state, str) and hmac.compare_digest(state, browser_state)
    ):
        raise LoginRefused("state does not belong to this browser")  # login CSRF
    try:
        nonce = r.getdel(_state_key(prefix, state))  # one use only
    except redis.RedisError as exc:
        raise SessionStoreUnavailable(f"session store unavailable: {exc}") from exc
    if nonce is None:
        raise LoginRefused("unknown, expired or already used state")
    nonce = nonce.decode() if isinstance(nonce, bytes) else nonce
    try:
        claims = verifier.verify(id_token, nonce=nonce, now=now)
    except TokenError as exc:
        raise LoginRefused(f"ID token refused: {exc}") from None
    # One user per (iss, sub) pair, whatever they hold: hashed, never truncated.
    pair = json.dumps([claims["iss"], claims["sub"]]).encode()
    user_id = f"oidc:{hashlib.sha256(pair).hexdigest()}"
    name = claims.get("name") if isinstance(claims.get("name"), str) else None
    if previous_session is not None:
        store.destroy(previous_session)  # never carry a pre-login session over
    return store.create(user_id, {"name": name, "login": "oidc"})  # no token kept


# --8<-- [end:complete]


def main() -> None:
    # --8<-- [start:demo]
    r = connect(os.environ["REDIS_URL"])
    prefix = os.environ.get("REDIS_KEY_PREFIX", "app:")
    store = RedisSessionStore(r, prefix=prefix)
    idp_key = generate_private_key("ES256")
    idp = "https://idp.example.com"

    def idp_signs(claims: dict[str, Any], typ: str = "JWT") -> str:
        now = int(time.time())
        claims = {"iss": idp, "iat": now, "exp": now + 300, **claims}
        return jwt.encode(
            claims, idp_key, algorithm="ES256", headers={"kid": "idp-1", "typ": typ}
        )

    with serve_jwks_for_demo(build_jwks([("idp-1", idp_key.public_key())])) as jwks_url:
        verifier = IdTokenVerifier(jwks_url, issuer=idp, client_id="demo-app")
        # browser is sent to the IdP with state, nonce
        login = begin_login(r, prefix=prefix)
        id_token = idp_signs({"sub": "u-7", "aud": "demo-app", "nonce": login.nonce})
        session_id = complete_login(
            r,
            store,
            verifier,
            state=login.state,
            browser_state=login.state,
            id_token=id_token,
            prefix=prefix,
        )
        session = store.validate(session_id)
        print(len(session_id), session and session.data)
        #> 43 {'name': None, 'login': 'oidc'}
        try:  # the same callback again: the state was used up
            complete_login(
                r,
                store,
                verifier,
                state=login.state,
                browser_state=login.state,
                id_token=id_token,
                prefix=prefix,
            )
        except LoginRefused as exc:
            print(exc)
            #> unknown, expired or already used state
        login = begin_login(r, prefix=prefix)
        access_token = idp_signs(
            {"sub": "u-7", "aud": "demo-app", "nonce": login.nonce}, typ="at+jwt"
        )
        try:  # an access token is not proof of a login
            complete_login(
                r,
                store,
                verifier,
                state=login.state,
                browser_state=login.state,
                id_token=access_token,
                prefix=prefix,
            )
        except LoginRefused as exc:
            print(exc)
            #> ID token refused: wrong token type: not an ID token
        # --8<-- [end:demo]


if __name__ == "__main__":
    main()
