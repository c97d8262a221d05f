import { existsSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLogsCommand } from "../../src/cli/logs.js";
import { GATEWAY_PG_MIGRATIONS } from "../../src/store/pg-schema.js";
import { startFakeLane, type FakeLane } from "../helpers/fake-lane.js";
import { delay, sc, survivors, type StartedGateway } from "../helpers/gateway.js";
import { BACKENDS } from "../helpers/postgres.js";
import { recordDb } from "../helpers/recorder-db.js";

let lane: FakeLane;
let gw: StartedGateway;

beforeAll(async () => {
  lane = await startFakeLane({ LLM_GATEWAY_RETRY_MAX_ATTEMPTS: "1" });
  gw = lane.gw;
});
afterAll(() => lane.close());

/** The flight recorder's rows for one correlation id. */
function rows(correlationId: string): Record<string, any>[] {
  const db = new Database(join(gw.home, ".llm-cli-gateway", "logs.db"), { readonly: true });
  try {
    return db.prepare(`SELECT * FROM calls WHERE correlation_id = ?`).all(correlationId) as Record<
      string,
      any
    >[];
  } finally {
    db.close();
  }
}

async function waitForEnd(correlationId: string) {
  for (let i = 0; i < 100 && rows(correlationId)[0]?.status === "started"; i++) await delay(50);
  return rows(correlationId);
}

describe("every request path writes exactly one row with the right status", () => {
  it("sync, completed: prompt, response, tokens, cost, session and job ids", async () => {
    const r = await gw.call("claude_request", { prompt: "record me", correlationId: "rec-sync" });
    const [row, ...more] = await waitForEnd("rec-sync");
    expect(more).toEqual([]);
    expect(row).toMatchObject({
      status: "completed",
      cli: "claude",
      prompt: "record me",
      response: "FAKE-REPLY: record me",
      native_session_id: sc(r).sessionId,
      exit_code: 0,
      retry_count: 0,
      breaker_state: "closed",
      cost_estimated: 0,
    });
    expect(row!.input_tokens).toBeGreaterThan(0);
    expect(row!.cost_usd).toBeGreaterThan(0);
    expect(row!.job_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("async, completed, with an estimated cost for codex", async () => {
    await gw.call("codex_request_async", {
      prompt: "async record",
      correlationId: "rec-async",
      model: "gpt-5.5",
    });
    const [row, ...more] = await waitForEnd("rec-async");
    expect(more).toEqual([]);
    expect(row).toMatchObject({ status: "completed", cli: "codex", model: "gpt-5.5" });
    expect(row!.cost_estimated).toBe(1);
  });

  it("failed", async () => {
    await gw.call("gemini_request", {
      prompt: "[[fake:sample=gemini-fault-500]]",
      correlationId: "rec-failed",
    });
    expect(await waitForEnd("rec-failed")).toEqual([
      expect.objectContaining({
        status: "failed",
        error_category: "provider_error",
        exit_code: 244,
      }),
    ]);
  });

  it("rejected before spawn, by the schema and by the gateway", async () => {
    await gw.call("claude_request", { prompt: "", correlationId: "rec-rejected-1" });
    await gw.call("claude_request", {
      prompt: "x",
      cwd: "relative",
      correlationId: "rec-rejected-2",
    });
    expect(rows("rec-rejected-1")).toEqual([
      expect.objectContaining({ status: "rejected", error_category: "invalid_input" }),
    ]);
    expect(rows("rec-rejected-2")).toEqual([
      expect.objectContaining({
        status: "rejected",
        error_category: "invalid_input",
        error_message: expect.stringMatching(/cwd must be an absolute path/),
      }),
    ]);
  });

  it("canceled", async () => {
    lane.reset();
    const { jobId } = sc(
      await gw.call("codex_request_async", {
        prompt: "[[fake:hang]]",
        correlationId: "rec-canceled",
      }),
    );
    for (let i = 0; i < 100 && lane.invocations().length === 0; i++) await delay(25);
    await gw.call("llm_job_cancel", { jobId });
    expect(await waitForEnd("rec-canceled")).toEqual([
      expect.objectContaining({ status: "canceled", error_category: "canceled" }),
    ]);
    expect(await survivors(lane.invocations().map((i) => i.pid))).toEqual([]);
  });

  it("secrets are redacted before they are written", async () => {
    const secret = "sk-ant-api03-" + "A".repeat(90);
    await gw.call("claude_request", { prompt: `my key is ${secret}`, correlationId: "rec-secret" });
    const [row] = await waitForEnd("rec-secret");
    expect(row!.prompt).not.toContain(secret);
    expect(row!.prompt).toContain("[REDACTED");
  });
});

describe("LLM_GATEWAY_LOGS_DB=none", () => {
  it("records nothing and creates no file", async () => {
    const off = await lane.startAnother({
      LLM_GATEWAY_LOGS_DB: "none",
      LLM_GATEWAY_HOME: join(lane.dir, "off-home"),
    });
    const r = await off.call("claude_request", { prompt: "not recorded" });
    expect(r.isError).toBeFalsy();
    expect(existsSync(join(lane.dir, "off-home", "logs.db"))).toBe(false);
    expect(existsSync(join(lane.dir, "off-home", "gateway.db"))).toBe(true);
  });
});

// The gateway on PostgreSQL records there, and `logs` shows it. It needs the gateway store's
// PostgreSQL schema too (store/pg-schema.ts), which lands separately: until then it is skipped.
describe.runIf(BACKENDS.includes("postgres") && GATEWAY_PG_MIGRATIONS.length > 0)(
  "a gateway on PostgreSQL",
  () => {
    it("records a call in the recorder schema, and logs shows it", async () => {
      const record = await recordDb("postgres", join(lane.dir, "unused.db"));
      try {
        const home = join(lane.dir, "pg-home");
        const pgGw = await lane.startAnother({ ...record.env, LLM_GATEWAY_HOME: home });
        const r = await pgGw.call("claude_request", {
          prompt: "recorded in postgres",
          correlationId: "rec-pg",
        });
        expect(r.isError).toBeFalsy();
        let row: Record<string, any> | undefined;
        for (let i = 0; i < 100; i++) {
          row = record.rows(`SELECT * FROM calls WHERE correlation_id = 'rec-pg'`)[0];
          if (row && row.status !== "started") break;
          await delay(50);
        }
        expect(row).toMatchObject({
          status: "completed",
          cli: "claude",
          response: "FAKE-REPLY: recorded in postgres",
        });
        expect(existsSync(join(home, "logs.db"))).toBe(false);
        let out = "";
        const code = await runLogsCommand(["show", "rec-pg"], record.env, {
          stdout: (t) => (out += t),
          stderr: (t) => (out += t),
        });
        expect(code).toBe(0);
        expect(out).toContain("--- response ---\nFAKE-REPLY: recorded in postgres");
      } finally {
        record.close();
      }
    });

    it("LLM_GATEWAY_LOGS_DB=none still records nothing", async () => {
      const record = await recordDb("postgres", join(lane.dir, "unused.db"));
      try {
        const off = await lane.startAnother({
          ...record.env,
          LLM_GATEWAY_LOGS_DB: "none",
          LLM_GATEWAY_HOME: join(lane.dir, "pg-off-home"),
        });
        expect((await off.call("claude_request", { prompt: "not recorded" })).isError).toBeFalsy();
        expect(record.rows(`SELECT to_regclass('recorder.calls')::text AS t`)).toEqual([
          { t: null },
        ]);
      } finally {
        record.close();
      }
    });
  },
);
