// Unit tests of the token inspector's logic (docs/assets/inspector/inspect.js).
// Run: node --test tests/js/
import { createHmac } from "node:crypto";
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  COOKIE_LIMIT_BYTES,
  MAX_INPUT_BYTES,
  decodeSegment,
  decodeToken,
  describeDates,
  encodeBase64url,
  findSensitiveClaims,
  formatDuration,
  keyLooksSensitive,
  luhnValid,
  newSessionId,
  redisCliQuote,
  sessionFromClaims,
  sha256Hex,
  unsignedJwtFromJson,
  valueLooksSensitive,
  verifyHs256,
} from "../../docs/assets/inspector/inspect.js";

// RFC 7519 section 3.1, and its HMAC key from RFC 7515 appendix A.1.
const RFC_TOKEN =
  "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9" +
  ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ" +
  ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const RFC_KEY = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
const NOW = 1_700_000_000;
const SECRET = "a-test-secret-of-at-least-32-bytes!!";

const b64 = (text) => Buffer.from(text).toString("base64url");

// A token signed with node:crypto, independent of the module under test.
function sign(payload, { header = { alg: "HS256", typ: "JWT" }, secret = SECRET } = {}) {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

const GOOD = { iss: "https://auth.example.com", aud: "https://api.example.com", sub: "user-42", iat: NOW, exp: NOW + 900 };
const codes = (result) => result.warnings.map((w) => w.code);

describe("strict base64url", () => {
  test("decodes what Node's base64url encoder wrote, at every length", () => {
    for (let n = 0; n < 40; n += 1) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      const text = Buffer.from(bytes).toString("base64url");
      assert.deepEqual([...decodeSegment(text)], [...bytes]);
      assert.equal(encodeBase64url(bytes), text);
    }
  });
  test("refuses '=' padding and says where", () => {
    assert.throws(() => decodeSegment("eyJhIjoxfQ==", "payload", 10), (e) => {
      assert.equal(e.segment, "payload");
      assert.equal(e.index, 10);
      assert.equal(e.offset, 20);
      assert.match(e.message, /payload segment, character 11 \(position 21 of the token\)/);
      assert.match(e.message, /padding/);
      return true;
    });
  });
  test("refuses standard base64 characters, whitespace and other characters", () => {
    assert.throws(() => decodeSegment("ab+c", "header"), /'\+' is standard base64/);
    assert.throws(() => decodeSegment("ab/c", "header"), /'\/' is standard base64/);
    assert.throws(() => decodeSegment("ab c", "header"), /whitespace/);
    assert.throws(() => decodeSegment("ab\u0000c", "header"), /control character U\+0000/);
    assert.throws(() => decodeSegment("abé", "header"), /'é' is not a base64url character/);
  });
  test("refuses an impossible length and non-canonical trailing bits", () => {
    assert.throws(() => decodeSegment("abcde", "signature"), /length \(5\) is impossible/);
    assert.throws(() => decodeSegment("QR", "signature"), /unused low bits/); // canonical: "QQ"
    assert.deepEqual([...decodeSegment("QQ")], [65]);
  });
});

describe("decoding", () => {
  test("the RFC 7519 example decodes to its header and claims", () => {
    const r = decodeToken(RFC_TOKEN, { now: NOW });
    assert.equal(r.ok, true);
    assert.deepEqual(r.header, { typ: "JWT", alg: "HS256" });
    assert.deepEqual(r.payload, { iss: "joe", exp: 1300819380, "http://example.com/is_root": true });
    assert.equal(r.headerJson, '{"typ":"JWT",\r\n "alg":"HS256"}');
    assert.equal(r.sizes.token, RFC_TOKEN.length);
    assert.equal(r.sizes.signature, 32);
    assert.equal(r.sizes.authorizationHeader, "Authorization: Bearer ".length + RFC_TOKEN.length);
    const [exp] = r.dates;
    assert.equal(exp.utc, "2011-03-22T18:43:00.000Z");
    assert.equal(exp.local, new Date(1300819380 * 1000).toLocaleString());
    assert.match(exp.relative, /^expired 12\.6 years ago$/);
    assert.deepEqual(codes(r).sort(), ["expired", "no-aud"]);
  });
  test("surrounding whitespace and a Bearer prefix are ignored", () => {
    const r = decodeToken(`  Bearer ${RFC_TOKEN}\n`, { now: NOW });
    assert.equal(r.ok, true);
    assert.equal(r.token, RFC_TOKEN);
  });
  const failures = [
    ["empty input", "", "empty", /Paste a token/],
    ["only whitespace", " \n\t ", "empty", /Paste a token/],
    ["random text", "hello world, this is not a token", "shape", /has no dot/],
    ["two parts", "abc.def", "shape", /has 1 dots|has 1 dot/],
    ["four parts", "a.b.c.d", "shape", /has 3 dots/],
    ["non-string input", undefined, "empty", /Paste a token/],
  ];
  for (const [name, input, kind, message] of failures) {
    test(`${name} gives a clear message`, () => {
      const r = decodeToken(input, { now: NOW });
      assert.equal(r.ok, false);
      assert.equal(r.error.kind, kind);
      assert.match(r.error.message, message);
    });
  }
  test("a 1 MB paste is refused without decoding it", () => {
    const huge = `${"e".repeat(1024 * 1024)}.x.y`;
    const started = performance.now();
    const r = decodeToken(huge, { now: NOW });
    assert.equal(r.ok, false);
    assert.equal(r.error.kind, "too-large");
    assert.match(r.error.message, /far too large for any HTTP header or cookie/);
    assert.ok(performance.now() - started < 50);
  });
  test("just over the cap in bytes (multi-byte characters) is refused too", () => {
    const r = decodeToken("é".repeat(MAX_INPUT_BYTES / 2 + 1), { now: NOW });
    assert.equal(r.error.kind, "too-large");
  });
  test("a JWE (five parts) is named as encrypted, with its header's alg and enc", () => {
    const jwe = `${b64('{"alg":"RSA-OAEP","enc":"A256GCM"}')}.a.b.c.d`;
    const r = decodeToken(jwe, { now: NOW });
    assert.equal(r.error.kind, "jwe");
    assert.match(r.error.message, /encrypted token \(JWE\)/);
    assert.match(r.error.message, /alg "RSA-OAEP", enc "A256GCM"/);
    assert.equal(decodeToken("a.b.c.d.e").error.kind, "jwe");
  });
  test("invalid base64url names the segment and the position in the token", () => {
    const [h, p, s] = sign(GOOD).split(".");
    const r = decodeToken(`${h}.${p.slice(0, 5)}=${p.slice(6)}.${s}`, { now: NOW });
    assert.equal(r.error.kind, "malformed");
    assert.equal(r.error.segment, "payload");
    assert.equal(r.error.index, 5);
    assert.equal(r.error.offset, h.length + 1 + 5);
    assert.match(r.error.message, /payload segment, character 6/);
    const bad = decodeToken(`${h}.${p}.${s.slice(0, -1)}+`, { now: NOW });
    assert.equal(bad.error.segment, "signature");
  });
  test("invalid JSON names the segment", () => {
    const r = decodeToken(`${b64('{"alg":"HS256"')}.${b64("{}")}.`, { now: NOW });
    assert.equal(r.error.segment, "header");
    assert.match(r.error.message, /^The header segment is not valid JSON: /);
    const p = decodeToken(`${b64('{"alg":"HS256"}')}.${b64("{'sub': 1}")}.`, { now: NOW });
    assert.match(p.error.message, /^The payload segment is not valid JSON: /);
  });
  test("JSON that is not an object, bytes that are not UTF-8 and empty segments are refused", () => {
    assert.match(decodeToken(`${b64("[1]")}.${b64("{}")}.`).error.message, /header segment is JSON but not an object \(found an array\)/);
    assert.match(decodeToken(`${b64("{}")}.${b64("42")}.`).error.message, /payload segment is JSON but not an object \(found 42\)/);
    const latin1 = Buffer.from([0x7b, 0xe9, 0x7d]).toString("base64url");
    assert.match(decodeToken(`${b64("{}")}.${latin1}.`).error.message, /payload segment decodes to bytes that are not UTF-8/);
    assert.match(decodeToken(`.${b64("{}")}.`).error.message, /header segment is empty/);
    assert.match(decodeToken(`${b64("{}")}..`).error.message, /payload segment is empty/);
  });
});

describe("warnings", () => {
  test("a well-formed short-lived token has none", () => {
    assert.deepEqual(codes(decodeToken(sign(GOOD), { now: NOW })), []);
  });
  test("alg none (any case) and an empty signature", () => {
    const none = decodeToken(`${b64('{"alg":"none"}')}.${b64(JSON.stringify(GOOD))}.`, { now: NOW });
    assert.deepEqual(codes(none), ["alg-none"]);
    const upper = decodeToken(`${b64('{"alg":"NoNe"}')}.${b64(JSON.stringify(GOOD))}.`, { now: NOW });
    assert.deepEqual(codes(upper), ["alg-none"]);
    const stripped = decodeToken(`${sign(GOOD).split(".").slice(0, 2).join(".")}.`, { now: NOW });
    assert.deepEqual(codes(stripped), ["no-signature"]);
  });
  test("an unexpected algorithm: not the one the server expects, or not a standard one", () => {
    const hs = sign(GOOD);
    assert.deepEqual(codes(decodeToken(hs, { now: NOW, expectedAlg: "RS256" })), ["alg-unexpected"]);
    assert.deepEqual(codes(decodeToken(hs, { now: NOW, expectedAlg: "HS256" })), []);
    const odd = decodeToken(sign(GOOD, { header: { alg: "HS1" } }), { now: NOW });
    assert.deepEqual(codes(odd), ["alg-unexpected"]);
    assert.deepEqual(codes(decodeToken(sign(GOOD, { header: { typ: "JWT" } }), { now: NOW })), ["alg-missing"]);
  });
  test("a key the header names for itself (jku, x5u, jwk)", () => {
    const r = decodeToken(sign(GOOD, { header: { alg: "RS256", jku: "https://evil.example/keys" } }), { now: NOW });
    assert.deepEqual(codes(r), ["header-jku"]);
  });
  test("no exp, or exp that is not a number", () => {
    const { exp, ...noExp } = GOOD;
    assert.ok(exp);
    assert.deepEqual(codes(decodeToken(sign(noExp), { now: NOW })), ["no-exp"]);
    const r = decodeToken(sign({ ...GOOD, exp: "2030-01-01" }), { now: NOW });
    assert.deepEqual(codes(r), ["exp-not-number"]);
    assert.match(r.dates.find((d) => d.claim === "exp").problem, /a string, not a NumericDate/);
  });
  test("a lifetime over an hour, from iat or, without iat, from now", () => {
    const long = decodeToken(sign({ ...GOOD, exp: NOW + 3601 }), { now: NOW });
    assert.deepEqual(codes(long), ["long-lifetime"]);
    assert.match(long.warnings[0].message, /lifetime \(exp - iat\) is 1 h 0 min/);
    assert.deepEqual(codes(decodeToken(sign({ ...GOOD, exp: NOW + 3600 }), { now: NOW })), []);
    const { iat, ...noIat } = GOOD;
    assert.ok(iat);
    const later = decodeToken(sign({ ...noIat, exp: NOW + 86400 * 30 }), { now: NOW });
    assert.deepEqual(codes(later), ["long-lifetime"]);
    assert.match(later.warnings[0].message, /stays valid for another 30 d 0 h/);
  });
  test("expired and not yet valid", () => {
    assert.deepEqual(codes(decodeToken(sign(GOOD), { now: NOW + 901 })), ["expired"]);
    assert.deepEqual(codes(decodeToken(sign({ ...GOOD, nbf: NOW + 60 }), { now: NOW })), ["not-yet-valid"]);
  });
  test("missing aud and iss", () => {
    const { aud, iss, ...rest } = GOOD;
    assert.ok(aud && iss);
    assert.deepEqual(codes(decodeToken(sign(rest), { now: NOW })), ["no-aud", "no-iss"]);
  });
  test("sensitive claims are reported with their path", () => {
    const r = decodeToken(sign({ ...GOOD, email: "joe@example.com", profile: { card_number: "x" } }), { now: NOW });
    assert.deepEqual(codes(r), ["sensitive-claim", "sensitive-claim"]);
    assert.match(r.warnings[0].message, /^Claim email: /);
    assert.match(r.warnings[1].message, /^Claim profile\.card_number: /);
  });
  test("a token over 4096 bytes is too large for a cookie", () => {
    const pad = (n) => sign({ ...GOOD, roles: "r".repeat(n) });
    let n = 2800;
    while (pad(n).length <= COOKIE_LIMIT_BYTES) n += 1;
    assert.equal(pad(n).length, COOKIE_LIMIT_BYTES + 1);
    assert.deepEqual(codes(decodeToken(pad(n), { now: NOW })), ["too-large-for-cookie"]);
    assert.equal(pad(n - 1).length <= COOKIE_LIMIT_BYTES, true);
    assert.deepEqual(codes(decodeToken(pad(n - 1), { now: NOW })), []);
  });
});

describe("sensitive-claim detection", () => {
  for (const key of [
    "email", "Email", "user_email", "emailAddress", "password", "pwd", "passwd", "secret",
    "client_secret", "ssn", "card", "cardNumber", "cc", "cc_number", "cvv", "iban", "national_id",
    "nationalId", "NationalID", "social_security_number", "credit_card", "passport", "tax_id",
  ]) {
    test(`key name ${key}`, () => assert.equal(keyLooksSensitive(key), true));
  }
  for (const key of ["sub", "iss", "roles", "scope", "name", "account", "accent", "success", "ccy2", "discard"]) {
    test(`harmless key name ${key}`, () => assert.equal(keyLooksSensitive(key), false));
  }
  test("email values", () => {
    assert.equal(valueLooksSensitive("joe@example.com"), "an email address");
    assert.equal(valueLooksSensitive("Joe <joe.bloggs+x@mail.example.co.uk>"), "an email address");
    assert.equal(valueLooksSensitive("joe@localhost"), null);
    assert.equal(valueLooksSensitive("https://auth.example.com"), null);
  });
  test("Luhn", () => {
    assert.equal(luhnValid("4111111111111111"), true);
    assert.equal(luhnValid("4111111111111112"), false);
    assert.equal(luhnValid("79927398713"), true);
    assert.equal(luhnValid("12a4"), false);
  });
  test("card numbers: 13 to 19 Luhn-valid digits, as strings with separators or as numbers", () => {
    assert.match(valueLooksSensitive("4111 1111 1111 1111"), /payment card/);
    assert.match(valueLooksSensitive("card 4111-1111-1111-1111 on file"), /payment card/);
    assert.match(valueLooksSensitive(4111111111111111), /payment card/);
    assert.match(valueLooksSensitive("378282246310005"), /payment card/); // 15-digit Amex test number
    assert.equal(valueLooksSensitive("4111111111111112"), null); // fails Luhn
    assert.equal(valueLooksSensitive("411111111111"), null); // 12 digits: too short
    assert.equal(valueLooksSensitive(1300819380), null);
  });
  test("US social security numbers", () => {
    assert.equal(valueLooksSensitive("123-45-6789"), "a US social security number");
    assert.equal(valueLooksSensitive("SSN 123-45-6789."), "a US social security number");
    for (const no of ["000-45-6789", "666-45-6789", "900-45-6789", "123-00-6789", "123-45-0000", "1123-45-6789", "2024-01-15"]) {
      assert.equal(valueLooksSensitive(no), null, no);
    }
  });
  test("walks nested claims and arrays; skips booleans, empty values and date claims", () => {
    const found = findSensitiveClaims({
      email_verified: true,
      password: "",
      exp: 4111111111111111,
      contacts: [{ note: "mail 123-45-6789" }],
      sub: "joe@example.com",
    });
    assert.deepEqual(found.map((f) => f.path), ["contacts[0].note", "sub"]);
  });
});

describe("dates", () => {
  test("UTC, local and relative for iat, nbf and exp, relative to the injected now", () => {
    const rows = describeDates({ iat: NOW - 60, nbf: NOW + 30, exp: NOW + 900 }, NOW);
    assert.deepEqual(rows.map((r) => r.claim), ["iat", "nbf", "exp"]);
    assert.equal(rows[0].utc, "2023-11-14T22:12:20.000Z");
    assert.equal(rows[0].relative, "issued 1 min 0 s ago");
    assert.equal(rows[1].relative, "not valid for another 30 s");
    assert.equal(rows[2].relative, "expires in 15 min 0 s");
    assert.equal(rows[2].local, new Date((NOW + 900) * 1000).toLocaleString());
  });
  test("values out of range or of the wrong type become a problem, not a crash", () => {
    const [exp] = describeDates({ exp: 1e20 }, NOW);
    assert.match(exp.problem, /out of the range/);
    const [nbf] = describeDates({ nbf: null }, NOW);
    assert.match(nbf.problem, /a null, not a NumericDate/);
  });
  test("durations read naturally", () => {
    assert.equal(formatDuration(5), "5 s");
    assert.equal(formatDuration(-3700), "1 h 1 min");
    assert.equal(formatDuration(90000), "1 d 1 h");
  });
});

describe("HS256 signature check (WebCrypto)", () => {
  test("valid with the right secret, invalid with a wrong one or after tampering", async () => {
    const token = sign(GOOD);
    assert.equal((await verifyHs256(token, SECRET)).status, "valid");
    assert.equal((await verifyHs256(token, `${SECRET}x`)).status, "invalid");
    const [h, , s] = token.split(".");
    const forged = `${h}.${b64(JSON.stringify({ ...GOOD, sub: "admin" }))}.${s}`;
    assert.equal((await verifyHs256(forged, SECRET)).status, "invalid");
  });
  test("the RFC example verifies with the RFC's base64url key", async () => {
    assert.equal((await verifyHs256(RFC_TOKEN, RFC_KEY, { secretEncoding: "base64url" })).status, "valid");
    assert.equal((await verifyHs256(RFC_TOKEN, RFC_KEY)).status, "invalid");
    assert.equal((await verifyHs256(RFC_TOKEN, "not base64url!", { secretEncoding: "base64url" })).status, "error");
  });
  test("other algorithms, malformed tokens and an empty secret are reported, not thrown", async () => {
    const rs = await verifyHs256(sign(GOOD, { header: { alg: "RS256" } }), SECRET);
    assert.equal(rs.status, "not-applicable");
    assert.match(rs.message, /HS256 only; the token says alg "RS256"/);
    assert.equal((await verifyHs256("nope", SECRET)).status, "error");
    assert.equal((await verifyHs256(sign(GOOD), "")).status, "error");
  });
});

describe("as a session", () => {
  test("session IDs carry 128 random bits from the given source, base64url", () => {
    const fixed = newSessionId((a) => a.fill(255));
    assert.equal(fixed, "_____________________w");
    assert.equal(Buffer.from(fixed, "base64url").length, 16);
    const ids = new Set(Array.from({ length: 100 }, () => newSessionId()));
    assert.equal(ids.size, 100);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{22}$/);
  });
  test("SHA-256 hex", async () => {
    assert.equal(await sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
  test("the record keeps the user's claims, drops token-only ones, and the Redis commands store it", () => {
    const payload = { ...GOOD, jti: "j1", roles: ["reader"], name: "O'Brien" };
    const id = "AAAAAAAAAAAAAAAAAAAAAA";
    const s = sessionFromClaims(payload, { id, idHash: "ab".repeat(32), now: NOW + 0.7, tokenBytes: 300, authorizationHeaderBytes: 322 });
    assert.deepEqual(s.record, { sub: "user-42", roles: ["reader"], name: "O'Brien", created_at: NOW });
    assert.deepEqual(s.dropped.sort(), ["aud", "exp", "iat", "iss", "jti"]);
    assert.equal(s.key, `session:${"ab".repeat(32)}`);
    assert.equal(s.redisCommands[0], `SET ${s.key} '{"sub":"user-42","roles":["reader"],"name":"O\\'Brien","created_at":${NOW}}' EX 1800 NX`);
    assert.deepEqual(s.redisCommands.slice(1), [`GET ${s.key}`, `EXPIRE ${s.key} 1800`, `DEL ${s.key}`]);
    assert.equal(s.cookieHeader, `Cookie: session=${id}`);
    assert.equal(s.sizes.cookieHeader, 38);
    assert.equal(s.sizes.record, Buffer.byteLength(s.recordJson));
    assert.equal(s.sizes.stored, s.key.length + s.sizes.record);
    assert.equal(s.sizes.token, 300);
  });
  test("redis-cli quoting escapes only single quotes", () => {
    assert.equal(redisCliQuote(`a'b\\c"d`), `'a\\'b\\c"d'`);
  });
});

describe("the reverse: a session record as an unsigned JWT", () => {
  test("header and payload encoded, a trailing dot and no signature", () => {
    const record = { sub: "user-42", roles: ["reader"], exp: NOW + 600, iss: "me", aud: "you" };
    const r = unsignedJwtFromJson(JSON.stringify(record, null, 2), { now: NOW });
    assert.equal(r.ok, true);
    const [h, p, s] = r.token.split(".");
    assert.equal(s, "");
    assert.deepEqual(JSON.parse(Buffer.from(h, "base64url")), { alg: "HS256", typ: "JWT" });
    assert.deepEqual(JSON.parse(Buffer.from(p, "base64url")), record);
    assert.equal(r.size, r.token.length);
    assert.equal(r.signedSize, sign(record).length);
    assert.deepEqual(r.warnings, []);
    assert.equal(decodeToken(r.token, { now: NOW }).ok, true);
  });
  test("a record without exp or with personal data carries those warnings", () => {
    const r = unsignedJwtFromJson('{"sub": "u1", "email": "u1@example.com"}', { now: NOW });
    assert.deepEqual(r.warnings.map((w) => w.code), ["no-exp", "no-aud", "no-iss", "sensitive-claim"]);
  });
  test("bad input gives a clear message", () => {
    assert.match(unsignedJwtFromJson("").error.message, /Paste a session record/);
    assert.match(unsignedJwtFromJson("{sub: 1}").error.message, /not valid JSON/);
    assert.match(unsignedJwtFromJson("[1, 2]").error.message, /must be a JSON object/);
    assert.match(unsignedJwtFromJson("x".repeat(MAX_INPUT_BYTES + 1)).error.message, /far too large/);
  });
});
