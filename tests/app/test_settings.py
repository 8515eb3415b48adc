"""Settings.from_env: a missing or weak secret, or half an IdP, is refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings

IDP = {
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "APP_IDP_ISSUER": "https://idp.example.com",
    "APP_IDP_JWKS_URL": "https://idp.example.com/jwks",
    "APP_IDP_AUTHORIZE_URL": "https://idp.example.com/authorize",
    "APP_IDP_TOKEN_URL": "https://idp.example.com/token",
    "APP_OIDC_CLIENT_SECRET": "s" * 32,
}


def test_redis_url_is_required() -> None:
    with pytest.raises(RuntimeError, match="REDIS_URL"):
        Settings.from_env({})


def test_an_idp_is_configured_whole() -> None:
    settings = Settings.from_env(IDP)
    assert settings.idp_token_url == IDP["APP_IDP_TOKEN_URL"]
    assert settings.client_secret == "s" * 32 and "s" * 32 not in repr(settings)
    for name in ("APP_IDP_JWKS_URL", "APP_IDP_AUTHORIZE_URL", "APP_IDP_TOKEN_URL"):
        with pytest.raises(RuntimeError, match=f"set {name}"):
            Settings.from_env({k: v for k, v in IDP.items() if k != name})


def test_a_missing_or_short_client_secret_is_refused(tmp_path: Path) -> None:
    without = {k: v for k, v in IDP.items() if k != "APP_OIDC_CLIENT_SECRET"}
    with pytest.raises(RuntimeError, match="at least 32 characters"):
        Settings.from_env(without)
    with pytest.raises(RuntimeError, match="APP_OIDC_CLIENT_SECRET"):
        Settings.from_env({**IDP, "APP_OIDC_CLIENT_SECRET": "short"})
    secret_file = tmp_path / "client-secret"
    secret_file.write_text("f" * 40 + "\n")
    from_file = Settings.from_env({**without, "APP_OIDC_CLIENT_SECRET_FILE": str(secret_file)})
    assert from_file.client_secret == "f" * 40
    secret_file.write_text("weak\n")
    with pytest.raises(RuntimeError, match="the file"):
        Settings.from_env({**without, "APP_OIDC_CLIENT_SECRET_FILE": str(secret_file)})
