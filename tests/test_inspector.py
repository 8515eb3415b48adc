"""The token inspector page (docs/inspector.md, docs/assets/inspector/).

Two layers: Node's built-in test runner checks the pure logic (tests/js/), and Chromium checks
the page as a reader uses it: tokens from the RFC and from this project's own snippets, bad
input, the HS256 check, the session conversion (its Redis commands run against a real Redis),
the reverse conversion, light and dark palettes, and no request once the page has loaded.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import timedelta

import jwt
import pytest
from playwright.sync_api import Browser, Page, expect

from snippets.quickstart.create_and_read_session import session_key
from snippets.quickstart.issue_and_verify_hs256 import issue_token
from snippets.tokens.issue_access_token import issue_access_token
from snippets.tokens.keys import generate_private_key
from tests.browser import PageWatch
from tests.helpers import ROOT

# RFC 7519 section 3.1: the JOSE header and claims set as the RFC writes them, CRLFs included.
RFC_HEADER = b'{"typ":"JWT",\r\n "alg":"HS256"}'
RFC_PAYLOAD = b'{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}'
RFC_TOKEN = (
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)
# Its HMAC key, from RFC 7515 appendix A.1 (a JWK "k" value: base64url of raw bytes).
RFC_KEY = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
SECRET = b"inspector-test-secret-0123456789abcdef"
ISSUER = "https://auth.example.com"
AUDIENCE = "https://api.example.com"
ARTIFACTS = ROOT / "test-artifacts"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- the logic, under Node's test runner -----------------------------------------------------


def test_node_unit_tests_pass() -> None:
    node = shutil.which("node") or "/usr/bin/node"
    result = subprocess.run(
        [node, "--test", "tests/js/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"node --test failed:\n{output}"
    passed = re.search(r"^# pass (\d+)$", output, re.M)
    failed = re.search(r"^# fail (\d+)$", output, re.M)
    assert passed and int(passed[1]) > 50, f"node reported no passing tests:\n{output}"
    assert failed and int(failed[1]) == 0, output


def test_rfc_example_is_reconstructed_exactly() -> None:
    signing_input = f"{b64url(RFC_HEADER)}.{b64url(RFC_PAYLOAD)}"
    mac = hmac.new(b64url_decode(RFC_KEY), signing_input.encode(), "sha256").digest()
    assert f"{signing_input}.{b64url(mac)}" == RFC_TOKEN
    header, payload, _ = RFC_TOKEN.split(".")
    assert json.loads(b64url_decode(header)) == {"typ": "JWT", "alg": "HS256"}
    assert json.loads(b64url_decode(payload)) == {
        "iss": "joe",
        "exp": 1300819380,
        "http://example.com/is_root": True,
    }


# --- the page in Chromium --------------------------------------------------------------------


class Visit:
    """The inspector page with its problem watch and every request made after load."""

    def __init__(self, page: Page, watch: PageWatch) -> None:
        self.page = page
        self.watch = watch
        self.after_load: list[str] = []
        # Chromium fetches the page's favicon on its own schedule, sometimes after load;
        # that request is the browser's, not the inspector's, so it is not counted.
        self.icon = page.evaluate("document.querySelector('link[rel~=icon]')?.href")
        page.on(
            "request",
            lambda request: request.url == self.icon or self.after_load.append(request.url),
        )

    def paste(self, token: str) -> None:
        self.page.locator("#tki-token").fill(token)

    def warnings(self) -> list[str]:
        return self.page.locator("#tki-warnings li").evaluate_all(
            "items => items.map(li => li.dataset.code)"
        )

    def json_of(self, selector: str) -> dict:
        return json.loads(self.page.locator(selector).text_content() or "")

    def check_clean(self) -> None:
        assert not self.watch.problems, self.watch.problems
        assert self.after_load == [], f"requests after load: {self.after_load}"


def open_inspector(
    chromium: Browser, base_url: str, color_scheme: str = "light"
) -> Iterator[Visit]:
    viewport = {"width": 1100, "height": 900}
    context = chromium.new_context(color_scheme=color_scheme, viewport=viewport)
    page = context.new_page()
    watch = PageWatch(page)
    response = watch.visit(base_url + "inspector/")
    assert response is not None and response.ok
    expect(page.locator("#tki-token")).to_be_visible()
    visit = Visit(page, watch)
    try:
        yield visit
    finally:
        context.close()


@pytest.fixture
def inspector(browser: Browser, site_url: str) -> Iterator[Visit]:
    yield from open_inspector(browser, site_url)


def relative_luminance(css_color: str) -> float:
    r, g, b = (int(v) / 255 for v in re.findall(r"\d+(?:\.\d+)?", css_color)[:3])
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(fg: str, bg: str) -> float:
    hi, lo = sorted((relative_luminance(fg), relative_luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize(("color_scheme", "md_scheme"), [("light", "default"), ("dark", "slate")])
def test_rfc_token_in_light_and_dark(
    browser: Browser, site_url: str, color_scheme: str, md_scheme: str
) -> None:
    for visit in open_inspector(browser, site_url, color_scheme):
        page = visit.page
        assert page.locator("body").get_attribute("data-md-color-scheme") == md_scheme
        visit.paste(RFC_TOKEN)
        expect(page.locator("#tki-result")).to_be_visible()
        assert visit.json_of("#tki-header") == {"typ": "JWT", "alg": "HS256"}
        assert visit.json_of("#tki-payload") == {
            "iss": "joe",
            "exp": 1300819380,
            "http://example.com/is_root": True,
        }
        exp_row = page.locator("#tki-dates tbody tr").first.locator("td").all_text_contents()
        assert exp_row[:3] == ["exp", "1300819380", "2011-03-22T18:43:00.000Z"]
        assert exp_row[3] and exp_row[4].startswith("expired ")
        assert sorted(visit.warnings()) == ["expired", "no-aud"]
        sizes = dict(
            tuple(row.locator("td").all_text_contents())
            for row in page.locator("#tki-sizes tbody tr").all()
        )
        assert sizes["Whole token"] == str(len(RFC_TOKEN))
        # The RFC's key is raw bytes, given as base64url.
        page.locator("#tki-secret").fill(RFC_KEY)
        page.locator("#tki-secret-b64").check()
        page.locator("#tki-verify").click()
        expect(page.locator("#tki-verify-result")).to_have_attribute("data-status", "valid")
        # Text reads well on this palette: WCAG AA contrast for the decoded JSON and a warning.
        for selector in ("#tki-payload", "#tki-warnings li", "#tki-status"):
            fg, bg = page.locator(selector).first.evaluate(
                "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]"
            )
            assert contrast(fg, bg) >= 4.5, (selector, fg, bg)
        # The reverse converter, filled in too so the screenshot shows the whole tool.
        page.locator("#tki-record").fill('{"sub": "user-42", "roles": ["reader"]}')
        expect(page.locator("#tki-unsigned")).to_have_text(re.compile(r"^eyJ[\w-]+\.eyJ[\w-]+\.$"))
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"inspector-{color_scheme}.png"
        # The sticky site header would be painted over the middle of a long element shot.
        page.locator("article").screenshot(path=shot, style=".md-header { visibility: hidden }")
        data = shot.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
        visit.check_clean()


def snippet_tokens() -> list[tuple[str, str, bytes | None]]:
    """(label, token, HMAC secret or None) issued by the project's own snippets."""
    tokens = [("quickstart HS256", issue_token("user-42", SECRET), SECRET)]
    common = {"kid": "k1", "issuer": ISSUER, "audience": AUDIENCE}
    tokens.append(
        (
            "tokens HS256",
            issue_access_token(
                "user-7",
                SECRET,
                algorithm="HS256",
                **common,
                extra_claims={"name": "Siobhan O'Brien", "roles": ["reader"]},
            ),
            SECRET,
        )
    )
    for alg in ("RS256", "ES256", "EdDSA"):
        key = generate_private_key(alg)
        tokens.append(
            (f"tokens {alg}", issue_access_token("user-9", key, algorithm=alg, **common), None)
        )
    return tokens


def test_tokens_from_the_snippets(inspector: Visit) -> None:
    page = inspector.page
    for label, token, secret in snippet_tokens():
        inspector.paste(token)
        expect(page.locator("#tki-status")).to_have_attribute("data-kind", "ok")
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
        assert inspector.json_of("#tki-header") == header, label
        assert inspector.json_of("#tki-payload") == claims, label
        assert inspector.warnings() == ["none"], label
        dates = {
            row.locator("td").first.text_content(): row.locator("td").all_text_contents()
            for row in page.locator("#tki-dates tbody tr").all()
        }
        assert dates["exp"][4].startswith("expires in 1"), (label, dates["exp"])  # 14-15 min
        page.locator("#tki-secret").fill(secret.decode() if secret else "anything")
        page.locator("#tki-verify").click()
        result = page.locator("#tki-verify-result")
        if secret is None:
            expect(result).to_have_attribute("data-status", "not-applicable")
            continue
        expect(result).to_have_attribute("data-status", "valid")
        page.locator("#tki-secret").fill(secret.decode() + "x")
        page.locator("#tki-secret").press("Enter")
        expect(result).to_have_attribute("data-status", "invalid")
        # The server expects another algorithm: the page says so.
        page.locator("#tki-expected-alg").select_option("RS256")
        assert inspector.warnings() == ["alg-unexpected"], label
        page.locator("#tki-expected-alg").select_option("")
    inspector.check_clean()


def test_as_a_session_the_redis_commands_work(
    inspector: Visit, redis_url: str, key_prefix: str
) -> None:
    page = inspector.page
    token = issue_access_token(
        "user-7",
        SECRET,
        algorithm="HS256",
        kid="k1",
        issuer=ISSUER,
        audience=AUDIENCE,
        lifetime=timedelta(minutes=5),
        extra_claims={"name": "Siobhan O'Brien", "roles": ["r"]},
    )
    inspector.paste(token)
    key = page.locator("#tki-session-key")
    expect(key).to_have_text(re.compile(r"^session:[0-9a-f]{64}$"))
    session_id = page.locator("#tki-session-id").text_content() or ""
    assert len(b64url_decode(session_id)) == 16 and b64url(b64url_decode(session_id)) == session_id
    assert key.text_content() == session_key("", session_id)  # the quick start's layout
    record = inspector.json_of("#tki-session-record")
    assert record.pop("created_at") > 0
    assert record == {"name": "Siobhan O'Brien", "roles": ["r"], "sub": "user-7"}
    sizes = {
        row.locator("td").first.text_content(): row.locator("td").all_text_contents()[1:]
        for row in page.locator("#tki-session-sizes tbody tr").all()
    }
    sent = sizes["Sent by the browser on every request"]
    assert sent[0].startswith(f"{len('Cookie: session=' + session_id)} bytes")
    assert sent[1].startswith(f"{len('Authorization: Bearer ' + token)} bytes")
    # A fresh ID on request.
    page.locator("#tki-new-id").click()
    expect(page.locator("#tki-session-id")).not_to_have_text(session_id)

    # The commands, typed into redis-cli, store and read the record (under this test's prefix).
    commands = (page.locator("#tki-redis").text_content() or "").splitlines()
    assert commands[0].startswith("SET session:") and commands[0].endswith(" EX 1800 NX")
    script = "\n".join(c.replace("session:", f"{key_prefix}session:", 1) for c in commands[:2])
    out = subprocess.run(
        [shutil.which("redis-cli") or "redis-cli", "-u", redis_url],
        input=script + "\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout.splitlines()
    assert out[0] == "OK"
    assert json.loads(out[1]) == json.loads(page.locator("#tki-session-record").text_content())
    inspector.check_clean()


def test_session_record_to_unsigned_token(inspector: Visit) -> None:
    page = inspector.page
    record = {"sub": "user-42", "roles": ["reader"], "exp": 2_000_000_000, "iss": "a", "aud": "b"}
    page.locator("#tki-record").fill(json.dumps(record, indent=2))
    out = page.locator("#tki-unsigned")
    expect(out).to_be_visible()
    token = out.text_content() or ""
    header, payload, signature = token.split(".")
    assert signature == ""
    assert json.loads(b64url_decode(header)) == {"alg": "HS256", "typ": "JWT"}
    assert json.loads(b64url_decode(payload)) == record
    status = page.locator("#tki-record-status").text_content() or ""
    assert status.startswith(f"UNSIGNED: {len(token)} bytes")
    page.locator("#tki-record").fill("[1, 2]")
    expect(page.locator("#tki-record-status")).to_contain_text("must be a JSON object")
    expect(out).to_be_hidden()
    inspector.check_clean()


def test_bad_input_gives_a_clear_message(inspector: Visit) -> None:
    page = inspector.page
    header = b64url(b'{"alg":"HS256","typ":"JWT"}')
    payload = b64url(b'{"sub":"u1","exp":2000000000}')
    cases = [
        ("", "empty", "Paste a token"),
        ("just some random text", "shape", "Not a JWT"),
        ("x" * (1024 * 1024), "too-large", "far too large for any HTTP header or cookie"),
        (f"{header}.{payload}==.sig", "malformed", "payload segment, character"),
        (f"{header}.{b64url(b'{sub: 1}')}.sig", "malformed", "payload segment is not valid JSON"),
        (f"{header}.a.b.c.d", "jwe", "encrypted token (JWE)"),
        (RFC_TOKEN, "ok", "Decoded"),
    ]
    status = page.locator("#tki-status")
    for text, kind, message in cases:
        inspector.paste(text)
        expect(status).to_have_attribute("data-kind", kind)
        expect(status).to_contain_text(message)
        if kind != "ok":
            expect(page.locator("#tki-result")).to_be_hidden()
    # Hostile content stays text: markup in a claim is shown, never parsed.
    markup = b64url(json.dumps({"x": "<img src=x onerror=alert(1)>"}).encode())
    evil = f"{header}.{markup}.sig"
    inspector.paste(evil)
    expect(page.locator("#tki-payload")).to_contain_text("<img src=x onerror=alert(1)>")
    assert page.locator("#tki-inspect img").count() == 0
    inspector.check_clean()
