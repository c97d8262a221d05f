// PostgreSQL only: a gateway.db made by the real gateway (fake CLIs, SQLite) copied into an empty
// PostgreSQL gateway schema (store/copy.ts); a gateway started on PostgreSQL then reads it all back.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyGatewayToPostgres } from "../../src/store/copy.js";
import { openGatewayStore } from "../../src/store/open.js";
import { SqliteDb } from "../../src/store/sql.js";
import { TokenStore } from "../../src/store/tokens.js";
import { startFakeLane, type FakeLane } from "../helpers/fake-lane.js";
import { sc, textOf, waitForJob } from "../helpers/gateway.js";
import { freshPgDatabase, PG_ADMIN_URL, pgRows } from "../helpers/postgres.js";

const settings = (url: string) => ({ url, statementTimeoutMs: 10_000, connectTimeoutMs: 5_000 });

describe.skipIf(!PG_ADMIN_URL)("copying gateway.db into PostgreSQL", () => {
  let lane: FakeLane;
  beforeAll(async () => {
    lane = await startFakeLane({ LLM_GATEWAY_DATABASE_URL: "", LLM_GATEWAY_LOGS_DB: "none" });
  });
  afterAll(() => lane?.close());

  it("every session, job, output chunk and token arrives; a gateway on PostgreSQL reads them", async () => {
    const gw = lane.gw;
    const first = sc(await gw.call("claude_request", { prompt: "one" })).sessionId;
    await gw.call("claude_request", { prompt: "two", sessionId: first });
    const { session: gone } = sc(await gw.call("session_create", { cli: "gemini" }));
    await gw.call("session_delete", { sessionId: gone.id });
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i} ${"x".repeat(80)}`).join("\n");
    const jobs: string[] = [];
    for (const cli of ["codex", "gemini", "claude"]) {
      const { jobId } = sc(
        await gw.call(`${cli}_request_async`, { prompt: `[[fake:reply=${lines}]]` }),
      );
      expect((await waitForJob(gw, jobId)).status).toBe("completed");
      jobs.push(jobId);
    }
    const before = sc(await gw.call("session_list", {})).sessions;
    const page = sc(
      await gw.call("llm_job_result", { jobId: jobs[0], offset: 100, maxChars: 500 }),
    );
    await gw.close();

    const sqlite = openGatewayStore(
      { sqlite: join(lane.gw.home, ".llm-cli-gateway", "gateway.db") },
      "copy",
    ) as SqliteDb;
    const { token } = new TokenStore(sqlite).create({ name: "ci-runner", clis: ["codex"] });
    const url = await freshPgDatabase();
    const target = openGatewayStore({ postgres: settings(url) }, "copy");
    let copied: Record<string, number>;
    let rowidOrder: string[] = [];
    try {
      copied = copyGatewayToPostgres(sqlite, target);
      const sqliteCount = (t: string) =>
        (sqlite.handle.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
      for (const [table, n] of Object.entries(copied)) expect(n, table).toBe(sqliteCount(table));
      expect(copied).toMatchObject({ sessions: before.length, tokens: 1 });
      expect(copied.jobs).toBeGreaterThanOrEqual(jobs.length); // sync requests are jobs too
      rowidOrder = (
        sqlite.handle.prepare(`SELECT id FROM jobs ORDER BY rowid`).all() as { id: string }[]
      ).map((r) => r.id);
      expect(copied.job_output).toBeGreaterThan(0);
      expect(copied.deleted_sessions).toBe(1);
      // Into a target that holds rows: refused, nothing added.
      expect(() => copyGatewayToPostgres(sqlite, target)).toThrow(
        /already holds \d+ sessions.*copy gateway\.db only into an empty one/,
      );
      expect(new TokenStore(target).verify(token)?.name).toBe("ci-runner");
    } finally {
      sqlite.close();
      target.close();
    }
    // seq in rowid order, and the sequence past it: a new job comes after the copied ones.
    const seqs = await pgRows<{ id: string; seq: number }>(
      url,
      `SELECT id, seq FROM gateway.jobs ORDER BY seq`,
    );
    expect(seqs.map((r) => r.id)).toEqual(rowidOrder);
    expect(rowidOrder.filter((id) => jobs.includes(id))).toEqual(jobs);

    const pg = await lane.startAnother({ LLM_GATEWAY_DATABASE_URL: url });
    expect(sc(await pg.call("session_list", {})).sessions).toEqual(before);
    expect(sc(await pg.call("session_get", { sessionId: first })).session.requestCount).toBe(2);
    expect(
      textOf(await pg.call("gemini_request", { prompt: "resume", sessionId: gone.id })),
    ).toMatch(/deleted/i);
    for (const id of jobs)
      expect(sc(await pg.call("llm_job_status", { jobId: id })).status).toBe("completed");
    expect(
      sc(await pg.call("llm_job_result", { jobId: jobs[0], offset: 100, maxChars: 500 })),
    ).toEqual(page);
    const { jobId } = sc(await pg.call("codex_request_async", { prompt: "after the copy" }));
    await waitForJob(pg, jobId);
    const [last] = await pgRows<{ id: string }>(
      url,
      `SELECT id FROM gateway.jobs ORDER BY seq DESC LIMIT 1`,
    );
    expect(last!.id).toBe(jobId);
  });
});
