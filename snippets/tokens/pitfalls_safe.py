"""The safe side of the "Security pitfalls" page: configuration decides, never the
token.

A service fixes its algorithm, key, audience, issuer and token type in one place, and
picks a key by ``kid`` only among keys it already trusts.
"""

from __future__ import annotations

# --8<-- [start:setup]
from collections.abc import Callable, Mapping
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


# --8<-- [start:untyped]
# Claims that only ID tokens carry (OpenID Connect Core, sections 2 and 3.3.2.11).
ID_TOKEN_ONLY = frozenset({"nonce", "at_hash", "c_hash", "s_hash"})


def untyped_access_token_verifier(
    public_key: Any, *, oidc_client_ids: frozenset[str]
) -> Callable[[str], dict[str, Any]]:
    """For an issuer that does not put ``typ: at+jwt`` on its access tokens: rules
    that no ID token of that issuer can pass (RFC 8725, section 3.12).

    The audience is this API's identifier, which must not be the client ID of any
    OIDC client of the issuer (an ID token's ``aud`` is a client ID); and a token
    with a claim only ID tokens carry is refused.

    Raises:
        ValueError: The API's audience is one of ``oidc_client_ids``: then the two
            kinds of token cannot be told apart, whatever the checks.
    """
    if AUDIENCE in oidc_client_ids:
        raise ValueError("the API's audience must not be an OIDC client ID")

    def verify(token: str) -> dict[str, Any]:
        claims = verify_token(
            token, public_key, algorithm=ALGORITHM, audience=AUDIENCE, issuer=ISSUER
        )
        if ID_TOKEN_ONLY & claims.keys():
            raise TokenError("an ID token is not an access token")
        return claims

    return verify


# --8<-- [end:untyped]


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
    # --8<-- [start:demo_untyped]
    verify = untyped_access_token_verifier(
        key.public_key(), oidc_client_ids=frozenset({"web-app"})
    )
    untyped = issue_access_token(
        "user-42",
        key,
        algorithm="ES256",
        kid="es-1",
        typ="JWT",
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    print(verify(untyped)["sub"])
    #> user-42
    with_nonce = issue_access_token(
        "user-42",
        key,
        algorithm="ES256",
        kid="es-1",
        typ="JWT",
        issuer=ISSUER,
        audience=AUDIENCE,
        extra_claims={"nonce": "n-0S6_WzA2Mj"},
    )
    try:
        verify(with_nonce)
    except TokenError as exc:
        print(exc)
        #> an ID token is not an access token
    # --8<-- [end:demo_untyped]


if __name__ == "__main__":
    main()
