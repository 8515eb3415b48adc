"""The demo application's settings: everything it needs, read from the environment."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.users import DemoUser
from snippets.tokens.keys import load_hmac_secret, load_private_key


@dataclass
class Settings:
    """Everything the application needs; `Settings.from_env` reads it from the environment.

    Attributes:
        redis_url: The Redis shared by every process.
        redis_prefix: Put in front of every Redis key the application writes.
        signing_key: Private key (RS256, ES256 or EdDSA) for the JWTs it mints; generated at
            start-up when None.
        signing_key_source: Says where the signing key came from (shown on the home page).
        legacy_secret: HMAC secret of the old HS256 tokens being migrated away from;
            generated at start-up when None.
        demo_password: Password of the demo users; generated (and logged) when None.
        demo_users: A ready user table (tests hash once); built from ``demo_password`` if None.
        idp_issuer: Issuer of the identity provider; with None a demo IdP is started on
            127.0.0.1 inside this process.
        idp_jwks_url: The IdP's JWKS URL.
        idp_authorize_url: The IdP's authorization endpoint.
        idp_token_url: The IdP's token endpoint, where the server redeems login codes.
        client_secret: This application's client secret at the IdP (at least 32
            characters); the demo IdP's own when ``idp_issuer`` is None.
        client_id: This application's client ID at the IdP (the ``aud`` of ID tokens).
        cors_origins: Other origins allowed to call the API with credentials.
        allowed_hosts: The host names the app answers to (the ``Host`` header).
        issuer: ``iss`` of the JWTs this application mints.
        phantom_cache_seconds: Revocation lag of the phantom-token gateway's cache.
        now: The clock, seconds since the epoch. Tests pass their own.
    """

    redis_url: str
    redis_prefix: str = "app:"
    signing_key: Any = None
    signing_key_source: str = "generated at start-up"
    legacy_secret: bytes | None = None
    legacy_key_origin: str = "generated at start-up"
    demo_password: str | None = None
    demo_users: Mapping[str, DemoUser] | None = None
    idp_issuer: str | None = None
    idp_jwks_url: str | None = None
    idp_authorize_url: str | None = None
    idp_token_url: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    client_id: str = "demo-app"
    cors_origins: tuple[str, ...] = ("http://127.0.0.1:8002",)
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
    issuer: str = "urn:jwt-vs-sessions:demo-app"
    phantom_cache_seconds: float = 10.0
    now: Callable[[], float] = field(default=time.time)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read the settings from environment variables.

        ``REDIS_URL`` (required), ``APP_REDIS_PREFIX``, ``APP_SIGNING_KEY_FILE`` (PEM private
        key), ``APP_LEGACY_SECRET_FILE`` or ``APP_LEGACY_JWT_SECRET``, ``APP_DEMO_PASSWORD``,
        ``APP_IDP_ISSUER`` with ``APP_IDP_JWKS_URL``, ``APP_IDP_AUTHORIZE_URL``,
        ``APP_IDP_TOKEN_URL`` and ``APP_OIDC_CLIENT_SECRET_FILE`` or
        ``APP_OIDC_CLIENT_SECRET``,
        ``APP_CORS_ORIGINS`` and ``APP_ALLOWED_HOSTS`` (comma-separated).

        Raises:
            RuntimeError: ``REDIS_URL`` is missing, a secret is given but too weak, or
                an IdP is named without all of its settings.
        """
        if not environ.get("REDIS_URL"):
            raise RuntimeError("REDIS_URL must name the Redis server (scripts/run-app sets it)")
        settings = cls(redis_url=environ["REDIS_URL"])
        settings.redis_prefix = environ.get("APP_REDIS_PREFIX", settings.redis_prefix)
        if path := environ.get("APP_SIGNING_KEY_FILE"):
            settings.signing_key = load_private_key(Path(path).read_bytes())
            settings.signing_key_source = f"loaded from the file {path}"
        if path := environ.get("APP_LEGACY_SECRET_FILE"):
            settings.legacy_secret = load_hmac_secret(file=path)
            settings.legacy_key_origin = f"loaded from the file {path}"
        elif environ.get("APP_LEGACY_JWT_SECRET"):
            settings.legacy_secret = load_hmac_secret("APP_LEGACY_JWT_SECRET")
            settings.legacy_key_origin = "read from APP_LEGACY_JWT_SECRET"
        settings.demo_password = environ.get("APP_DEMO_PASSWORD") or None
        if environ.get("APP_IDP_ISSUER"):
            needed = ("APP_IDP_JWKS_URL", "APP_IDP_AUTHORIZE_URL", "APP_IDP_TOKEN_URL")
            if missing := [name for name in needed if not environ.get(name)]:
                raise RuntimeError(f"APP_IDP_ISSUER is set, so set {', '.join(missing)} too")
            settings.idp_issuer = environ["APP_IDP_ISSUER"]
            settings.idp_jwks_url = environ["APP_IDP_JWKS_URL"]
            settings.idp_authorize_url = environ["APP_IDP_AUTHORIZE_URL"]
            settings.idp_token_url = environ["APP_IDP_TOKEN_URL"]
            settings.client_secret = _client_secret(environ)
        if environ.get("APP_ALLOWED_HOSTS"):
            hosts = environ["APP_ALLOWED_HOSTS"].split(",")
            settings.allowed_hosts = tuple(h.strip() for h in hosts if h.strip())
        if "APP_CORS_ORIGINS" in environ:
            origins = environ["APP_CORS_ORIGINS"].split(",")
            settings.cors_origins = tuple(o.strip() for o in origins if o.strip())
        return settings


MIN_CLIENT_SECRET_CHARS = 32


def _client_secret(environ: Mapping[str, str]) -> str:
    """The OIDC client secret, from a file (``APP_OIDC_CLIENT_SECRET_FILE``) or else the
    environment (``APP_OIDC_CLIENT_SECRET``).

    Raises:
        RuntimeError: It is missing or shorter than ``MIN_CLIENT_SECRET_CHARS``.
    """
    if path := environ.get("APP_OIDC_CLIENT_SECRET_FILE"):
        secret, where = Path(path).read_text().strip(), f"the file {path!r}"
    else:
        secret, where = environ.get("APP_OIDC_CLIENT_SECRET", ""), "APP_OIDC_CLIENT_SECRET"
    if len(secret) < MIN_CLIENT_SECRET_CHARS:
        raise RuntimeError(
            f"{where} must hold the client secret the IdP issued to this application "
            f"(at least {MIN_CLIENT_SECRET_CHARS} characters)"
        )
    return secret
