// PostgreSQL only: `llm-cli-gateway db copy` takes a home's gateway.db and logs.db, made by the real
// gateway on SQLite, into PostgreSQL; a gateway and `logs` started on PostgreSQL then read them.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeLane, type FakeLane } from "../helpers/fake-lane.js";
import { MAIN, sc, waitForJob } from "../helpers/gateway.js";
import { freshPgDatabase, PG_ADMIN_URL } from "../helpers/postgres.js";

describe.skipIf(!PG_ADMIN_URL)("llm-cli-gateway db copy", () => {
  let lane: FakeLane;
  beforeAll(async () => {
    lane = await startFakeLane({ LLM_GATEWAY_DATABASE_URL: "" });
  });
  afterAll(() => lane?.close());

  const run = (args: string[], env: Record<string, string>) =>
    spawnSync(process.execPath, [MAIN, ...args], {
      encoding: "utf8",
      env: {
        PATH: process.env.PATH ?? "",
        HOME: lane.gw.home,
        LLM_GATEWAY_HOME: join(lane.gw.home, ".llm-cli-gateway"),
        ...env,
      },
    });

  it("copies both files once; a gateway and logs on PostgreSQL see the same sessions, jobs and calls", async () => {
    const gw = lane.gw;
    const { correlationId, sessionId } = sc(await gw.call("claude_request", { prompt: "one" }));
    const { jobId } = sc(await gw.call("codex_request_async", { prompt: "two" }));
    expect((await waitForJob(gw, jobId)).status).toBe("completed");
    const sessions = sc(await gw.call("session_list", {})).sessions;
    await gw.close();

    expect(run(["db", "copy"], {}).status, "without a URL: a usage error").toBe(2);
    const url = await freshPgDatabase();
    const first = run(["db", "copy"], { LLM_GATEWAY_DATABASE_URL: url });
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/gateway\.db -> .* schema gateway: \d+ sessions/);
    expect(first.stdout).toMatch(/logs\.db -> .* schema recorder: \d+ instances, \d+ calls/);

    const again = run(["db", "copy"], { LLM_GATEWAY_DATABASE_URL: url });
    expect(again.status, "a second copy is refused").toBe(1);
    expect(again.stderr).toMatch(/already holds|already has calls/);

    const onPg = await lane.startAnother({ LLM_GATEWAY_DATABASE_URL: url });
    try {
      const listed = sc(await onPg.call("session_list", {})).sessions;
      expect(listed.map((s: { id: string }) => s.id).sort()).toEqual(
        sessions.map((s: { id: string }) => s.id).sort(),
      );
      expect(listed.map((s: { id: string }) => s.id)).toContain(sessionId);
      expect(sc(await onPg.call("llm_job_status", { jobId })).status).toBe("completed");
    } finally {
      await onPg.close();
    }
    const shown = run(["logs", "show", correlationId, "--json"], {
      LLM_GATEWAY_DATABASE_URL: url,
    });
    expect(shown.status, shown.stderr).toBe(0);
    const calls = JSON.parse(shown.stdout) as { cli: string; status: string }[];
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ cli: "claude", status: "completed" });
  });
});
