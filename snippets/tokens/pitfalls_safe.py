"""The safe side of the "Security pitfalls" page: configuration decides, never the
token.

A service fixes its algorithm, key, audience, issuer and token type in one place, and
picks a key by ``kid`` only among keys it already trusts.
"""

from __future__ import annotations

# --8<-- [start:setup]
from collections.abc import Mapping
from typing import Any

from snippets.tokens.jwks_verifier import unverified_kid
from snippets.tokens.verify_token import TokenError, verify_token

AUDIENCE = "https://api.example.com"
ISSUER = "https://auth.example.com"
# --8<-- [end:setup]


# --8<-- [start:configured]
ALGORITHM = "ES256"  # chosen with the key, in configuration


def verify_access_token(token: str, public_key: Any) -> dict[str, Any]:
    """Verify an access token: one algorithm and key, audience, issuer, ``at+jwt``."""
    return verify_token(
        token,
        public_key,
        algorithm=ALGORITHM,
        audience=AUDIENCE,
        issuer=ISSUER,
        typ="at+jwt",
    )


# --8<-- [end:configured]


# --8<-- [start:trusted-kid]
def verify_with_trusted_kid(
    token: str, trusted_keys: Mapping[str, Any]
) -> dict[str, Any]:
    """Use ``kid`` only to choose among keys configured in advance.

    Raises:
        TokenError: The kid is not one of ``trusted_keys``, or the token is refused.
    """
    # a dict lookup: no path, no URL, no query
    key = trusted_keys.get(unverified_kid(token))
    if key is None:
        raise TokenError("unknown key ID")
    return verify_access_token(token, key)


# --8<-- [end:trusted-kid]


def main() -> None:
    # --8<-- [start:demo]
    from snippets.tokens.issue_access_token import issue_access_token
    from snippets.tokens.keys import generate_private_key

    key = generate_private_key("ES256")
    trusted = {"es-1": key.public_key()}
    access = issue_access_token(
        "user-42", key, algorithm="ES256", kid="es-1", issuer=ISSUER, audience=AUDIENCE
    )
    print(verify_with_trusted_kid(access, trusted)["sub"])
    #> user-42
    id_token = issue_access_token(
        "user-42",
        key,
        algorithm="ES256",
        kid="es-1",
        typ="JWT",
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    path_kid = issue_access_token(
        "user-42",
        key,
        algorithm="ES256",
        kid="../../etc/passwd",
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    for token in (id_token, path_kid):
        try:
            verify_with_trusted_kid(token, trusted)
        except TokenError as exc:
            print(exc)
            #> wrong token type
            #> unknown key ID
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
