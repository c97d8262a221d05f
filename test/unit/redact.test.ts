import { describe, expect, it } from "vitest";
import { isSecretName, redactJson, redactSecrets } from "../../src/store/redact.js";

// Realistic shapes, not real credentials (built by repetition so no scanner mistakes them for leaks).
const ANTHROPIC = `sk-ant-api03-${"Ab3_dE5-fG7h".repeat(8)}xY-Z9aAA`;
const OPENAI_PROJECT = `sk-proj-${"Qw3rTy9UiOp2AsDf".repeat(4)}T3BlbkFJ${"Zx8CvBn4Mq".repeat(3)}`;
const OPENAI_LEGACY = `sk-${"a1B2c3D4e5F6g7H8i9J0".repeat(2)}kLmNoPqR`;
const GOOGLE = `AIza${"SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6q7".slice(0, 35)}`;
const GITHUB_CLASSIC = `ghp_${"A1b2C3d4E5f6".repeat(3)}`;
const GITHUB_OAUTH = `gho_${"Z9y8X7w6V5u4".repeat(3)}`;
const GITHUB_FINE = `github_pat_11ABCDEFG0${"aBcDeFgHiJ".repeat(2)}_${"kLmNoPqRsT".repeat(6)}`;
const SLACK_BOT = "xoxb-2468013579-1357924680123-" + "AbCdEfGhIjKlMnOpQrStUvWx";
const SLACK_USER = "xoxp-2468013579-1357924680-1122334455-" + "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const AWS_KEY_ID = "AKIA" + "IOSFODNN7EXAMPL2";
const AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY";
const STRIPE = "sk_live_" + "51HqLyjKf0aB1cD2eF3gH4iJ5";
const JWT =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." +
  "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ." +
  "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
const PEM_BODY = Array.from(
  { length: 12 },
  (_, i) => `MIIEv${i}QIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7`,
).join("\n");

const leaks = (text: string, secret: string) => redactSecrets(text).includes(secret);

describe("redactSecrets: API keys and tokens", () => {
  it.each([
    ["anthropic", ANTHROPIC, "[REDACTED:anthropic-key]"],
    ["openai project", OPENAI_PROJECT, "[REDACTED:openai-key]"],
    ["openai legacy", OPENAI_LEGACY, "[REDACTED:openai-key]"],
    ["google", GOOGLE, "[REDACTED:google-api-key]"],
    ["github classic", GITHUB_CLASSIC, "[REDACTED:github-token]"],
    ["github oauth", GITHUB_OAUTH, "[REDACTED:github-token]"],
    ["github fine-grained", GITHUB_FINE, "[REDACTED:github-token]"],
    ["slack bot", SLACK_BOT, "[REDACTED:slack-token]"],
    ["slack user", SLACK_USER, "[REDACTED:slack-token]"],
    ["aws access key id", AWS_KEY_ID, "[REDACTED:aws-access-key-id]"],
    ["stripe", STRIPE, "[REDACTED:stripe-key]"],
    ["jwt", JWT, "[REDACTED:jwt]"],
  ])("%s, alone and inside prose", (_name, secret, marker) => {
    expect(redactSecrets(secret)).toBe(marker);
    const prose = `My key is ${secret}, please use it (and ${secret}.) for the deploy.`;
    expect(redactSecrets(prose)).toBe(
      `My key is ${marker}, please use it (and ${marker}.) for the deploy.`,
    );
  });

  it("a .env file", () => {
    const env = [
      `ANTHROPIC_API_KEY=${ANTHROPIC}`,
      `OPENAI_API_KEY="${OPENAI_PROJECT}"`,
      `GITHUB_TOKEN=${GITHUB_CLASSIC}`,
      `AWS_ACCESS_KEY_ID=${AWS_KEY_ID}`,
      `AWS_SECRET_ACCESS_KEY=${AWS_SECRET}`,
      "DATABASE_PASSWORD=hunter2",
      "SESSION_SECRET=correcthorse",
      "PGPASSWORD=pgs3cret",
      "export NPM_TOKEN=npm_" + "x1Y2z3".repeat(6),
      "PORT=8080",
      "NODE_ENV=production",
    ].join("\n");
    const out = redactSecrets(env);
    for (const secret of [ANTHROPIC, OPENAI_PROJECT, GITHUB_CLASSIC, AWS_KEY_ID, AWS_SECRET]) {
      expect(out).not.toContain(secret);
    }
    expect(out).not.toContain("hunter2");
    expect(out).not.toContain("correcthorse");
    expect(out).toContain("PGPASSWORD=[REDACTED]");
    expect(out).not.toContain("x1Y2z3");
    expect(out).toContain("ANTHROPIC_API_KEY=[REDACTED:anthropic-key]");
    expect(out).toContain("AWS_SECRET_ACCESS_KEY=[REDACTED]");
    expect(out).toContain("DATABASE_PASSWORD=[REDACTED]");
    expect(out).toContain("PORT=8080");
    expect(out).toContain("NODE_ENV=production");
  });

  it("JSON, YAML and code assignments", () => {
    const json = JSON.stringify({ apiKey: "abc123def456ghi", password: "hunter2", user: "alice" });
    expect(redactSecrets(json)).toBe(
      '{"apiKey":"[REDACTED]","password":"[REDACTED]","user":"alice"}',
    );
    const yaml = "db:\n  user: app\n  password: s3cr3t-pa55\n  client_secret: 'abcdefgh12345678'\n";
    expect(redactSecrets(yaml)).toBe(
      "db:\n  user: app\n  password: [REDACTED]\n  client_secret: '[REDACTED]'\n",
    );
    const py = `client = Client(api_key="live-9f8e7d6c5b4a", timeout=30)`;
    expect(redactSecrets(py)).toBe(`client = Client(api_key="[REDACTED]", timeout=30)`);
    const ts = `const config = { accessToken: "tok_8c7b6a5f4e3d", dbPassword: 'pw-123456' };`;
    expect(redactSecrets(ts)).toBe(
      `const config = { accessToken: "[REDACTED]", dbPassword: '[REDACTED]' };`,
    );
  });

  it("Authorization headers and bearer tokens", () => {
    expect(redactSecrets("Authorization: Bearer abc.def-ghi_jkl~123/456+789=")).toBe(
      "Authorization: Bearer [REDACTED]",
    );
    expect(redactSecrets(`curl -H "Authorization: Bearer ${JWT}" https://api.example.com`)).toBe(
      `curl -H "Authorization: Bearer [REDACTED:jwt]" https://api.example.com`,
    );
    expect(redactSecrets("authorization: Basic dXNlcjpwYXNzd29yZA==")).toBe(
      "authorization: Basic [REDACTED]",
    );
    expect(redactSecrets(`{"Authorization": "Token 9b8a7c6d5e4f3a2b1c0d"}`)).toBe(
      `{"Authorization": "Token [REDACTED]"}`,
    );
    expect(redactSecrets("Proxy-Authorization: Digest 0123456789abcdef0123")).toBe(
      "Proxy-Authorization: Digest [REDACTED]",
    );
    expect(redactSecrets("sent bearer Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5 to the API")).toBe(
      "sent bearer [REDACTED] to the API",
    );
  });

  it("passwords in URLs keep the user and the host", () => {
    expect(redactSecrets("postgres://admin:s3cr3t@db.example.com:5432/app")).toBe(
      "postgres://admin:[REDACTED]@db.example.com:5432/app",
    );
    expect(redactSecrets("REDIS_URL=redis://:p4ssw0rd@localhost:6379/0")).toBe(
      "REDIS_URL=redis://:[REDACTED]@localhost:6379/0",
    );
    expect(redactSecrets(`git clone https://alice:${GITHUB_CLASSIC}@github.com/o/r.git`)).toBe(
      "git clone https://alice:[REDACTED]@github.com/o/r.git",
    );
    expect(redactSecrets("mongodb+srv://svc:Pa%24%24w0rd@cluster0.example.net/db")).toBe(
      "mongodb+srv://svc:[REDACTED]@cluster0.example.net/db",
    );
  });

  it("PEM private keys, the whole block", () => {
    for (const label of [
      "RSA PRIVATE KEY",
      "PRIVATE KEY",
      "OPENSSH PRIVATE KEY",
      "EC PRIVATE KEY",
    ]) {
      const pem = `before\n-----BEGIN ${label}-----\n${PEM_BODY}\n-----END ${label}-----\nafter`;
      expect(redactSecrets(pem)).toBe(
        `before\n-----BEGIN ${label}-----\n[REDACTED]\n-----END ${label}-----\nafter`,
      );
    }
    const truncated = `key:\n-----BEGIN PRIVATE KEY-----\n${PEM_BODY}`;
    expect(redactSecrets(truncated)).not.toContain("MIIEv");
    const pgp = `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${PEM_BODY}\n-----END PGP PRIVATE KEY BLOCK-----`;
    expect(redactSecrets(pgp)).not.toContain("MIIEv");
    // Public keys and certificates are not secrets.
    const cert = `-----BEGIN CERTIFICATE-----\n${PEM_BODY}\n-----END CERTIFICATE-----`;
    expect(redactSecrets(cert)).toBe(cert);
  });

  it("is idempotent", () => {
    const text = `key ${ANTHROPIC}\npassword: hunter22\nhttps://u:p4ss@h.example\nAuthorization: Bearer ${JWT}`;
    const once = redactSecrets(text);
    expect(redactSecrets(once)).toBe(once);
  });
});

describe("redactSecrets: no false positives on ordinary text", () => {
  it.each([
    ["git SHA", "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 (HEAD -> main)"],
    ["short SHA", "fixed in a1b2c3d and 0f9e8d7c"],
    ["UUID", "session 123e4567-e89b-12d3-a456-426614174000 resumed"],
    ["sha256", "sha256:" + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["hex literal", "mask = 0x7f3a9c00ff; id 4f3c2b1a0e9d8c7b"],
    [
      "base64 data",
      "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk",
    ],
    ["token counts", "max_tokens: 4096, input_tokens=1200, output_tokens: 300, tokens: 512"],
    ["tokenizer", '{"tokenizer": "bpe", "token_count": 12}'],
    [
      "code reading a secret",
      "const token = process.env.GITHUB_TOKEN;\nconst key = os.environ['API_KEY']",
    ],
    ["type annotations", "function login(password: string, apiKey: string | undefined): void {}"],
    ["call", "const token = await getToken(user); const secret = vault.read(path);"],
    ["template header", "headers: { Authorization: `Bearer ${apiKey}` }"],
    [
      "placeholders",
      'API_KEY=<your-api-key>\napi_key: "${API_KEY}"\npassword: "****"\nTOKEN=$TOKEN',
    ],
    [
      "prose",
      "Use a bearer token in the Authorization header. The API key lives in your keychain.",
    ],
    ["authorization prose", "Authorization: the user must be an admin."],
    [
      "hyphenated words",
      "risk-assessment-2024-final-report-v2 and desk-research-2023-summary-notes",
    ],
    [
      "urls without passwords",
      "https://example.com:8080/path?q=1 ssh://git@github.com/org/repo.git user@example.com",
    ],
    ["fetch credentials", 'fetch(url, { credentials: "include" })'],
    ["emails and ports", "mail alice@example.com on host:8443"],
    [
      "public key",
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host",
    ],
    ["CJK and emoji", "トークンは安全です 🔑 密码"],
  ])("%s", (_name, text) => {
    expect(redactSecrets(text)).toBe(text);
  });

  // Its speed on these texts is a bench row (bench/redact.mjs), not a test.
  it("leaves large texts without secrets as they are", () => {
    const prose = "The quick brown fox reviews src/main.ts at commit 9fceb02d. ".repeat(2000);
    const code = "const token = process.env.TOKEN; headers.authorization = auth;\n".repeat(1500);
    for (const text of [prose, code]) expect(redactSecrets(text)).toBe(text);
  });

  it("reports which secrets it found in a realistic prompt", () => {
    const prompt = `Deploy failed. Here is my config:

\`\`\`yaml
database:
  url: postgres://deploy:Tr0ub4dor&3@10.0.0.5:5432/prod
anthropic:
  api_key: ${ANTHROPIC}
\`\`\`

and the request I sent:

curl https://api.openai.com/v1/responses -H "Authorization: Bearer ${OPENAI_PROJECT}" \\
  -d '{"model": "gpt-6.1-sol", "max_output_tokens": 4096}'

Commit 9fceb02d0ae598e95dc970b74767f19372d61af8, request id 123e4567-e89b-12d3-a456-426614174000.`;
    const out = redactSecrets(prompt);
    for (const leaked of ["Tr0ub4dor", ANTHROPIC, OPENAI_PROJECT])
      expect(out).not.toContain(leaked);
    expect(out).toContain("postgres://deploy:[REDACTED]@10.0.0.5:5432/prod");
    expect(out).toContain("api_key: [REDACTED:anthropic-key]");
    expect(out).toContain('"max_output_tokens": 4096');
    expect(out).toContain("9fceb02d0ae598e95dc970b74767f19372d61af8");
    expect(out).toContain("123e4567-e89b-12d3-a456-426614174000");
    expect(leaks(prompt, OPENAI_PROJECT)).toBe(false);
  });
});

describe("redactJson", () => {
  it("redacts strings anywhere and the values of secret-named fields, and stays valid JSON", () => {
    const pem = `-----BEGIN PRIVATE KEY-----\n${PEM_BODY}\n-----END PRIVATE KEY-----`;
    const value = {
      decision: "approved",
      env: { GITHUB_TOKEN: "plainword", apiKey: "abc", max_tokens: 4096, NODE_ENV: "test" },
      notes: [`uses ${ANTHROPIC}`, { dbPassword: "hunter2", password: "" }],
      key: pem,
      when: new Date(0),
    };
    const out = JSON.parse(JSON.stringify(redactJson(value)));
    expect(out).toEqual({
      decision: "approved",
      env: { GITHUB_TOKEN: "[REDACTED]", apiKey: "[REDACTED]", max_tokens: 4096, NODE_ENV: "test" },
      notes: ["uses [REDACTED:anthropic-key]", { dbPassword: "[REDACTED]", password: "" }],
      key: "-----BEGIN PRIVATE KEY-----\n[REDACTED]\n-----END PRIVATE KEY-----",
      when: "1970-01-01T00:00:00.000Z",
    });
  });

  it("knows secret names", () => {
    for (const name of [
      "apiKey",
      "api_key",
      "API_KEY",
      "x-api-key",
      "GITHUB_TOKEN",
      "accessToken",
      "client_secret",
      "PGPASSWORD",
      "privateKey",
      "aws_secret_access_key",
    ])
      expect(isSecretName(name), name).toBe(true);
    for (const name of [
      "max_tokens",
      "tokens",
      "tokenizer",
      "keyboard",
      "monkey",
      "author",
      "secretary",
      "passwordHint",
    ])
      expect(isSecretName(name), name).toBe(false);
  });
});
