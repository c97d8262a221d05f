import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLogsCommand } from "../../src/cli/logs.js";
import { copyRecorderToPostgres } from "../../src/recorder/copy.js";
import { openRecorderDb } from "../../src/recorder/store.js";
import { Recorder } from "../../src/recorder/writer.js";
import { SqliteDb, type SqlDb } from "../../src/store/sql.js";
import { BACKENDS, freshPgDatabase } from "../helpers/postgres.js";
import { PG_TIMEOUTS } from "../helpers/recorder-db.js";

let dir: string;
let path: string;
let url: string;
let target: SqlDb;

const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();

async function logs(argv: string[], env: NodeJS.ProcessEnv) {
  let stdout = "";
  let stderr = "";
  const code = await runLogsCommand(argv, env, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    columns: 160,
  });
  return { code, stdout, stderr };
}

describe.runIf(BACKENDS.includes("postgres"))("copying logs.db into PostgreSQL", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "llm-gateway-recorder-copy-"));
    path = join(dir, "logs.db");
    // A logs.db with history: ended, failed, rejected and running calls over several days, and
    // usage totals that outlive calls pruned for size.
    const r = Recorder.open(path, {
      maintenance: false,
      maxAgeDays: 0,
      maxBytes: 0,
      onError: () => {},
    });
    for (let i = 0; i < 450; i++) {
      const id = r.start({
        correlationId: `c-${i}`,
        cli: ["claude", "codex", "gemini"][i % 3]!,
        model: i % 3 === 1 ? "gpt-6.1-sol" : null,
        prompt: `question ${i} about the tokenizer ${"and more words ".repeat(i % 7)}`,
        consultationId: i % 10 === 0 ? `consult-${i}` : null,
        startedAt: daysAgo(i % 5),
      });
      if (i % 50 === 7) continue; // still running when its gateway stopped
      r.finish(id, {
        responseText: i % 9 === 0 ? null : `answer ${i}: split lexer.ts`,
        errorCategory: i % 9 === 0 ? "rate_limited" : null,
        errorMessage: i % 9 === 0 ? "429 Too Many Requests" : null,
        durationMs: 100 + i,
        usage: { inputTokens: 1000 + i, outputTokens: 10 + i },
        thinking: i % 4 === 0 ? ["think", `again ${i}`] : null,
      });
    }
    r.rejected(
      { correlationId: "rej", cli: "claude", prompt: "x" },
      {
        category: "invalid_input",
        message: "cwd: /nope",
      },
    );
    r.flushIndex();
    (r as unknown as { db: SqlDb }).db.exec(`DELETE FROM calls WHERE id <= 20`); // pruned for size
    (r as unknown as { instances: { stop(): void } }).instances.stop();
    (r as unknown as { db: SqlDb }).db.close(); // a gateway that stopped without its shutdown
    url = await freshPgDatabase();
    target = openRecorderDb({ postgres: { url, ...PG_TIMEOUTS } });
  });
  afterAll(() => {
    target?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("copies every row, keeps ids and totals, builds the search index, and `logs` reads the same", async () => {
    const source = new SqliteDb(new Database(path, { readonly: true }));
    const copied = copyRecorderToPostgres(source, target);
    const all = (db: SqlDb, sql: string) => db.prepare(sql).all();
    expect(copied).toEqual({
      instances: 1,
      calls: 431,
      usage_daily: (all(source, `SELECT * FROM usage_daily`) as unknown[]).length,
      calls_fts: 431 - 8,
    });
    expect(all(target, `SELECT * FROM calls ORDER BY id`)).toEqual(
      all(source, `SELECT * FROM calls ORDER BY id`),
    );
    const usage = `SELECT * FROM usage_daily ORDER BY day, cli, model`;
    expect(all(target, usage)).toEqual(all(source, usage));
    expect((all(target, usage) as { calls: number }[]).reduce((n, u) => n + u.calls, 0)).toBe(
      451 - 9,
    );
    expect(all(target, `SELECT id, pid, hostname, lease_until FROM instances`)).toEqual([
      expect.objectContaining({ lease_until: null }),
    ]);
    source.close();

    // The same answers, printed the same, from either backend.
    const sqliteEnv = { LLM_GATEWAY_LOGS_DB: path };
    const pgEnv = { LLM_GATEWAY_DATABASE_URL: url };
    for (const argv of [
      ["--limit", "30"],
      ["--cli", "codex", "--status", "failed"],
      ["usage", "--days", "7"],
      ["usage", "--by-day", "--json"],
      ["show", "c-37"],
      ["show", "consult-40", "--json"],
      ["show", "25"],
    ]) {
      const [a, b] = [await logs(argv, sqliteEnv), await logs(argv, pgEnv)];
      expect(b.code, argv.join(" ")).toBe(0);
      expect(b.stdout, argv.join(" ")).toBe(a.stdout);
    }
    const found = async (env: NodeJS.ProcessEnv, ...words: string[]) =>
      (
        JSON.parse((await logs(["search", ...words, "--limit", "500", "--json"], env)).stdout) as {
          id: number;
        }[]
      ).map((r) => r.id);
    for (const words of [["lexer.ts"], ["question", "3"], ["--raw", "tokenizer NOT answer"]])
      expect(await found(pgEnv, ...words), words.join(" ")).toEqual(
        await found(sqliteEnv, ...words),
      );
    expect((await found(pgEnv, "lexer.ts")).length).toBeGreaterThan(300);
  });

  it("refuses a second copy, and new calls continue after the copied ids", () => {
    const source = new SqliteDb(new Database(path, { readonly: true }));
    expect(() => copyRecorderToPostgres(source, target)).toThrow(/already has calls/);
    source.close();
    const pg = Recorder.open(
      { postgres: { url, ...PG_TIMEOUTS } },
      {
        onError: (e) => {
          throw e;
        },
      },
    );
    const id = pg.start({ correlationId: "after", cli: "codex", prompt: "new" });
    expect(id).toBe(452);
    pg.close();
    // The next gateway found the copied call left running and marked it interrupted.
    const left = target.prepare(`SELECT count(*) AS n FROM calls WHERE status = 'started'`).get();
    expect(left).toEqual({ n: 0 });
  });
});
