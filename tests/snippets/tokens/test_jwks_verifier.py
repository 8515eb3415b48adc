from __future__ import annotations

import json

import jwt
import pytest

from snippets.tokens.issue_access_token import issue_access_token
from snippets.tokens.jwks_verifier import JWKSVerifier
from snippets.tokens.keys import generate_private_key
from snippets.tokens.verify_token import TokenError
from tests.snippets.tokens.conftest import (
    AUDIENCE,
    ISSUER,
    FakeClock,
    JWKSServer,
    KeyPair,
    good_claims,
)

ASYMMETRIC = ("RS256", "ES256", "EdDSA")


def issue(private_key, algorithm: str, kid: str) -> str:
    return issue_access_token(
        "user-42", private_key, algorithm=algorithm, kid=kid, issuer=ISSUER, audience=AUDIENCE
    )


def make_verifier(server: JWKSServer, algorithm: str, clock: FakeClock) -> JWKSVerifier:
    return JWKSVerifier(
        server.url,
        algorithm=algorithm,
        audience=AUDIENCE,
        issuer=ISSUER,
        cache_seconds=300,
        clock=clock,
    )


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
def test_one_fetch_serves_many_verifications(
    jwks_server: JWKSServer, pairs: dict[str, KeyPair], algorithm: str
) -> None:
    pair = pairs[algorithm]
    jwks_server.publish(("k1", pair.verifying))
    verifier = make_verifier(jwks_server, algorithm, FakeClock())
    token = issue(pair.signing, algorithm, "k1")
    for _ in range(50):
        assert verifier.verify(token)["sub"] == "user-42"
    assert jwks_server.fetches == 1


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
def test_rotation(jwks_server: JWKSServer, pairs: dict[str, KeyPair], algorithm: str) -> None:
    old_private = pairs[algorithm].signing
    new_private = generate_private_key(algorithm)
    clock = FakeClock()
    jwks_server.publish(("old", old_private.public_key()))
    verifier = make_verifier(jwks_server, algorithm, clock)
    old_token = issue(old_private, algorithm, "old")
    assert verifier.verify(old_token)
    assert jwks_server.fetches == 1

    # The issuer publishes the new key beside the old one and starts signing with it.
    jwks_server.publish(("old", old_private.public_key()), ("new", new_private.public_key()))
    clock.now += 10
    new_token = issue(new_private, algorithm, "new")
    assert verifier.verify(new_token)  # unknown kid: one refetch, then it verifies
    assert jwks_server.fetches == 2
    assert verifier.verify(old_token)  # old tokens keep verifying, from the cache
    assert jwks_server.fetches == 2

    # Unknown kids in the same window are refused without another request.
    stranger = generate_private_key(algorithm)
    for kid in ("k-x", "k-y", "k-z"):
        with pytest.raises(TokenError, match="unknown key ID"):
            verifier.verify(issue(stranger, algorithm, kid))
    assert jwks_server.fetches == 2

    # The old key is removed; once the cache window ends, its tokens are refused.
    jwks_server.publish(("new", new_private.public_key()))
    assert verifier.verify(old_token)  # still cached
    clock.now += 300
    with pytest.raises(TokenError, match="unknown key ID"):
        verifier.verify(old_token)
    assert jwks_server.fetches == 3  # the window's fetch; no extra refetch right after it
    assert verifier.verify(new_token)
    with pytest.raises(TokenError, match="unknown key ID"):
        verifier.verify(old_token)
    assert jwks_server.fetches == 4  # the one refetch this window allows
    with pytest.raises(TokenError, match="unknown key ID"):
        verifier.verify(old_token)
    assert jwks_server.fetches == 4


def test_unknown_kid_at_start_fetches_once(jwks_server: JWKSServer, pairs) -> None:
    jwks_server.publish(("k1", pairs["EdDSA"].verifying))
    verifier = make_verifier(jwks_server, "EdDSA", FakeClock())
    for _ in range(5):
        with pytest.raises(TokenError, match="unknown key ID"):
            verifier.verify(issue(pairs["EdDSA"].signing, "EdDSA", "other"))
    assert jwks_server.fetches == 2  # the first fetch, then the one refetch of the window


def test_key_for_another_algorithm_is_refused(jwks_server: JWKSServer, pairs) -> None:
    jwks_server.publish(("k1", pairs["RS256"].verifying))
    verifier = make_verifier(jwks_server, "ES256", FakeClock())
    with pytest.raises(TokenError, match="another algorithm"):
        verifier.verify(issue(pairs["RS256"].signing, "RS256", "k1"))


def test_outage(jwks_server: JWKSServer, pairs) -> None:
    pair = pairs["ES256"]
    jwks_server.publish(("k1", pair.verifying))
    clock = FakeClock()
    token = issue(pair.signing, "ES256", "k1")
    jwks_server.up = False
    verifier = make_verifier(jwks_server, "ES256", clock)
    with pytest.raises(TokenError, match="signing keys unavailable"):
        verifier.verify(token)
    jwks_server.up = True
    clock.now += 300
    assert verifier.verify(token)
    jwks_server.up = False
    clock.now += 300
    assert verifier.verify(token)  # the cached keys outlive an outage of the issuer
    with pytest.raises(TokenError, match="signing keys unavailable"):
        verifier.verify(issue(pair.signing, "ES256", "k2"))


@pytest.mark.parametrize(
    "token", ["", "x", "a.b.c", "e30.e30.e30", "eyJraWQiOjF9.e30.e30", "x" * 10000, b"\xff", None]
)
def test_garbage_is_refused(jwks_server: JWKSServer, pairs, token) -> None:
    jwks_server.publish(("k1", pairs["EdDSA"].verifying))
    verifier = make_verifier(jwks_server, "EdDSA", FakeClock())
    with pytest.raises(TokenError):
        verifier.verify(token)
    assert jwks_server.fetches <= 2


def test_key_embedded_in_the_header_is_ignored(jwks_server: JWKSServer, pairs) -> None:
    jwks_server.publish(("k1", pairs["EdDSA"].verifying))
    verifier = make_verifier(jwks_server, "EdDSA", FakeClock())
    attacker = generate_private_key("EdDSA")
    jwk = jwt.algorithms.OKPAlgorithm.to_jwk(attacker.public_key(), as_dict=True)
    token = jwt.encode(
        good_claims(),
        attacker,
        algorithm="EdDSA",
        headers={"kid": "k1", "typ": "at+jwt", "jwk": jwk, "jku": jwks_server.url + "?evil"},
    )
    with pytest.raises(TokenError, match="signature verification failed"):
        verifier.verify(token)


# -- a hostile or broken key set ----------------------------------------------------------


class ScriptedJWKS:
    """A JWKS endpoint on 127.0.0.1 that answers whatever the test says, as slowly as it says."""

    def __init__(self) -> None:
        import http.server
        import time as _time

        self.status, self.content_type, self.body = 200, "application/json", b'{"keys": []}'
        self.drip_seconds = 0.0  # > 0: send the body one byte at a time, this far apart
        self.fetches = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                self.send_response(owner.status)
                self.send_header("Content-Type", owner.content_type)
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                try:
                    if owner.drip_seconds:
                        for byte in owner.body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            _time.sleep(owner.drip_seconds)
                    else:
                        self.wfile.write(owner.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the verifier gave up on us, as it should

            def log_message(self, *args: object) -> None:
                pass

        from snippets.tokens.jwks_verifier import LocalServer

        self._server = LocalServer(Handler)
        self.url = self._server.url + "/jwks.json"

    def serve(self, document: object) -> None:
        self.status, self.content_type = 200, "application/json"
        self.body = json.dumps(document).encode()

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def scripted():  # type: ignore[no-untyped-def]
    server = ScriptedJWKS()
    yield server
    server.close()


def _verifier(url: str, clock: FakeClock, **options) -> JWKSVerifier:  # type: ignore[no-untyped-def]
    verifier = JWKSVerifier(
        url, algorithm="EdDSA", audience=AUDIENCE, issuer=ISSUER, clock=clock, **options
    )
    return verifier


GARBAGE_DOCUMENTS = [
    ("text/html", b"<!doctype html><title>Sign in</title><p>Please log in</p>"),
    ("application/json", b'{"keys": []}'),
    ("application/json", b'{"keys": "nope"}'),
    ("application/json", b"[]"),
    ("application/json", b"null"),
    ("application/json", b'{"keys": [{"kty": "oct", "kid": "k1", "k": "c2VjcmV0"}]}'),
    ("application/json", b'{"keys": [{"kty": "OKP", "kid": "k1", "crv": "Ed25519"}]}'),
    ("application/json", b'{"keys": [' + b"[" * 5000 + b"]" * 5000 + b"]}"),
    ("application/json", b"\xff\xfe not even text"),
    ("application/json", b"{" * 100_000),
]


@pytest.mark.parametrize(
    ("content_type", "body"), GARBAGE_DOCUMENTS, ids=range(len(GARBAGE_DOCUMENTS))
)
def test_a_garbage_refresh_keeps_the_cached_keys_and_does_not_refetch_every_time(  # type: ignore[no-untyped-def]
    scripted, pairs, content_type: str, body: bytes
) -> None:
    pair = pairs["EdDSA"]
    from snippets.tokens.keys import build_jwks

    scripted.serve(build_jwks([("k1", pair.verifying)]))
    clock = FakeClock()
    verifier = _verifier(scripted.url, clock)
    token = issue(pair.signing, "EdDSA", "k1")
    assert verifier.verify(token)["sub"] == "user-42"
    scripted.content_type, scripted.body = content_type, body
    clock.now += 300  # the cache window is over: the refresh gets garbage
    for _ in range(20):
        assert verifier.verify(token)["sub"] == "user-42"  # never another exception
    assert scripted.fetches == 2  # one failed refresh, then a pause before the next try
    clock.now += 30
    assert verifier.verify(token)["sub"] == "user-42"
    assert scripted.fetches == 3
    with pytest.raises(TokenError):  # an unknown kid is still refused, as TokenError
        verifier.verify(issue(pair.signing, "EdDSA", "k2"))
    verifier.close()


@pytest.mark.parametrize(
    ("content_type", "body"), GARBAGE_DOCUMENTS, ids=range(len(GARBAGE_DOCUMENTS))
)
def test_garbage_at_start_is_a_token_error(scripted, pairs, content_type: str, body: bytes) -> None:  # type: ignore[no-untyped-def]
    scripted.content_type, scripted.body = content_type, body
    verifier = _verifier(scripted.url, FakeClock())
    with pytest.raises(TokenError, match="signing keys unavailable"):
        verifier.verify(issue(pairs["EdDSA"].signing, "EdDSA", "k1"))
    verifier.close()


def test_a_huge_document_is_refused_without_reading_it_all(scripted, pairs) -> None:  # type: ignore[no-untyped-def]
    from snippets.tokens.keys import build_jwks

    document = build_jwks([("k1", pairs["EdDSA"].verifying)])
    document["padding"] = "x" * 200_000
    scripted.serve(document)
    verifier = _verifier(scripted.url, FakeClock())
    with pytest.raises(TokenError, match="signing keys unavailable"):
        verifier.verify(issue(pairs["EdDSA"].signing, "EdDSA", "k1"))
    verifier.close()


def test_a_slow_drip_is_cut_off_by_one_total_deadline_and_blocks_no_one(scripted, pairs) -> None:  # type: ignore[no-untyped-def]
    """The endpoint sends one byte every 0.2 s (each read well inside the timeout) for about a
    minute. A fetch gives up at its total deadline; meanwhile verifications with the cached
    key do not wait for it."""
    import threading
    import time

    from snippets.tokens.keys import build_jwks

    pair = pairs["EdDSA"]
    scripted.serve(build_jwks([("k1", pair.verifying)]))
    clock = FakeClock()
    verifier = _verifier(scripted.url, clock, timeout=1.0)
    token = issue(pair.signing, "EdDSA", "k1")
    assert verifier.verify(token)
    scripted.drip_seconds = 0.2
    clock.now += 300
    started = time.monotonic()
    assert verifier.verify(token)  # the caller that starts the refresh waits, bounded
    first = time.monotonic() - started
    others: list[float] = []

    def verify_meanwhile() -> None:
        t = time.monotonic()
        verifier.verify(token)
        others.append(time.monotonic() - t)

    threads = [threading.Thread(target=verify_meanwhile) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Generous bounds for a busy machine; the drip itself would take about a minute.
    assert first < 10, first
    assert len(others) == 8 and max(others) < 10, others
    verifier.close()


def test_hs256_cannot_be_verified_with_a_public_key_set(scripted) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="cannot be verified with a published key set"):
        JWKSVerifier(scripted.url, algorithm="HS256", audience=AUDIENCE, issuer=ISSUER)
    with pytest.raises(ValueError, match="http"):
        JWKSVerifier("file:///etc/passwd", algorithm="EdDSA", audience=AUDIENCE, issuer=ISSUER)


def test_a_published_shared_secret_is_never_used(scripted, pairs) -> None:  # type: ignore[no-untyped-def]
    """An oct key in a public set would let anyone who reads the set sign tokens."""
    import base64

    from snippets.tokens.keys import build_jwks

    secret = b"s" * 32
    document = build_jwks([("k1", pairs["ES256"].verifying)])
    document["keys"].append(
        {"kty": "oct", "kid": "shared", "k": base64.urlsafe_b64encode(secret).decode().rstrip("=")}
    )
    scripted.serve(document)
    verifier = JWKSVerifier(scripted.url, algorithm="ES256", audience=AUDIENCE, issuer=ISSUER)
    forged = jwt.encode(
        good_claims(), secret, algorithm="HS256", headers={"kid": "shared", "typ": "at+jwt"}
    )
    with pytest.raises(TokenError):
        verifier.verify(forged)
    assert verifier.verify(issue(pairs["ES256"].signing, "ES256", "k1"))
    verifier.close()
