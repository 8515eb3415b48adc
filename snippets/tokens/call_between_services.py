"""Machine-to-machine calls: a service signs a short token for one other service.

The calling service holds its own private key; the receiving service knows each caller's
public key in advance and checks the audience (itself) and the scope it needs. No user,
no shared secret, no call to a central server per request.
"""

from __future__ import annotations

# --8<-- [start:setup]
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from snippets.tokens.issue_access_token import issue_access_token
from snippets.tokens.jwks_verifier import unverified_kid
from snippets.tokens.keys import algorithm_for_key, generate_private_key
from snippets.tokens.verify_token import TokenError, verify_token

SERVICE_TOKEN_LIFETIME = timedelta(minutes=5)
# --8<-- [end:setup]


# --8<-- [start:caller]
def service_token(caller: str, private_key: Any, *, target: str, scope: str) -> str:
    """Sign a 5-minute token saying that ``caller`` calls ``target`` for ``scope``."""
    return issue_access_token(
        caller,
        private_key,
        algorithm=algorithm_for_key(private_key.public_key()),
        kid=caller,
        issuer=caller,
        audience=target,
        lifetime=SERVICE_TOKEN_LIFETIME,
        extra_claims={"scope": scope},
    )


# --8<-- [end:caller]


# --8<-- [start:receiver]
def authorize_service(
    token: str, callers: Mapping[str, Any], *, me: str, scope: str
) -> str:
    """Return the calling service's name if ``token`` grants ``scope`` on this service.

    Args:
        token: The bearer token received.
        callers: Public key of each service allowed to call, by name.
        me: This service's name, the audience required.
        scope: The scope this endpoint needs.

    Raises:
        TokenError: Unknown caller, bad token, or scope not granted.
    """
    caller = unverified_kid(token)
    public_key = callers.get(caller)
    if public_key is None:
        raise TokenError("unknown caller")
    claims = verify_token(
        token,
        public_key,
        algorithm=algorithm_for_key(public_key),
        audience=me,
        issuer=caller,
        typ="at+jwt",
        max_lifetime=SERVICE_TOKEN_LIFETIME,
    )
    if claims["sub"] != caller or scope not in str(claims.get("scope", "")).split():
        raise TokenError("scope not granted")
    return caller


# --8<-- [end:receiver]


def main() -> None:
    # --8<-- [start:demo]
    billing_key = generate_private_key("EdDSA")
    callers = {
        "billing": billing_key.public_key()
    }  # configured in the receiving service
    token = service_token(
        "billing", billing_key, target="invoices", scope="invoices:read"
    )
    print(authorize_service(token, callers, me="invoices", scope="invoices:read"))
    #> billing
    for me, scope in [("invoices", "invoices:write"), ("payroll", "invoices:read")]:
        try:
            authorize_service(token, callers, me=me, scope=scope)
        except TokenError as exc:
            print(exc)
            #> scope not granted
            #> audience not accepted
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
