// The token inspector's logic: pure functions, no DOM, no network.
// Every input here may be hostile; nothing in this module throws on bad input except where a
// function's comment says so (decodeSegment, which decodeToken catches).

export const MAX_INPUT_BYTES = 64 * 1024; // far above any header or cookie a server accepts
export const COOKIE_LIMIT_BYTES = 4096; // what browsers keep for one cookie (name, value, attributes)
export const MAX_LIFETIME_SECONDS = 3600;
export const SESSION_TTL_SECONDS = 1800;
export const SESSION_ID_BYTES = 16; // 128 bits from the browser's CSPRNG
export const SIGNED_ALGORITHMS = [
  "HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
  "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
];
export const SEGMENT_NAMES = ["header", "payload", "signature"];
// Claims that only make sense inside a token: a server-side store replaces each of them.
export const TOKEN_ONLY_CLAIMS = ["iss", "aud", "exp", "nbf", "iat", "jti"];
export const UNSIGNED_HEADER = { alg: "HS256", typ: "JWT" };

const encoder = new TextEncoder();
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const VALUES = new Map([...ALPHABET].map((c, i) => [c, i]));

export function byteLength(text) {
  return encoder.encode(text).length;
}

export class DecodeError extends Error {
  constructor(message, { segment = null, index = null, offset = null } = {}) {
    super(message);
    this.name = "DecodeError";
    this.segment = segment; // "header", "payload", "signature" or null
    this.index = index; // 0-based character index inside the segment
    this.offset = offset; // 0-based character index inside the whole token
  }
}

// Strict base64url (RFC 7515 section 2): the 64-character URL-safe alphabet, no padding, no
// whitespace, no leftover bits. `start` is the segment's offset in the token, for messages.
export function decodeSegment(text, name = "segment", start = 0) {
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let n = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    const v = VALUES.get(c);
    if (v === undefined) {
      const where = `the ${name} segment, character ${i + 1} (position ${start + i + 1} of the token)`;
      let why = `${describeChar(c)} is not a base64url character`;
      if (c === "=") why = "'=' padding is not allowed in a JWT (base64url without padding)";
      else if (c === "+" || c === "/") why = `'${c}' is standard base64, not base64url (which uses '-' and '_')`;
      else if (/\s/.test(c)) why = "whitespace inside a token";
      throw new DecodeError(`Invalid base64url in ${where}: ${why}.`, {
        segment: name, index: i, offset: start + i,
      });
    }
    value = (value << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n] = (value >> bits) & 0xff;
      n += 1;
      value &= (1 << bits) - 1;
    }
  }
  if (text.length % 4 === 1) {
    throw new DecodeError(
      `Invalid base64url in the ${name} segment: its length (${text.length}) is impossible ` +
        "for base64url; the segment is truncated or has one character too many.",
      { segment: name, index: text.length - 1, offset: start + text.length - 1 },
    );
  }
  if (value !== 0) {
    const i = text.length - 1;
    throw new DecodeError(
      `Invalid base64url in the ${name} segment, character ${i + 1} (position ${start + i + 1} ` +
        "of the token): its unused low bits are not zero, so this is not the canonical encoding.",
      { segment: name, index: i, offset: start + i },
    );
  }
  return out.subarray(0, n);
}

function describeChar(c) {
  const code = c.codePointAt(0);
  if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).padStart(4, "0").toUpperCase()}`;
  if (/\s/.test(c)) return "a whitespace character";
  return `'${c}'`;
}

export function encodeBase64url(input) {
  const bytes = typeof input === "string" ? encoder.encode(input) : input;
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += ALPHABET[v >> 18] + ALPHABET[(v >> 12) & 63] + ALPHABET[(v >> 6) & 63] + ALPHABET[v & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const v = bytes[i] << 16;
    out += ALPHABET[v >> 18] + ALPHABET[(v >> 12) & 63];
  } else if (rest === 2) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += ALPHABET[v >> 18] + ALPHABET[(v >> 12) & 63] + ALPHABET[(v >> 6) & 63];
  }
  return out;
}

function decodeJsonSegment(text, name, start) {
  const bytes = decodeSegment(text, name, start);
  let json;
  try {
    json = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new DecodeError(`The ${name} segment decodes to bytes that are not UTF-8 text, so it is not JSON.`, {
      segment: name,
    });
  }
  let value;
  try {
    value = JSON.parse(json);
  } catch (exc) {
    throw new DecodeError(`The ${name} segment is not valid JSON: ${exc.message}.`, { segment: name });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new DecodeError(
      `The ${name} segment is JSON but not an object (found ${Array.isArray(value) ? "an array" : JSON.stringify(value)}); ` +
        `a JWT ${name} must be a JSON object.`,
      { segment: name },
    );
  }
  return { value, json, bytes: bytes.length };
}

function failure(kind, message, extra = {}) {
  return { ok: false, error: { kind, message, segment: null, index: null, offset: null, ...extra } };
}

// Decode a compact JWS. Never throws. Returns {ok: true, ...} or {ok: false, error}.
// options.now: seconds since the epoch (defaults to the clock); options.expectedAlg: the one
// algorithm the reader's server accepts, or "" for any signed algorithm.
export function decodeToken(input, { now = Date.now() / 1000, expectedAlg = "" } = {}) {
  if (typeof input !== "string" || input.trim() === "") {
    return failure("empty", "Paste a token to inspect it.");
  }
  // Cheap check first: a string longer than the cap in UTF-16 units is over it in bytes too.
  const size = input.length > MAX_INPUT_BYTES ? input.length : byteLength(input);
  if (size > MAX_INPUT_BYTES) {
    return failure(
      "too-large",
      `This input is ${formatBytes(size)}: far too large for any HTTP header or cookie ` +
        `(servers usually refuse headers over 8 to 16 KiB). Not decoded; the inspector reads up to ${formatBytes(MAX_INPUT_BYTES)}.`,
      { size },
    );
  }
  let token = input.trim();
  if (/^bearer\s+/i.test(token)) token = token.replace(/^bearer\s+/i, "");
  const parts = token.split(".");
  if (parts.length === 5) {
    let about = "";
    try {
      const header = decodeJsonSegment(parts[0], "header", 0).value;
      about = ` Its header says alg ${JSON.stringify(header.alg)}, enc ${JSON.stringify(header.enc)}.`;
    } catch {
      // the header is unreadable too: say only what the shape tells
    }
    return failure(
      "jwe",
      "This has five parts: it is an encrypted token (JWE), not a signed one. Its claims can " +
        `only be read with the decryption key, which this page does not ask for.${about}`,
    );
  }
  if (parts.length !== 3) {
    const found = parts.length === 1 ? "no dot" : `${parts.length - 1} dots`;
    return failure(
      "shape",
      `Not a JWT: a signed JWT is three base64url segments separated by two dots ` +
        `(header.payload.signature); this input has ${found}.`,
    );
  }
  const starts = [0, parts[0].length + 1, parts[0].length + parts[1].length + 2];
  let header;
  let payload;
  let signature;
  try {
    if (parts[0] === "") throw new DecodeError("The header segment is empty.", { segment: "header", offset: 0 });
    if (parts[1] === "") throw new DecodeError("The payload segment is empty.", { segment: "payload", offset: starts[1] });
    header = decodeJsonSegment(parts[0], "header", starts[0]);
    payload = decodeJsonSegment(parts[1], "payload", starts[1]);
    signature = decodeSegment(parts[2], "signature", starts[2]);
  } catch (exc) {
    if (!(exc instanceof DecodeError)) throw exc;
    return failure("malformed", exc.message, { segment: exc.segment, index: exc.index, offset: exc.offset });
  }
  const tokenBytes = byteLength(token);
  const result = {
    ok: true,
    token,
    parts,
    header: header.value,
    payload: payload.value,
    headerJson: header.json,
    payloadJson: payload.json,
    sizes: {
      token: tokenBytes,
      header: header.bytes,
      payload: payload.bytes,
      signature: signature.length,
      authorizationHeader: byteLength(`Authorization: Bearer ${token}`),
    },
    signatureBytes: signature,
    dates: describeDates(payload.value, now),
  };
  result.warnings = findWarnings(result, { now, expectedAlg });
  return result;
}

// --- dates -------------------------------------------------------------------------------

export function formatDuration(seconds) {
  let s = Math.round(Math.abs(seconds));
  if (s < 60) return `${s} s`;
  const days = Math.floor(s / 86400);
  s -= days * 86400;
  const hours = Math.floor(s / 3600);
  s -= hours * 3600;
  const minutes = Math.floor(s / 60);
  s -= minutes * 60;
  if (days >= 365) return `${(days / 365.25).toFixed(1)} years`;
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${minutes} min`;
  return `${minutes} min ${s} s`;
}

export function formatBytes(n) {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB (${n} bytes)`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB (${n} bytes)`;
}

export function describeDates(payload, now) {
  const rows = [];
  for (const claim of ["iat", "nbf", "exp"]) {
    if (!(claim in payload)) continue;
    const value = payload[claim];
    const row = { claim, value, utc: null, local: null, relative: null, problem: null };
    if (typeof value !== "number" || !Number.isFinite(value)) {
      row.problem = `${claim} is ${typeof value === "string" ? "a string" : `a ${value === null ? "null" : typeof value}`}, not a NumericDate (seconds since 1970)`;
    } else {
      const date = new Date(value * 1000);
      if (Number.isNaN(date.getTime())) {
        row.problem = `${claim} is out of the range of dates`;
      } else {
        row.utc = date.toISOString();
        row.local = date.toLocaleString();
        const delta = value - now;
        if (claim === "exp") {
          row.relative = delta > 0 ? `expires in ${formatDuration(delta)}` : `expired ${formatDuration(delta)} ago`;
        } else if (claim === "nbf") {
          row.relative = delta > 0 ? `not valid for another ${formatDuration(delta)}` : `valid since ${formatDuration(delta)} ago`;
        } else {
          row.relative = delta > 0 ? `issued ${formatDuration(delta)} in the future` : `issued ${formatDuration(delta)} ago`;
        }
      }
    }
    rows.push(row);
  }
  return rows;
}

// --- sensitive claims ----------------------------------------------------------------------

const SENSITIVE_WORDS = new Set([
  "email", "mail", "password", "passwd", "pwd", "passphrase", "secret", "ssn", "card", "cc",
  "ccn", "cvv", "cvc", "iban", "passport", "pin",
]);
const SENSITIVE_JOINED = [
  "nationalid", "socialsecurity", "creditcard", "cardnumber", "taxid", "bankaccount",
  "accountnumber", "driverslicense", "driverlicense",
];
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/;
const DIGIT_RUNS = /\d(?:[ -]?\d){12,18}/g;
const SSN = /(?<!\d)(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?!\d)/;

export function keyLooksSensitive(key) {
  const words = String(key)
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  if (words.some((w) => SENSITIVE_WORDS.has(w))) return true;
  const joined = words.join("");
  return SENSITIVE_JOINED.some((j) => joined.includes(j));
}

export function luhnValid(digits) {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i -= 1) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

// What a value looks like, or null: "an email address", "a payment card number", "a US SSN".
export function valueLooksSensitive(value) {
  let text;
  if (typeof value === "string") text = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) text = String(value);
  else return null;
  if (EMAIL.test(text)) return "an email address";
  for (const match of text.match(DIGIT_RUNS) ?? []) {
    const digits = match.replace(/[ -]/g, "");
    if (digits.length >= 13 && digits.length <= 19 && luhnValid(digits)) return "a payment card number (Luhn-valid)";
  }
  if (SSN.test(text)) return "a US social security number";
  return null;
}

// Every claim (nested ones too) whose name or value looks like personal or secret data.
export function findSensitiveClaims(payload) {
  const found = [];
  const walk = (value, path, key, depth) => {
    if (depth > 20) return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, `${path}[${i}]`, key, depth + 1));
      return;
    }
    if (value !== null && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, k, depth + 1);
      return;
    }
    const top = path.split(/[.[]/)[0];
    if (depth === 1 && ["exp", "iat", "nbf"].includes(top)) return;
    const filled = (typeof value === "string" && value !== "") || typeof value === "number";
    if (key !== null && filled && keyLooksSensitive(key)) {
      found.push({ path, reason: `its name, "${key}", suggests personal or secret data` });
      return;
    }
    const looks = valueLooksSensitive(value);
    if (looks) found.push({ path, reason: `its value looks like ${looks}` });
  };
  walk(payload, "", null, 0);
  return found;
}

// --- warnings ------------------------------------------------------------------------------

function warning(code, level, message) {
  return { code, level, message };
}

// Warnings for a decoded token (the `ok` result of decodeToken, or any object with header,
// payload and sizes.token). Levels: "danger", "warning", "info".
export function findWarnings(decoded, { now = Date.now() / 1000, expectedAlg = "" } = {}) {
  const { header, payload } = decoded;
  const out = [];
  const alg = header.alg;
  if (alg === undefined) {
    out.push(warning("alg-missing", "danger", "The header has no alg: a verifier cannot know how the token is signed."));
  } else if (typeof alg === "string" && alg.toLowerCase() === "none") {
    out.push(warning("alg-none", "danger", `alg is "${alg}": the token is unsigned. A verifier that accepts it lets anyone write any claims.`));
  } else if (expectedAlg && alg !== expectedAlg) {
    out.push(warning("alg-unexpected", "danger", `alg is ${JSON.stringify(alg)} but your server expects ${expectedAlg}: refuse it. Pin the algorithm in the verifier, never read it from the token.`));
  } else if (!SIGNED_ALGORITHMS.includes(alg)) {
    out.push(warning("alg-unexpected", "danger", `alg is ${JSON.stringify(alg)}, not a standard JWS signing algorithm.`));
  }
  for (const key of ["jku", "x5u", "jwk"]) {
    if (key in header) {
      out.push(warning(`header-${key}`, "warning", `The header carries "${key}": a verifier must never fetch or trust a key the token names for itself.`));
    }
  }
  if (decoded.signatureBytes && decoded.signatureBytes.length === 0 && !(typeof alg === "string" && alg.toLowerCase() === "none")) {
    out.push(warning("no-signature", "danger", "The signature segment is empty: this token is unsigned."));
  }
  const exp = payload.exp;
  if (exp === undefined) {
    out.push(warning("no-exp", "danger", "No exp claim: this token never expires. Anyone who copies it keeps access for good."));
  } else if (typeof exp !== "number" || !Number.isFinite(exp)) {
    out.push(warning("exp-not-number", "danger", `exp is ${JSON.stringify(exp)}, not a number of seconds: some libraries accept it, others ignore it.`));
  } else {
    const iat = payload.iat;
    const hasIat = typeof iat === "number" && Number.isFinite(iat);
    const lifetime = exp - (hasIat ? iat : now);
    if (lifetime > MAX_LIFETIME_SECONDS) {
      const what = hasIat ? "Its lifetime (exp - iat) is" : "It stays valid for another";
      out.push(warning("long-lifetime", "warning", `${what} ${formatDuration(lifetime)}, longer than an hour: a stolen token works that long and cannot be recalled without a blocklist.`));
    }
    if (exp <= now) out.push(warning("expired", "info", `The token expired ${formatDuration(now - exp)} ago.`));
  }
  for (const claim of ["iat", "nbf"]) {
    const v = payload[claim];
    if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v))) {
      out.push(warning(`${claim}-not-number`, "warning", `${claim} is ${JSON.stringify(v)}, not a number of seconds.`));
    }
  }
  if (typeof payload.nbf === "number" && payload.nbf > now) {
    out.push(warning("not-yet-valid", "info", `The token is not valid before ${new Date(payload.nbf * 1000).toISOString()}.`));
  }
  if (!("aud" in payload)) {
    out.push(warning("no-aud", "warning", "No aud claim: any service that trusts the same key will accept this token, not only the one it was meant for."));
  }
  if (!("iss" in payload)) {
    out.push(warning("no-iss", "warning", "No iss claim: a verifier cannot check who issued it."));
  }
  for (const hit of findSensitiveClaims(payload)) {
    out.push(warning("sensitive-claim", "warning", `Claim ${hit.path}: ${hit.reason}. A JWT payload is only encoded, not encrypted: anyone holding the token reads it.`));
  }
  const size = decoded.sizes ? decoded.sizes.token : 0;
  if (size > COOKIE_LIMIT_BYTES) {
    out.push(warning("too-large-for-cookie", "warning", `The token is ${size} bytes: over the ${COOKIE_LIMIT_BYTES} bytes a browser keeps for one cookie.`));
  }
  return out;
}

// --- HS256 signature check -------------------------------------------------------------------

// secret: text (UTF-8 bytes) or, with { secretEncoding: "base64url" }, base64url of the key bytes.
// Returns { status: "valid" | "invalid" | "not-applicable" | "error", message }.
export async function verifyHs256(token, secret, { secretEncoding = "text", subtle = globalThis.crypto?.subtle } = {}) {
  const decoded = decodeToken(token);
  if (!decoded.ok) return { status: "error", message: decoded.error.message };
  if (decoded.header.alg !== "HS256") {
    return {
      status: "not-applicable",
      message: `This check handles HS256 only; the token says alg ${JSON.stringify(decoded.header.alg)}.`,
    };
  }
  if (!subtle) return { status: "error", message: "This browser has no WebCrypto (it needs a secure context: https or localhost)." };
  if (typeof secret !== "string" || secret === "") return { status: "error", message: "Type the secret first." };
  let key;
  try {
    key = secretEncoding === "base64url" ? decodeSegment(secret.trim(), "secret") : encoder.encode(secret);
  } catch (exc) {
    return { status: "error", message: exc.message };
  }
  const hmacKey = await subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  const signingInput = encoder.encode(`${decoded.parts[0]}.${decoded.parts[1]}`);
  const valid = await subtle.verify("HMAC", hmacKey, decoded.signatureBytes, signingInput);
  return valid
    ? { status: "valid", message: "Signature valid: this secret signed this header and payload." }
    : { status: "invalid", message: "Signature invalid: wrong secret, or the token was altered." };
}

// --- the same claims as a server-side session --------------------------------------------------

export function newSessionId(getRandomValues = (a) => globalThis.crypto.getRandomValues(a)) {
  return encodeBase64url(getRandomValues(new Uint8Array(SESSION_ID_BYTES)));
}

export async function sha256Hex(text, subtle = globalThis.crypto.subtle) {
  const digest = new Uint8Array(await subtle.digest("SHA-256", encoder.encode(text)));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// The server-side record that would hold these claims: the user's own claims stay, the
// token-only ones go (the store is the issuer, the key is the ID, the TTL is the expiry).
export function sessionRecordFromClaims(payload, { now = Date.now() / 1000 } = {}) {
  const record = {};
  const dropped = [];
  for (const [key, value] of Object.entries(payload)) {
    if (TOKEN_ONLY_CLAIMS.includes(key)) dropped.push(key);
    else record[key] = value;
  }
  record.created_at = Math.floor(now);
  return { record, dropped };
}

// Quote a string for redis-cli: inside single quotes only \' is an escape.
export function redisCliQuote(text) {
  return `'${text.replace(/'/g, "\\'")}'`;
}

export function sessionFromClaims(payload, { id, idHash, now = Date.now() / 1000, ttl = SESSION_TTL_SECONDS, tokenBytes = null, authorizationHeaderBytes = null } = {}) {
  const { record, dropped } = sessionRecordFromClaims(payload, { now });
  const recordJson = JSON.stringify(record);
  const key = `session:${idHash}`;
  const cookieHeader = `Cookie: session=${id}`;
  return {
    id,
    key,
    record,
    recordJson,
    dropped,
    ttl,
    sizes: {
      id: byteLength(id),
      cookieHeader: byteLength(cookieHeader),
      record: byteLength(recordJson),
      stored: byteLength(key) + byteLength(recordJson),
      token: tokenBytes,
      authorizationHeader: authorizationHeaderBytes,
    },
    cookieHeader,
    redisCommands: [
      `SET ${key} ${redisCliQuote(recordJson)} EX ${ttl} NX`,
      `GET ${key}`,
      `EXPIRE ${key} ${ttl}`,
      `DEL ${key}`,
    ],
  };
}

// --- the reverse: a session record as the JWT it would become ----------------------------------

// Never throws. Returns {ok: true, token, header, payload, size, ...} or {ok: false, error}.
export function unsignedJwtFromJson(text, { now = Date.now() / 1000 } = {}) {
  if (typeof text !== "string" || text.trim() === "") return failure("empty", "Paste a session record (a JSON object).");
  if (text.length > MAX_INPUT_BYTES || byteLength(text) > MAX_INPUT_BYTES) {
    return failure("too-large", `This record is over ${formatBytes(MAX_INPUT_BYTES)}: far too large for any token.`);
  }
  let payload;
  try {
    payload = JSON.parse(text);
  } catch (exc) {
    return failure("json", `The session record is not valid JSON: ${exc.message}.`);
  }
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
    return failure("json", "The session record must be a JSON object, like {\"sub\": \"user-42\"}.");
  }
  const headerJson = JSON.stringify(UNSIGNED_HEADER);
  const payloadJson = JSON.stringify(payload);
  const signingInput = `${encodeBase64url(headerJson)}.${encodeBase64url(payloadJson)}`;
  const token = `${signingInput}.`;
  const size = byteLength(token);
  const decoded = { header: UNSIGNED_HEADER, payload, sizes: { token: size } };
  return {
    ok: true,
    header: UNSIGNED_HEADER,
    headerJson,
    payload,
    payloadJson,
    signingInput,
    token,
    size,
    // An HS256 signature is 32 bytes: 43 base64url characters after the last dot.
    signedSize: size + 43,
    warnings: findWarnings(decoded, { now }).filter((w) => w.code !== "alg-none"),
  };
}
