import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeLane, type FakeLane } from "../helpers/fake-lane.js";
import {
  delay,
  sc,
  survivors,
  textOf,
  waitForJob,
  type StartedGateway,
} from "../helpers/gateway.js";

const CLIS = ["claude", "codex", "gemini"] as const;

let lane: FakeLane;
let gw: StartedGateway;
// On PostgreSQL a dead gateway is found by its lease alone (never by its pid): a short one here.
const LEASE: Record<string, string> =
  process.env.LLM_GATEWAY_TEST_BACKEND === "postgres" ? { LLM_GATEWAY_LEASE_MS: "1500" } : {};

beforeAll(async () => {
  lane = await startFakeLane({
    LLM_GATEWAY_MAX_CONCURRENT: "3",
    LLM_GATEWAY_MAX_QUEUE: "1",
    ...LEASE,
  });
  gw = lane.gw;
});
afterAll(() => lane.close());
beforeEach(() => lane.reset());

/** Waits until the fake CLI of the newest invocation has started, and returns its pid. */
async function cliPid(count = 1): Promise<number> {
  for (let i = 0; i < 200 && lane.invocations().length < count; i++) await delay(25);
  return lane.invocations()[count - 1]!.pid;
}

describe("async jobs", () => {
  it.each(CLIS)(
    "%s_request_async returns a job id; the job completes with the CLI's reply",
    async (cli) => {
      const started = sc(
        await gw.call(`${cli}_request_async`, { prompt: "async hello", correlationId: "job-corr" }),
      );
      expect(started).toMatchObject({ cli, correlationId: "job-corr" });
      expect(started.jobId).toMatch(/^[0-9a-f-]{36}$/);
      const status = await waitForJob(gw, started.jobId);
      expect(status).toMatchObject({ status: "completed", cli, correlationId: "job-corr" });
      const result = sc(await gw.call("llm_job_result", { jobId: started.jobId, raw: true }));
      expect(result.result).toMatchObject({ text: "FAKE-REPLY: async hello", cli });
      expect(result.result.sessionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(result.stdout.text).toContain(result.result.sessionId);
      expect(result.stdout.totalChars).toBe(result.stdout.text.length);
      expect(result.stdout.nextOffset).toBeNull();
    },
  );

  it("maxChars bounds all the text llm_job_result returns, answer included; offset reads on", async () => {
    const { jobId } = sc(await gw.call("claude_request_async", { prompt: "[[fake:bytes=5000]]" }));
    expect((await waitForJob(gw, jobId)).status).toBe("completed");
    let offset: number | null = 0;
    let answer = "";
    for (let pages = 0; offset !== null && pages < 10; pages++) {
      const r = await gw.call("llm_job_result", { jobId, maxChars: 1000, offset });
      const page = sc(r);
      expect(page).not.toHaveProperty("stdout"); // the raw stream only with raw: true
      expect(page.result.text.length).toBeLessThanOrEqual(1000);
      expect(textOf(r).length).toBeLessThan(1000 + 1500); // the rest is metadata
      expect(page.textPage).toMatchObject({ offset, totalChars: 5000 });
      answer += page.result.text;
      offset = page.textPage.nextOffset;
    }
    expect(answer).toBe("x".repeat(5000));
  });

  it("pages the raw output with raw: true, per stream, within maxChars", async () => {
    const { jobId } = sc(await gw.call("codex_request_async", { prompt: "[[fake:bytes=100000]]" }));
    const status = await waitForJob(gw, jobId);
    expect(status.status).toBe("completed");
    let offset = 0;
    let whole = "";
    for (let pages = 0; offset !== null && pages < 10; pages++) {
      const page = sc(
        await gw.call("llm_job_result", {
          jobId,
          maxChars: 30_000,
          offset: 100_000, // past the answer: all of maxChars goes to the raw pages
          raw: true,
          stdoutOffset: offset,
        }),
      );
      expect(page.result.text).toBe("");
      expect(page.stdout.text.length + page.stderr.text.length).toBeLessThanOrEqual(30_000);
      whole += page.stdout.text;
      offset = page.stdout.nextOffset;
    }
    expect(whole.length).toBe(status.stdoutChars);
    expect(whole).toContain("x".repeat(100_000));
    const refused = await gw.call("llm_job_result", { jobId, stdoutOffset: 10 });
    expect(textOf(refused)).toMatch(/^\[invalid_input\] stdoutOffset .* raw: true/);
    const fractional = await gw.call("llm_job_result", { jobId, offset: 1.5 });
    expect(textOf(fractional)).toMatch(/^\[invalid_input\].*offset.*integer/);
  });

  it("cancels a running job: the process group stops, partial output is kept (how fast: bench/jobs.mjs)", async () => {
    const { jobId } = sc(
      await gw.call("claude_request_async", {
        prompt: "[[fake:child]] [[fake:partial=half-done]] [[fake:hang]]",
      }),
    );
    const pid = await cliPid();
    await delay(300); // let it print its partial output and the sink flush it
    const canceled = sc(await gw.call("llm_job_cancel", { jobId }));
    const status = await waitForJob(gw, jobId);
    expect(canceled.jobId).toBe(jobId);
    expect(status.status).toBe("canceled");
    expect(status.error.category).toBe("canceled");
    expect(await survivors([pid, ...lane.grandchildren()])).toEqual([]);
    expect(sc(await gw.call("llm_job_result", { jobId, raw: true })).stdout.text).toBe("half-done");
  });

  it("queues beyond the concurrency limit and answers saturated beyond the queue", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++)
      ids.push(sc(await gw.call("gemini_request_async", { prompt: "[[fake:hang]]" })).jobId);
    expect(sc(await gw.call("llm_job_status", { jobId: ids[3]! })).status).toBe("queued");
    const refused = await gw.call("gemini_request_async", { prompt: "[[fake:hang]]" });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(
      /^\[saturated\] Too many requests: 3 running .* 1 queued \(limit 1\)/,
    );
    // A sync request is refused the same way, before anything runs.
    expect(textOf(await gw.call("claude_request", { prompt: "x" }))).toMatch(/^\[saturated\]/);
    await gw.call("llm_job_cancel", { jobId: ids[0]! });
    expect((await waitForJob(gw, ids[3]!, { until: (s) => s === "running" })).status).toBe(
      "running",
    );
    for (const id of ids) await gw.call("llm_job_cancel", { jobId: id });
    for (const id of ids) expect((await waitForJob(gw, id)).status).toBe("canceled");
  });

  it("rejects unknown and malformed job ids", async () => {
    expect(
      textOf(await gw.call("llm_job_status", { jobId: "11111111-2222-4333-8444-555555555555" })),
    ).toMatch(/Unknown jobId/);
    expect(textOf(await gw.call("llm_job_result", { jobId: "../x" }))).toMatch(
      /^\[invalid_input\].*jobId/,
    );
  });

  it("a sync request the client cancels stops its CLI", async () => {
    const abort = new AbortController();
    const call = gw.client.callTool(
      { name: "codex_request", arguments: { prompt: "[[fake:hang]]" } },
      undefined,
      { signal: abort.signal },
    );
    const pid = await cliPid();
    abort.abort();
    await expect(call).rejects.toThrow();
    expect(await survivors([pid])).toEqual([]);
  });
});

describe("progress", () => {
  it("streams throttled progress notes built from the CLI's events, without prompt text", async () => {
    const notes: { progress: number; message?: string; at: number }[] = [];
    const r = await gw.client.callTool(
      {
        name: "claude_request",
        arguments: { prompt: "secret-prompt [[fake:stream=12]] [[fake:every=250]]" },
      },
      undefined,
      {
        onprogress: (p) => notes.push({ progress: p.progress, message: p.message, at: Date.now() }),
        timeout: 30_000,
      },
    );
    expect(r.isError).toBeFalsy();
    expect(notes.length).toBeGreaterThanOrEqual(2);
    expect(notes.length).toBeLessThanOrEqual(5); // 12 events over ~3 s, at most one a second
    expect(notes.map((n) => n.message)).toContain("claude is using Read");
    for (const n of notes) expect(n.message).not.toContain("secret-prompt");
    for (let i = 1; i < notes.length; i++) {
      expect(notes[i]!.progress).toBeGreaterThan(notes[i - 1]!.progress);
      expect(notes[i]!.at - notes[i - 1]!.at).toBeGreaterThanOrEqual(900);
    }
  });
});

describe("MCP tasks", () => {
  it("a task-augmented tools/call creates a task on the job store and returns the result", async () => {
    const messages = [];
    for await (const m of gw.client.experimental.tasks.callToolStream(
      { name: "gemini_request", arguments: { prompt: "as a task" } },
      CallToolResultSchema,
      { task: { ttl: 60_000 } },
    )) {
      messages.push(m);
    }
    const created = messages.find((m) => m.type === "taskCreated") as any;
    const result = messages.at(-1) as any;
    expect(created.task.taskId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.type).toBe("result");
    expect(textOf(result.result)).toBe("FAKE-REPLY: as a task");
    expect(sc(await gw.call("llm_job_status", { jobId: created.task.taskId })).status).toBe(
      "completed",
    );
  });

  it("tasks/cancel stops the process", async () => {
    const stream = gw.client.experimental.tasks.callToolStream(
      { name: "claude_request", arguments: { prompt: "[[fake:hang]]" } },
      CallToolResultSchema,
      { task: { ttl: 60_000 } },
    );
    const first = (await stream.next()).value as any;
    expect(first.type).toBe("taskCreated");
    const pid = await cliPid();
    await gw.client.experimental.tasks.cancelTask(first.task.taskId);
    expect(await survivors([pid])).toEqual([]);
    expect((await waitForJob(gw, first.task.taskId)).status).toBe("canceled");
    await stream.return(undefined);
  });
});

describe("jobs outlive the gateway process", () => {
  it("a job whose gateway was killed is reported interrupted by the next one, with its output, and its CLI is stopped", async () => {
    const victim = await lane.startAnother();
    const { jobId } = sc(
      await victim.call("codex_request_async", { prompt: "[[fake:partial=so-far]] [[fake:hang]]" }),
    );
    const pid = await cliPid();
    await delay(1800); // its output is stored (an unfinished line once it has been quiet for 1 s)
    // A second, live gateway never marks the first one's running job as dead.
    const bystander = await lane.startAnother();
    expect(sc(await bystander.call("llm_job_status", { jobId })).status).toBe("running");
    process.kill(victim.pid, "SIGKILL");
    await delay(200);
    const next = await lane.startAnother();
    // SQLite: at once (the pid is gone); PostgreSQL: once the lease has run out.
    const status = await waitForJob(next, jobId, { ms: 5000 });
    expect(status.status).toBe("interrupted");
    expect(status.error.category).toBe("interrupted");
    expect(sc(await next.call("llm_job_result", { jobId, raw: true })).stdout.text).toBe("so-far");
    expect(await survivors([pid])).toEqual([]);
  });

  it("a job cancelled from another gateway process is stopped by the one running it (its cancel flag)", async () => {
    const runner = await lane.startAnother({ LLM_GATEWAY_HOST_ID: "runner-1" });
    const { jobId } = sc(
      await runner.call("codex_request_async", {
        prompt: "[[fake:hang]] cancel from afar",
        createNewSession: true,
      }),
    );
    const pid = await cliPid();
    const other = await lane.startAnother();
    const reply = sc(await other.call("llm_job_cancel", { jobId }));
    // Not stopped by the other process itself: the reply says who stops it, and the status now.
    expect(reply.status).toBe("running");
    expect(reply.cancel).toMatch(
      /^cancel requested; the job runs on host runner-1, which stops it/,
    );
    expect((await waitForJob(other, jobId, { ms: 3000 })).status).toBe("canceled");
    expect(await survivors([pid])).toEqual([]);
  });

  it("finished jobs are removed after the retention time", async () => {
    const { jobId } = sc(await gw.call("codex_request_async", { prompt: "short-lived" }));
    await waitForJob(gw, jobId);
    await delay(1200);
    const pruner = await lane.startAnother({ LLM_GATEWAY_JOB_RETENTION_HOURS: "0.0003" }); // about 1 s
    expect(textOf(await pruner.call("llm_job_status", { jobId }))).toMatch(/Unknown jobId/);
  });
});
