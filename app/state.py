"""What the demo application builds once at start-up and every router uses: `Demo`."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis

from app.settings import Settings
from app.users import DemoUser, make_demo_users
from snippets.converting.demo_idp import DemoIdentityProvider
from snippets.converting.dual_accept_migration import DualAcceptMigration
from snippets.converting.exchange_session_for_jwt import Signer, session_is_live
from snippets.converting.id_token_to_session import IdTokenVerifier, TokenEndpoint
from snippets.converting.phantom_token_gateway import PhantomTokenGateway
from snippets.frameworks.guards import AuthSettings
from snippets.revocation.logout_everywhere import check_access_token
from snippets.revocation.revoke_access_token import TokenRefused
from snippets.sessions.login_throttle import LoginThrottle
from snippets.sessions.session_store import RedisSessionStore, require_noeviction
from snippets.tokens.keys import algorithm_for_key, build_jwks, generate_private_key
from snippets.tokens.verify_token import TokenError, verify_token

log = logging.getLogger("app")

API_AUDIENCE = "urn:demo:api"
REPORTS_AUDIENCE = "urn:demo:reports"
EXCHANGE_AUDIENCES = frozenset({API_AUDIENCE, REPORTS_AUDIENCE})
MIGRATION_NAME = "hs256-to-session-and-jwt"


def key_id(public_key: Any) -> str:
    """A kid derived from the public key: the same key file gives the same kid everywhere."""
    jwk = build_jwks([("x", public_key)])["keys"][0]
    material = json.dumps({k: v for k, v in jwk.items() if k not in {"kid", "use"}}, sort_keys=True)
    return "app-" + hashlib.sha256(material.encode()).hexdigest()[:16]


@dataclass
class Demo:
    """Everything the routers share, built by `build` from the settings."""

    settings: Settings
    auth: AuthSettings  # the guards: session store, bearer verifier, their clients
    signer: Signer
    public_key: Any
    algorithm: str
    legacy_secret: bytes
    users: Mapping[str, DemoUser]
    demo_idp: DemoIdentityProvider | None
    idp_issuer: str
    authorize_url: str
    id_tokens: IdTokenVerifier
    token_endpoint: TokenEndpoint
    gateway: PhantomTokenGateway
    migration: DualAcceptMigration
    throttle: LoginThrottle

    @property
    def redis(self) -> redis.Redis:
        return self.auth.client

    @property
    def store(self) -> RedisSessionStore:
        return self.auth.sessions

    @property
    def prefix(self) -> str:
        return self.settings.redis_prefix

    def now(self) -> float:
        return self.settings.now()

    async def aclose(self) -> None:
        if self.demo_idp is not None:
            self.demo_idp.stop()
        await self.auth.aclose()


def still_valid(auth: AuthSettings, claims: dict[str, Any]) -> None:
    """Refuse a verified token that was revoked, issued before the user's "log out
    everywhere", or minted from a session (``sid``) that has ended since.

    Raises:
        TokenRefused: Revoked, logged out, or its session ended.
        RevocationUnavailable, SessionStoreUnavailable: Redis could not answer (503).
    """
    check_access_token(auth.client, claims, prefix=auth.prefix)  # one MGET
    if "sid" in claims and not session_is_live(
        auth.client, claims["sid"], prefix=auth.prefix, now=auth.now()
    ):
        raise TokenRefused("logged_out")  # one more read, for session-derived tokens


def build(settings: Settings) -> Demo:
    """Build the application's parts; every process with the same settings agrees."""
    private_key = settings.signing_key or generate_private_key("EdDSA")
    public_key = private_key.public_key()
    algorithm = algorithm_for_key(public_key)
    auth = AuthSettings(
        redis_url=settings.redis_url,
        key=public_key,
        algorithm=algorithm,
        issuer=settings.issuer,
        audience=API_AUDIENCE,
        prefix=settings.redis_prefix,
        now=settings.now,
    )
    require_noeviction(auth.client)  # a full Redis must refuse writes, never evict
    signer = Signer(private_key, algorithm, key_id(public_key), settings.issuer)
    legacy_secret = settings.legacy_secret or secrets.token_urlsafe(48).encode()

    users = settings.demo_users
    if users is None:
        password = settings.demo_password
        if password is None:
            password = secrets.token_urlsafe(12)
            log.warning("demo users alice and bob, password: %s (generated at start-up)", password)
        users = make_demo_users(password)

    demo_idp: DemoIdentityProvider | None = None
    if settings.idp_issuer is None:
        demo_idp = DemoIdentityProvider(client_id=settings.client_id).start()
        idp_issuer, jwks_url = demo_idp.issuer, demo_idp.jwks_url
        authorize_url, token_url = demo_idp.authorize_url, demo_idp.token_url
        client_secret = demo_idp.client_secret
    else:
        idp_issuer, jwks_url = settings.idp_issuer, settings.idp_jwks_url or ""
        authorize_url = settings.idp_authorize_url or ""
        token_url, client_secret = settings.idp_token_url or "", settings.client_secret or ""

    def token_user(key: Any, algorithm: str, typ: str | None) -> Any:
        def user(token: str) -> str | None:
            try:
                claims = verify_token(
                    token,
                    key,
                    algorithm=algorithm,
                    typ=typ,
                    audience=API_AUDIENCE,
                    issuer=settings.issuer,
                    now=settings.now(),
                )
                still_valid(auth, claims)
            except (TokenError, TokenRefused):
                return None
            return str(claims["sub"])

        return user

    return Demo(
        settings=settings,
        auth=auth,
        signer=signer,
        public_key=public_key,
        algorithm=algorithm,
        legacy_secret=legacy_secret,
        users=users,
        demo_idp=demo_idp,
        idp_issuer=idp_issuer,
        authorize_url=authorize_url,
        id_tokens=IdTokenVerifier(jwks_url, issuer=idp_issuer, client_id=settings.client_id),
        token_endpoint=TokenEndpoint(
            token_url, client_id=settings.client_id, client_secret=client_secret
        ),
        gateway=PhantomTokenGateway(
            auth.client,
            signer=signer,
            audience=API_AUDIENCE,
            prefix=settings.redis_prefix,
            cache_seconds=settings.phantom_cache_seconds,
            now=settings.now,
        ),
        migration=DualAcceptMigration(
            auth.client,
            name=MIGRATION_NAME,
            accept_new=token_user(public_key, algorithm, "at+jwt"),
            accept_old=token_user(legacy_secret, "HS256", None),
            prefix=settings.redis_prefix,
            now=settings.now,
        ),
        throttle=LoginThrottle(auth.client, prefix=settings.redis_prefix),
    )
