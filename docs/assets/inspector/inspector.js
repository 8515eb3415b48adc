// The token inspector's page: builds the form and shows what ./inspect.js finds.
// Token content is hostile: it only ever reaches the page through textContent.
import {
  SESSION_TTL_SECONDS,
  COOKIE_LIMIT_BYTES,
  decodeToken,
  formatBytes,
  newSessionId,
  sessionFromClaims,
  sha256Hex,
  unsignedJwtFromJson,
  verifyHs256,
} from "./inspect.js";

const EXPECTED_ALGS = ["", "HS256", "RS256", "ES256", "EdDSA"];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "text") node.textContent = value;
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function clear(node) {
  node.replaceChildren();
  return node;
}

function table(id, headings) {
  const head = el("tr", {}, ...headings.map((h) => el("th", { text: h, scope: "col" })));
  return el("table", { id, class: "tki-table" }, el("thead", {}, head), el("tbody"));
}

function fillRows(tableNode, rows) {
  const body = clear(tableNode.tBodies[0]);
  for (const cells of rows) body.append(el("tr", {}, ...cells.map((c) => el("td", { text: String(c) }))));
}

function copyButton(target, what) {
  // The visible text says "Copy"; the name says what, so that each button is told apart.
  const button = el("button", { type: "button", class: "md-button tki-small", text: "Copy", "aria-label": `Copy ${what}` });
  button.addEventListener("click", () => {
    navigator.clipboard?.writeText(target.textContent).then(
      () => { button.textContent = "Copied"; },
      () => { button.textContent = "Select and copy"; },
    );
  });
  return button;
}

function buildInspector(root) {
  const token = el("textarea", {
    id: "tki-token", rows: "5", spellcheck: "false", autocomplete: "off", autocapitalize: "off",
    placeholder: "eyJhbGciOi...", "aria-describedby": "tki-status",
  });
  const expected = el("select", { id: "tki-expected-alg" },
    ...EXPECTED_ALGS.map((a) => el("option", { value: a, text: a || "any signed algorithm" })));
  const status = el("p", { id: "tki-status", class: "tki-status", role: "status", "aria-live": "polite" });
  const warnings = el("ul", { id: "tki-warnings", class: "tki-warnings" });
  const header = el("pre", { id: "tki-header", class: "tki-json" });
  const payload = el("pre", { id: "tki-payload", class: "tki-json" });
  const dates = table("tki-dates", ["Claim", "Value", "UTC", "Your local time", "Relative to now"]);
  const sizes = table("tki-sizes", ["Part", "Bytes"]);

  const secret = el("input", { id: "tki-secret", type: "password", autocomplete: "off", spellcheck: "false", placeholder: "the HMAC secret" });
  const secretB64 = el("input", { id: "tki-secret-b64", type: "checkbox" });
  const verify = el("button", { id: "tki-verify", type: "button", class: "md-button md-button--primary tki-small", text: "Check signature" });
  const verifyResult = el("p", { id: "tki-verify-result", class: "tki-status", role: "status", "aria-live": "polite" });

  const newId = el("button", { id: "tki-new-id", type: "button", class: "md-button tki-small", text: "New session ID" });
  const sessionId = el("code", { id: "tki-session-id" });
  const sessionKey = el("code", { id: "tki-session-key" });
  const record = el("pre", { id: "tki-session-record", class: "tki-json" });
  const sessionSizes = table("tki-session-sizes", ["Cost", "Session", "JWT"]);
  const redis = el("pre", { id: "tki-redis", class: "tki-json" });

  const result = el("div", { id: "tki-result", hidden: "" },
    el("h3", { text: "Warnings" }), warnings,
    el("div", { class: "tki-columns" },
      el("div", {}, el("h3", { text: "Header" }), header),
      el("div", {}, el("h3", { text: "Payload" }), payload)),
    el("h3", { text: "Dates" }), dates,
    el("h3", { text: "Size" }), sizes,
    el("h3", { text: "Signature check (HS256)" }),
    el("p", { class: "tki-row" },
      el("label", { for: "tki-secret", text: "Secret " }), secret,
      el("label", { class: "tki-check" }, secretB64, " base64url-encoded key"),
      verify),
    verifyResult,
    el("h3", { text: "As a server-side session" }),
    el("p", { text: "The same claims kept on the server instead: the browser holds only a random ID. " +
      "The Redis key is the SHA-256 hash of that ID, so a copy of the database does not hand out working session IDs." }),
    el("dl", { class: "tki-dl" },
      el("dt", { text: "Session ID (128 random bits, base64url), sent in the cookie" }), el("dd", {}, sessionId, " ", newId),
      el("dt", { text: "Redis key: session: + SHA-256 of the ID, in hex" }), el("dd", {}, sessionKey)),
    el("h4", { text: "The record the server keeps" }), record,
    el("h4", { text: "What each side costs" }), sessionSizes,
    el("h4", { text: `Redis commands (redis-cli): store with a ${SESSION_TTL_SECONDS / 60}-minute expiry, read, extend, log out` }),
    redis, copyButton(redis, "the Redis commands"),
  );

  root.append(
    el("label", { for: "tki-token", class: "tki-label", text: "Token (header.payload.signature)" }),
    token,
    el("p", { class: "tki-row" }, el("label", { for: "tki-expected-alg", text: "Your server expects " }), expected),
    status,
    result,
  );

  let current = null;
  let sessionRun = 0;

  async function showSession(decoded) {
    const run = ++sessionRun;
    const id = newSessionId();
    const idHash = await sha256Hex(id);
    if (run !== sessionRun) return; // a newer token arrived meanwhile
    const session = sessionFromClaims(decoded.payload, {
      id, idHash, tokenBytes: decoded.sizes.token, authorizationHeaderBytes: decoded.sizes.authorizationHeader,
    });
    sessionId.textContent = session.id;
    sessionKey.textContent = session.key;
    record.textContent = JSON.stringify(session.record, null, 2);
    const note = session.dropped.length ? ` (dropped: ${session.dropped.join(", ")}; the store replaces them)` : "";
    fillRows(sessionSizes, [
      ["Sent by the browser on every request", `${session.sizes.cookieHeader} bytes (${session.cookieHeader.split(":")[0]} header)`, `${decoded.sizes.authorizationHeader} bytes (Authorization header)`],
      ["Credential itself", `${session.sizes.id} bytes (ID)`, `${decoded.sizes.token} bytes (token)`],
      ["Kept on the server", `${session.sizes.stored} bytes (key + record${note})`, "0 bytes"],
    ]);
    redis.textContent = session.redisCommands.join("\n");
  }

  function render() {
    current = null;
    verifyResult.textContent = "";
    verifyResult.removeAttribute("data-status");
    const decoded = decodeToken(token.value, { expectedAlg: expected.value });
    if (!decoded.ok) {
      result.hidden = true;
      status.textContent = decoded.error.message;
      status.dataset.kind = decoded.error.kind;
      status.classList.toggle("tki-error", decoded.error.kind !== "empty");
      sessionRun += 1;
      return;
    }
    current = decoded;
    status.textContent = `Decoded: ${JSON.stringify(decoded.header.alg)} token of ${formatBytes(decoded.sizes.token)}, ` +
      `${decoded.warnings.length} warning${decoded.warnings.length === 1 ? "" : "s"}. The signature is not checked unless you give the secret below.`;
    status.dataset.kind = "ok";
    status.classList.remove("tki-error");
    clear(warnings);
    if (decoded.warnings.length === 0) {
      warnings.append(el("li", { class: "tki-ok", "data-code": "none", text: "Nothing from the pitfalls list." }));
    }
    for (const w of decoded.warnings) {
      warnings.append(el("li", { class: `tki-${w.level}`, "data-code": w.code, "data-level": w.level, text: w.message }));
    }
    header.textContent = JSON.stringify(decoded.header, null, 2);
    payload.textContent = JSON.stringify(decoded.payload, null, 2);
    fillRows(dates, decoded.dates.map((d) => (d.problem
      ? [d.claim, JSON.stringify(d.value), d.problem, "", ""]
      : [d.claim, d.value, d.utc, d.local, d.relative])));
    if (decoded.dates.length === 0) fillRows(dates, [["", "no exp, iat or nbf claim", "", "", ""]]);
    fillRows(sizes, [
      ["Whole token", decoded.sizes.token],
      ["Header JSON", decoded.sizes.header],
      ["Payload JSON", decoded.sizes.payload],
      ["Signature", decoded.sizes.signature],
      ["Authorization: Bearer header", decoded.sizes.authorizationHeader],
      ["Cookie limit (one cookie)", COOKIE_LIMIT_BYTES],
    ]);
    result.hidden = false;
    showSession(decoded).catch((exc) => { redis.textContent = `Could not build the session: ${exc.message}`; });
  }

  async function check() {
    if (!current) return;
    const checked = current;
    verifyResult.textContent = "Checking...";
    const outcome = await verifyHs256(checked.token, secret.value, {
      secretEncoding: secretB64.checked ? "base64url" : "text",
    }).catch((exc) => ({ status: "error", message: `The check failed: ${exc.message}` }));
    if (checked !== current) return;
    verifyResult.textContent = outcome.message;
    verifyResult.dataset.status = outcome.status;
  }

  token.addEventListener("input", render);
  expected.addEventListener("change", render);
  newId.addEventListener("click", () => current && showSession(current));
  verify.addEventListener("click", check);
  secret.addEventListener("keydown", (event) => { if (event.key === "Enter") check(); });
  render();
}

function buildReverse(root) {
  const input = el("textarea", {
    id: "tki-record", rows: "5", spellcheck: "false", autocomplete: "off",
    placeholder: '{"sub": "user-42", "roles": ["reader"]}', "aria-describedby": "tki-record-status",
  });
  const status = el("p", { id: "tki-record-status", class: "tki-status", role: "status", "aria-live": "polite" });
  const output = el("pre", { id: "tki-unsigned", class: "tki-json tki-token" });
  const warnings = el("ul", { id: "tki-record-warnings", class: "tki-warnings" });
  const result = el("div", { id: "tki-record-result", hidden: "" },
    el("h4", { text: "Unsigned token: header and payload, then a dot where the server's signature goes" }),
    output, copyButton(output, "the unsigned token"), warnings);
  root.append(
    el("label", { for: "tki-record", class: "tki-label", text: "Session record (JSON object)" }),
    input, status, result,
  );
  function render() {
    const made = unsignedJwtFromJson(input.value);
    if (!made.ok) {
      result.hidden = true;
      status.textContent = made.error.message;
      status.dataset.kind = made.error.kind;
      status.classList.toggle("tki-error", made.error.kind !== "empty");
      return;
    }
    status.textContent = `UNSIGNED: ${made.size} bytes as shown, about ${made.signedSize} bytes once the server signs it ` +
      `with HS256 (header ${made.headerJson}). Never accept it unsigned.`;
    status.dataset.kind = "ok";
    status.classList.remove("tki-error");
    output.textContent = made.token;
    clear(warnings);
    for (const w of made.warnings) {
      warnings.append(el("li", { class: `tki-${w.level}`, "data-code": w.code, text: w.message }));
    }
    result.hidden = false;
  }
  input.addEventListener("input", render);
  render();
}

// The stylesheet sits beside this module; linking it from here keeps its URL right wherever
// the site is served from.
if (!document.querySelector("link[data-tki]")) {
  document.head.append(el("link", { rel: "stylesheet", href: new URL("./inspector.css", import.meta.url).href, "data-tki": "" }));
}

const inspect = document.getElementById("tki-inspect");
const reverse = document.getElementById("tki-reverse");
if (inspect) buildInspector(clear(inspect));
if (reverse) buildReverse(clear(reverse));
