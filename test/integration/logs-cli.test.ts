import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLogsCommand } from "../../src/cli/logs.js";
import { Recorder } from "../../src/recorder/writer.js";
import { BACKENDS, freshPgDatabase } from "../helpers/postgres.js";
import { recordDb, type RecordDb } from "../helpers/recorder-db.js";

const SECRET = `sk-ant-api03-${"Qq7_Ww8-Ee9".repeat(6)}`;
// Debian's sqlite-utils (3.30, on the system SQLite and Python): the file opens as it is.
const hasSqliteUtils = spawnSync("sqlite-utils", ["--version"]).status === 0;
if (!hasSqliteUtils && process.env.CI)
  throw new Error("CI needs sqlite-utils (apt-get install -y sqlite-utils)");

describe.each(BACKENDS)("logs on %s", (backend) => {
  let dir: string;
  let path: string;
  let record: RecordDb;
  let recorder: Recorder;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "llm-gateway-logs-cli-"));
    path = join(dir, "home", ".llm-cli-gateway", "logs.db");
    record = await recordDb(backend, path);
    // Stays open while the tests read: the logs command and sqlite-utils read a live database.
    recorder = Recorder.open(record.where, { onError: (e) => console.error(e) });
    const day = (d: number, hour = 12) => {
      const t = new Date(Date.now() - d * 86_400_000);
      t.setUTCHours(hour, 0, 0, 0);
      return t.toISOString();
    };
    const calls: [Parameters<Recorder["start"]>[0], Parameters<Recorder["finish"]>[1] | null][] = [
      [
        {
          correlationId: "c-old",
          cli: "claude",
          model: "claude-sonnet-5-5",
          prompt: "ancient history",
          startedAt: day(40),
        },
        {
          responseText: "long ago",
          costUsd: 1,
          durationMs: 500,
          usage: { inputTokens: 1, outputTokens: 1 },
        },
      ],
      [
        {
          correlationId: "c-1",
          cli: "claude",
          model: "claude-sonnet-5-5",
          prompt: "Refactor the tokenizer module",
          gatewaySessionId: "gw-1",
          nativeSessionId: "gw-1",
          startedAt: day(2, 10),
        },
        {
          responseText: "Split tokenizer.ts into lexer.ts and parser.ts.",
          costUsd: 0.25,
          durationMs: 42_000,
          usage: {
            inputTokens: 12_000,
            outputTokens: 800,
            cacheReadTokens: 9000,
            cacheWriteTokens: 500,
            reasoningTokens: 120,
          },
          thinking: ["The module mixes two concerns.", "Lexing first, then parsing."],
        },
      ],
      [
        {
          correlationId: "c-2",
          cli: "codex",
          model: "gpt-6.1-sol",
          prompt: "Fix the flaky test in test/io.spec.ts",
          gatewaySessionId: "gw-2",
          startedAt: day(1, 9),
        },
        {
          responseText: "Added an await before expect().",
          durationMs: 95_000,
          nativeSessionId: "thread-2",
          usage: { inputTokens: 20_000, outputTokens: 1500, cacheReadTokens: 15_000 },
        },
      ],
      [
        {
          correlationId: "c-3",
          cli: "codex",
          model: "gpt-6.1-sol",
          prompt: `Deploy with key ${SECRET}`,
          startedAt: day(1, 11),
        },
        {
          errorCategory: "rate_limited",
          errorMessage: "429 Too Many Requests",
          exitCode: 1,
          durationMs: 3000,
        },
      ],
      [
        {
          correlationId: "c-4",
          cli: "gemini",
          model: "gemini-2.5-pro",
          prompt: "Summarize the README (foo-bar edition)",
          startedAt: day(0, 8),
        },
        {
          responseText: "It is an MCP server.",
          durationMs: 7000,
          usage: { inputTokens: 3000, outputTokens: 200, reasoningTokens: 400 },
        },
      ],
      [
        {
          correlationId: "c-5",
          cli: "gemini",
          prompt: "Still thinking about it",
          startedAt: day(0, 9),
        },
        null,
      ],
    ];
    for (const [start, outcome] of calls) {
      const id = recorder.start(start);
      if (outcome) recorder.finish(id, outcome);
    }
    recorder.rejected(
      { correlationId: "c-6", cli: "claude", prompt: "x", startedAt: day(0, 10) },
      { category: "invalid_input", message: "cwd: /nope is not a directory" },
    );
    recorder.flushIndex(); // a gateway indexes ended calls within ~50 ms; the tests do not wait
  });

  afterAll(() => {
    recorder.close();
    record.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function logs(argv: string[], env: NodeJS.ProcessEnv = record.env) {
    let stdout = "";
    let stderr = "";
    const code = await runLogsCommand(argv, env, {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      columns: 160,
    });
    return { code, stdout, stderr };
  }

  const ids = (out: string) =>
    (JSON.parse(out) as { correlation_id: string }[]).map((r) => r.correlation_id);

  describe("llm-cli-gateway logs", () => {
    it("lists recent calls, newest first, as a table", async () => {
      const r = await logs(["--limit", "3"]);
      expect(r.code).toBe(0);
      const lines = r.stdout.trimEnd().split("\n");
      expect(lines[0]).toMatch(
        /^ID\s+STARTED \(UTC\)\s+CLI\s+MODEL\s+STATUS\s+TIME\s+IN\/OUT\s+COST\s+CORRELATION ID\s+PROMPT$/,
      );
      expect(lines).toHaveLength(4);
      expect(lines[1]).toMatch(/claude .* rejected:invalid_input .* c-6/);
      expect(lines[2]).toMatch(/gemini .* started .* c-5 +Still thinking about it/);
      expect(lines[3]).toMatch(
        /gemini .*gemini-2\.5-pro .*completed .*7\.0s .*3000\/200 .*~\$0\.009\d .*c-4/,
      );
    });

    it.runIf(backend === "sqlite")(
      "finds the database from LLM_GATEWAY_HOME or HOME when LLM_GATEWAY_LOGS_DB is unset",
      async () => {
        const viaHome = await logs(["--json"], { HOME: join(dir, "home") });
        expect(ids(viaHome.stdout)).toHaveLength(7);
        const viaGatewayHome = await logs(["--json"], {
          LLM_GATEWAY_HOME: join(dir, "home", ".llm-cli-gateway"),
        });
        expect(ids(viaGatewayHome.stdout)).toHaveLength(7);
      },
    );

    it("filters by cli, model, status and session", async () => {
      expect(ids((await logs(["--cli", "codex", "--json"])).stdout)).toEqual(["c-3", "c-2"]);
      expect(ids((await logs(["--model", "claude-sonnet-5-5", "--json"])).stdout)).toEqual([
        "c-1",
        "c-old",
      ]);
      expect(ids((await logs(["--status", "failed", "--json"])).stdout)).toEqual(["c-3"]);
      expect(
        ids((await logs(["--cli", "gemini", "--status", "completed", "--json"])).stdout),
      ).toEqual(["c-4"]);
      expect(ids((await logs(["--session", "gw-1", "--json"])).stdout)).toEqual(["c-1"]);
      expect(ids((await logs(["--session", "thread-2", "--json"])).stdout)).toEqual(["c-2"]);
      const none = await logs(["--cli", "nobody"]);
      expect(none).toMatchObject({ code: 0, stdout: "No calls match.\n" });
    });

    it("shows one call in full, by correlation id or row id", async () => {
      const r = await logs(["show", "c-1"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("correlation id      c-1");
      expect(r.stdout).toContain(
        "tokens              input 12000, output 800, cache read 9000, cache write 500, reasoning 120",
      );
      expect(r.stdout).toContain("cost                $0.2500");
      expect(r.stdout).toContain("--- prompt ---\nRefactor the tokenizer module");
      expect(r.stdout).toContain("--- thinking 2/2 ---\nLexing first, then parsing.");
      expect(r.stdout).toContain(
        "--- response ---\nSplit tokenizer.ts into lexer.ts and parser.ts.",
      );
      const json = JSON.parse((await logs(["show", "c-2", "--json"])).stdout);
      expect(json).toHaveLength(1);
      expect(json[0]).toMatchObject({
        correlation_id: "c-2",
        native_session_id: "thread-2",
        cost_estimated: 1,
      });
      const byId = JSON.parse((await logs(["show", String(json[0].id), "--json"])).stdout);
      expect(byId[0].correlation_id).toBe("c-2");
      const thinking = JSON.parse((await logs(["show", "c-1", "--json"])).stdout)[0].thinking;
      expect(thinking).toEqual(["The module mixes two concerns.", "Lexing first, then parsing."]);
      expect(await logs(["show", "nope"])).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('No call with correlation id or row id "nope"'),
      });
    });

    it("never shows a secret: it was redacted before it was written", async () => {
      const r = await logs(["show", "c-3"]);
      expect(r.stdout).not.toContain(SECRET);
      expect(r.stdout).toContain("Deploy with key [REDACTED:anthropic-key]");
    });

    it("searches prompts and responses", async () => {
      const r = await logs(["search", "tokenizer"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/c-1 .*\[tokenizer\]/);
      expect(ids((await logs(["search", "lexer.ts", "--json"])).stdout)).toEqual(["c-1"]);
      expect(ids((await logs(["search", "foo-bar", "--json"])).stdout)).toEqual(["c-4"]);
      expect(ids((await logs(["search", "the", "--cli", "codex", "--json"])).stdout)).toEqual([
        "c-2",
      ]);
      expect(ids((await logs(["search", "--raw", "tokenizer OR flaky", "--json"])).stdout)).toEqual(
        ["c-2", "c-1"],
      );
      expect(ids((await logs(["search", "--raw", "the NOT flaky", "--json"])).stdout)).toEqual([
        "c-4",
        "c-1",
      ]);
      const bad = await logs(["search", "--raw", 'unbalanced "quote']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(
        backend === "sqlite" ? /SQLite FTS5/ : /PostgreSQL full-text search/,
      );
      expect(ids((await logs(["search", "--raw", "tok*", "--json"])).stdout)).toEqual(["c-1"]);
      expect(
        ids(
          (await logs(["search", "--raw", '"flaky test" OR (ancient NOT lexer)', "--json"])).stdout,
        ),
      ).toEqual(["c-2", "c-old"]);
    });

    it("summarizes usage per CLI and model", async () => {
      const r = await logs(["usage", "--days", "7"]);
      expect(r.code).toBe(0);
      const lines = r.stdout.trimEnd().split("\n");
      expect(lines[0]).toBe("Last 7 day(s)");
      expect(lines[1]).toMatch(
        /^CLI\s+MODEL\s+CALLS\s+FAILED\s+INPUT\s+OUTPUT\s+CACHE R\/W\s+REASONING\s+COST\s+AVG TIME$/,
      );
      expect(r.stdout).toMatch(
        /claude\s+claude-sonnet-5-5\s+1\s+0\s+12\.0k\s+800\s+9000\/500\s+120\s+\$0\.2500\s+42\.0s/,
      );
      expect(r.stdout).toMatch(/codex\s+gpt-6\.1-sol\s+2\s+1\s+20\.0k\s+1500/);
      expect(r.stdout).toMatch(/total\s+5\s+1\s+/);
      expect(r.stdout).toContain("~ includes estimated costs");
      const json = JSON.parse((await logs(["usage", "--days", "7", "--json"])).stdout);
      expect(json.days).toBe(7);
      expect(json.rows.map((x: any) => [x.cli, x.model, x.calls])).toEqual([
        ["claude", "claude-sonnet-5-5", 1],
        ["codex", "gpt-6.1-sol", 2],
        ["gemini", "gemini-2.5-pro", 1],
        ["claude", null, 1],
      ]);
      const all = JSON.parse((await logs(["usage", "--days", "60", "--json"])).stdout);
      expect(all.rows.find((x: any) => x.model === "claude-sonnet-5-5").calls).toBe(2);
      const byDay = JSON.parse(
        (await logs(["usage", "--days", "3", "--by-day", "--cli", "codex", "--json"])).stdout,
      );
      expect(byDay.rows).toHaveLength(1);
      expect(byDay.rows[0]).toMatchObject({ cli: "codex", calls: 2, failed: 1 });
      expect((await logs(["usage", "--by-day"])).stdout).toMatch(/^DAY\s+CLI/m);
    });

    it("explains what is wrong", async () => {
      expect(await logs(["--help"])).toMatchObject({
        code: 0,
        stdout: expect.stringContaining("Usage:"),
      });
      const bad = await logs(["--frobnicate"]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/Unknown option '--frobnicate'[\s\S]*Usage:/);
      expect((await logs(["--limit", "0"])).code).toBe(2);
      expect((await logs(["--status", "weird"])).stderr).toMatch(/--status must be one of/);
      expect((await logs(["usage", "--status", "failed"])).stderr).toMatch(
        /--cli and --model only/,
      );
      expect((await logs(["frob"])).stderr).toMatch(/unknown logs command "frob"/);
      const off = await logs([], { LLM_GATEWAY_LOGS_DB: "none" });
      expect(off).toMatchObject({ code: 1, stderr: expect.stringContaining("disabled") });
      const other = join(dir, "other.db");
      const plain = new Database(other);
      plain.exec("CREATE TABLE t (x)");
      plain.close();
      expect(await logs([], { LLM_GATEWAY_LOGS_DB: other })).toMatchObject({
        code: 1,
        stderr: expect.stringContaining("is not a flight recorder database"),
      });
      // A home where nothing has been recorded yet: said so, and not an error.
      const fresh = { LLM_GATEWAY_LOGS_DB: join(dir, "nothing.db") };
      expect(await logs([], fresh)).toMatchObject({
        code: 0,
        stderr: expect.stringContaining("Nothing recorded yet"),
      });
      expect(await logs(["--json"], fresh)).toMatchObject({ code: 0, stdout: "[]\n" });
      expect(await logs(["usage"], fresh)).toMatchObject({ code: 0 });
      expect(await logs(["show", "c-1"], fresh)).toMatchObject({ code: 1 });
    });

    it("only reads", async () => {
      const snapshot = () =>
        backend === "sqlite"
          ? readFileSync(path)
          : JSON.stringify(
              record.rows(`SELECT (SELECT md5(string_agg(c::text, '' ORDER BY id)) FROM calls c) AS calls,
              (SELECT md5(string_agg(u::text, '' ORDER BY day, cli, model)) FROM usage_daily u) AS usage`),
            );
      const before = snapshot();
      for (const argv of [[], ["usage"], ["search", "x"], ["show", "c-1"]]) await logs(argv);
      expect(snapshot()).toEqual(before);
    });

    it.runIf(backend === "postgres")(
      "PostgreSQL: LLM_GATEWAY_LOGS_DB still decides, and a new database has nothing yet",
      async () => {
        const url = record.env.LLM_GATEWAY_DATABASE_URL!;
        const off = await logs([], { LLM_GATEWAY_DATABASE_URL: url, LLM_GATEWAY_LOGS_DB: "none" });
        expect(off).toMatchObject({ code: 1, stderr: expect.stringContaining("disabled") });
        const file = await logs(["--json"], {
          LLM_GATEWAY_DATABASE_URL: url,
          LLM_GATEWAY_LOGS_DB: join(dir, "elsewhere.db"),
        });
        expect(file).toMatchObject({ code: 0, stderr: expect.stringContaining("elsewhere.db") });
        const fresh = { LLM_GATEWAY_DATABASE_URL: await freshPgDatabase() };
        expect(await logs([], fresh)).toMatchObject({
          code: 0,
          stderr: expect.stringContaining(
            "Nothing recorded yet: no flight recorder tables in PostgreSQL",
          ),
        });
        expect(await logs(["usage", "--json"], fresh)).toMatchObject({
          code: 0,
          stdout: '{ "days": 0, "rows": [] }\n',
        });
        expect(await logs(["datasette"], { LLM_GATEWAY_DATABASE_URL: url })).toMatchObject({
          code: 1,
          stderr: expect.stringContaining("psql"),
        });
        const down = await logs([], {
          LLM_GATEWAY_DATABASE_URL: "postgres://u:secret@127.0.0.1:1/x",
        });
        expect(down.code).toBe(1);
        expect(down.stderr).toMatch(/PostgreSQL \(127\.0\.0\.1:1\/x\) is unreachable/);
        expect(down.stderr).not.toContain("secret");
      },
    );
  });

  describe.skipIf(!hasSqliteUtils || backend !== "sqlite")("sqlite-utils on logs.db", () => {
    const su = (...args: string[]) =>
      JSON.parse(execFileSync("sqlite-utils", args, { encoding: "utf8" }));

    it("lists the tables and views", () => {
      // JSON is sqlite-utils' default output (3.30 has no --json flag).
      const tables = su("tables", path, "--counts").map((t: any) => [t.table, t.count]);
      expect(tables).toEqual(
        expect.arrayContaining([
          ["calls", 7],
          ["calls_fts", 7],
          ["usage_daily", 5],
          ["instances", 1],
        ]),
      );
      const views = su("views", path)
        .map((v: any) => v.view)
        .sort();
      expect(views).toEqual([
        "error_rates",
        "errors_by_category",
        "recent_calls",
        "slowest_calls",
        "usage_by_day",
      ]);
    });

    it("queries the views", () => {
      const usage = su("query", path, "select * from usage_by_day where cli = 'codex'");
      expect(usage).toEqual([
        expect.objectContaining({
          cli: "codex",
          model: "gpt-6.1-sol",
          calls: 2,
          failed: 1,
          estimated_cost_calls: 1,
        }),
      ]);
      const errors = su(
        "query",
        path,
        "select cli, failed, failure_rate from error_rates where cli = 'codex'",
      );
      expect(errors).toEqual([{ cli: "codex", failed: 1, failure_rate: 0.5 }]);
      const slowest = su("rows", path, "slowest_calls", "--limit", "1");
      expect(slowest[0]).toMatchObject({ duration_ms: 95_000, cli: "codex" });
      const categories = su(
        "query",
        path,
        "select category, errors from errors_by_category order by category",
      );
      expect(categories).toEqual([
        { category: "invalid_input", errors: 1 },
        { category: "rate_limited", errors: 1 },
      ]);
    });

    it("finds the full-text index and searches it", () => {
      const hits = su("search", path, "calls", "tokenizer", "-c", "correlation_id");
      expect(hits).toEqual([{ correlation_id: "c-1" }]);
      const phrase = su("search", path, "calls", "flaky test", "--quote", "-c", "correlation_id");
      expect(phrase.map((h: any) => h.correlation_id)).toEqual(["c-2"]);
      const direct = su("query", path, "select rowid from calls_fts where calls_fts match 'lexer'");
      expect(direct).toHaveLength(1);
    });
  });
});
