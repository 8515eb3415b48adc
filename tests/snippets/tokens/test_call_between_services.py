from __future__ import annotations

import pytest

from snippets.tokens.call_between_services import authorize_service, service_token
from snippets.tokens.keys import generate_private_key
from snippets.tokens.verify_token import TokenError
from tests.snippets.tokens.conftest import KeyPair


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_caller_is_authorized_for_its_scope(pairs: dict[str, KeyPair], algorithm: str) -> None:
    pair = pairs[algorithm]
    token = service_token("billing", pair.signing, target="invoices", scope="a:read b:write")
    callers = {"billing": pair.verifying}
    assert authorize_service(token, callers, me="invoices", scope="b:write") == "billing"
    with pytest.raises(TokenError, match="scope not granted"):
        authorize_service(token, callers, me="invoices", scope="a:write")
    with pytest.raises(TokenError, match="audience"):
        authorize_service(token, callers, me="payroll", scope="a:read")


def test_unknown_or_impersonating_caller_is_refused(pairs: dict[str, KeyPair]) -> None:
    intruder = generate_private_key("EdDSA")
    callers = {"billing": pairs["EdDSA"].verifying}
    with pytest.raises(TokenError, match="unknown caller"):
        authorize_service(
            service_token("intruder", intruder, target="invoices", scope="x"),
            callers,
            me="invoices",
            scope="x",
        )
    with pytest.raises(TokenError, match="signature"):  # claims to be billing, cannot sign so
        authorize_service(
            service_token("billing", intruder, target="invoices", scope="x"),
            callers,
            me="invoices",
            scope="x",
        )
