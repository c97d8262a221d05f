/**
 * Secret redaction for the flight recorder: every text the recorder writes (prompts, responses,
 * error messages, thinking blocks, JSON columns) goes through `redactSecrets` first.
 *
 * The rules aim at secrets with a recognizable shape or context, so that ordinary text (hex ids,
 * UUIDs, git SHAs, base64 blobs, code) passes unchanged. docs/SCHEMA.md lists them. A token with a
 * known shape becomes `[REDACTED:<kind>]`; a value recognized by its context (a header, a
 * `key = value` assignment, a URL password, a PEM body) keeps the context and loses the value.
 */

export const REDACTED = "[REDACTED]";

interface Rule {
  /** A cheap test that skips the regex on texts that cannot match. */
  gate?: (text: string) => boolean;
  pattern: RegExp;
  replace: (match: string, ...groups: string[]) => string;
}

const has = (needle: string) => (text: string) => text.includes(needle);
const token = (kind: string) => () => `[REDACTED:${kind}]`;

/** Values that are placeholders, variable references or already redacted: left alone. */
function isPlaceholder(value: string): boolean {
  return (
    value.startsWith("[REDACTED") ||
    /^\$(?:$|[{(A-Za-z_])/.test(value) || // $TOKEN, ${TOKEN}, $(cat key), a template's ${
    /^%[A-Za-z_][A-Za-z0-9_]*%$/.test(value) || // %TOKEN%
    /^<[^<>]*>$/.test(value) || // <your-key>
    /^\{\{.*\}\}$/.test(value) || // {{ secrets.TOKEN }}
    /^(?:\*+|x+|\.{3}|…)$/i.test(value) // ****, xxxx, ...
  );
}

/**
 * An unquoted value after a secret-named key (`API_KEY=abc123`, `token: abc123`) is redacted unless
 * it reads like code rather than a secret: a dotted property path (`process.env.TOKEN`), a call,
 * a type or keyword (`string`, `undefined`), or a plain word.
 */
function looksLikeUnquotedSecret(value: string): boolean {
  if (value.length < 6 || isPlaceholder(value)) return false;
  if (value.startsWith("$")) return false; // $(cat key), $TOKEN
  if (/^[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*)+/.test(value)) return false; // process.env.X, os.environ[
  if (/^[A-Za-z_$][\w$]*[([]/.test(value)) return false; // getToken(), env["X"]
  if (/^[A-Za-z]+$/.test(value) && value.length < 16) return false; // undefined, required, string
  return true;
}

/** Keys that name a secret, as words: matched as api_key, api-key, apikey, API_KEY, apiKey, ApiKey. */
const SECRET_WORDS = [
  ["api", "key"],
  ["secret"],
  ["secret", "key"],
  ["secret", "access", "key"],
  ["token"],
  ["password"],
  ["passwd"],
  ["passphrase"],
  ["credential"],
  ["private", "key"],
  ["access", "key"],
  ["access", "key", "id"],
  ["session", "key"],
  ["signing", "key"],
];
const cap = (w: string) => w[0]!.toUpperCase() + w.slice(1);
const alternation = (forms: string[]) =>
  [...new Set(forms)].sort((a, b) => b.length - a.length).join("|");
const LOWER = alternation(SECRET_WORDS.map((ws) => ws.join("[_-]?")));
const UPPER = alternation(SECRET_WORDS.map((ws) => ws.map((w) => w.toUpperCase()).join("[_-]?")));
const CAPITALIZED = alternation(SECRET_WORDS.map((ws) => ws.map(cap).join("")));
const CAMEL = alternation(SECRET_WORDS.map((ws) => ws[0] + ws.slice(1).map(cap).join("")));
/**
 * The end of a key that names a secret: the keyword after a non-alphanumeric (GITHUB_TOKEN,
 * api-key, aws_secret_access_key), glued to the word before it in its own case (PGPASSWORD,
 * accessToken, dbPassword), or camel case (apiKey). Matching at the keyword keeps the regex engine
 * from trying every word start; the whole key is looked up afterwards (keyBefore) where it matters.
 */
const SECRET_KEY =
  `(?:(?<![A-Za-z0-9])(?:${LOWER}|${UPPER}|${CAPITALIZED}|${CAMEL})` +
  `|(?<=[a-z0-9])(?:${CAPITALIZED})|(?<=[A-Z0-9])(?:${UPPER}))`;
const ASSIGN = `["']?[ \\t]*(?::=|=>|[:=])[ \\t]*`;

/** The whole key whose last part starts at `offset` (e.g. GITHUB_TOKEN for TOKEN). */
function keyBefore(text: string, offset: number): string {
  let start = offset;
  while (start > 0 && /[A-Za-z0-9_]/.test(text[start - 1]!)) start--;
  return text.slice(start, offset);
}

const NAMES_A_SECRET = /key|secret|token|passw|passphrase|credential/i;
const assignmentGate = (t: string) => NAMES_A_SECRET.test(t);

const RULES: Rule[] = [
  // PEM private keys, the whole block (an unterminated block to the end of the text).
  {
    gate: has("PRIVATE KEY"),
    pattern:
      /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)/g,
    replace: (_m, label) => `-----BEGIN ${label}-----\n${REDACTED}\n-----END ${label}-----`,
  },
  // Passwords in URLs: scheme://user:password@host -> scheme://user:[REDACTED]@host
  {
    gate: has("://"),
    pattern: /\b([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s:/?#@'"`<>]*:)([^\s/?#@'"`<>]+)@/g,
    replace: (m, prefix, password) => (isPlaceholder(password) ? m : `${prefix}${REDACTED}@`),
  },
  // JSON Web Tokens (header.payload.signature, both JSON parts base64url of "{...").
  {
    gate: has("eyJ"),
    pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
    replace: token("jwt"),
  },
  // Anthropic (sk-ant-api03-..., sk-ant-admin01-..., sk-ant-oat01-...).
  {
    gate: has("sk-ant-"),
    pattern: /\bsk-ant-[A-Za-z0-9_-]{20,}/g,
    replace: token("anthropic-key"),
  },
  // OpenAI (sk-proj-..., sk-svcacct-..., sk-admin-..., legacy sk-...): at least one digit in the body.
  {
    gate: has("sk-"),
    pattern: /\bsk-(?=[A-Za-z_-]*[0-9])[A-Za-z0-9_-]{20,}/g,
    replace: token("openai-key"),
  },
  // Stripe secret and restricted keys.
  {
    gate: (t) => t.includes("k_live_") || t.includes("k_test_"),
    pattern: /\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}/g,
    replace: token("stripe-key"),
  },
  // Google API keys.
  { gate: has("AIza"), pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g, replace: token("google-api-key") },
  // GitHub tokens: classic (ghp_, gho_, ghu_, ghs_, ghr_) and fine-grained (github_pat_).
  {
    gate: (t) => t.includes("gh") || t.includes("github_pat_"),
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})\b/g,
    replace: token("github-token"),
  },
  // Slack tokens (xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xoxe-).
  {
    gate: has("xox"),
    pattern: /\bxox[abeprs]-[A-Za-z0-9-]{10,}/g,
    replace: token("slack-token"),
  },
  // AWS access key ids (the secret key is caught by its assignment, e.g. aws_secret_access_key=...).
  {
    gate: (t) => t.includes("AKIA") || t.includes("ASIA"),
    pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
    replace: token("aws-access-key-id"),
  },
  // Authorization headers: the value after Bearer, Basic, Token, Digest; a bare value if it looks like one.
  {
    gate: (t) => /authorization/i.test(t),
    pattern:
      /(\b(?:proxy-)?authorization["'`]?[ \t]*[:=][ \t]*["'`]?)((?:bearer|basic|token|digest|apikey)[ \t]+)?([^\s"'`,;()[\]{}<>]+)/gi,
    replace: (m, prefix, scheme, value) => {
      if (isPlaceholder(value)) return m;
      if (!scheme && !looksLikeUnquotedSecret(value)) return m;
      return `${prefix}${scheme ?? ""}${REDACTED}`;
    },
  },
  // A bearer token outside a header line (curl -H, logs): 16+ characters with a non-letter.
  {
    gate: (t) => /bearer/i.test(t),
    pattern: /(\bbearer[ \t]+)((?=[A-Za-z._~+/-]*[0-9._~+/-])[A-Za-z0-9._~+/-]{16,}=*)/gi,
    replace: (m, prefix, value) => (value.startsWith("[REDACTED") ? m : `${prefix}${REDACTED}`),
  },
  // Quoted values of secret-named keys: "password": "hunter2", api_key = 'abc', TOKEN="x".
  {
    gate: assignmentGate,
    pattern: new RegExp(`(${SECRET_KEY}${ASSIGN})(["'\`])([^"'\`\\r\\n]+)\\2`, "g"),
    replace: (m, prefix, quote, value) =>
      isPlaceholder(value) ? m : `${prefix}${quote}${REDACTED}${quote}`,
  },
  // Unquoted values of secret-named keys: API_KEY=abc123, token: abc123 (see looksLikeUnquotedSecret).
  // An environment-style line (SCREAMING_CASE=value) is redacted whatever the value looks like.
  {
    gate: assignmentGate,
    pattern: new RegExp(`(${SECRET_KEY}${ASSIGN})([^\\s"'\`,;()[\\]{}<>]+)`, "g"),
    replace: (m, prefix, value, offset, text) => {
      const key = keyBefore(String(text), Number(offset)) + prefix;
      const envStyle = /^[A-Z][A-Z0-9_]*[ \t]*=$/.test(key.trimEnd()) && !value.startsWith("=");
      const redact = envStyle
        ? !isPlaceholder(value) && !value.startsWith("$")
        : looksLikeUnquotedSecret(value);
      return redact ? `${prefix}${REDACTED}` : m;
    },
  },
];

/** Returns the text with every secret the rules recognize replaced. Idempotent. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const rule of RULES) {
    if (rule.gate && !rule.gate(out)) continue;
    rule.pattern.lastIndex = 0;
    out = out.replace(rule.pattern, rule.replace as (m: string, ...g: string[]) => string);
  }
  return out;
}

const SECRET_NAME = new RegExp(`${SECRET_KEY}$`);

/** Whether a key or field name names a secret (apiKey, GITHUB_TOKEN, db_password; not max_tokens). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * A JSON-ready value with its secrets redacted: every string through redactSecrets, and string
 * values of secret-named fields replaced whole. Redacting the serialized JSON instead could break
 * it (a PEM block's replacement holds newlines).
 */
export function redactJson(value: unknown): unknown {
  if (typeof value === "string") return redactSecrets(value);
  if (Array.isArray(value)) return value.map(redactJson);
  if (value === null || typeof value !== "object") return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === "function")
    return redactJson((value as { toJSON: () => unknown }).toJSON());
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      typeof v === "string" && v !== "" && isSecretName(k) && !isPlaceholder(v)
        ? REDACTED
        : redactJson(v),
    ]),
  );
}
