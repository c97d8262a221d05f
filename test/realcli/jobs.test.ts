import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../src/providers/index.js";
import { delay, sc, textOf, waitForJob } from "../helpers/gateway.js";
import { startRealLane, type RealLane } from "./harness.js";
import { processesWithEnv } from "./processes.js";

const CLIS = ["claude", "codex", "gemini"] as const;
const MODEL = { claude: "claude-sonnet-4-5", codex: "gpt-5.5", gemini: "gemini-2.5-pro" } as const;
const tag = () => randomBytes(4).toString("hex");

let lane: RealLane;
let envMarker: string;
// On PostgreSQL a host is judged by its lease alone, never by pid: a short one, so the next
// gateway finds the killed one's lease lapsed (SQLite also goes by the pid).
const LEASE: Record<string, string> =
  process.env.LLM_GATEWAY_TEST_BACKEND === "postgres" ? { LLM_GATEWAY_LEASE_MS: "1500" } : {};

beforeAll(async () => {
  lane = await startRealLane(LEASE);
  envMarker = `LLM_GATEWAY_HOME=${join(lane.home, ".llm-cli-gateway")}`;
});
afterAll(() => lane.close());

/**
 * CLI processes of this lane, other than gateway processes and the `<cli> --version` probes that
 * list_models runs in the background (they end by themselves; a job's CLI never gets --version).
 */
const cliProcesses = (gateways: number[]) =>
  processesWithEnv(envMarker).filter((pid) => !gateways.includes(pid) && !isVersionProbe(pid));

function isVersionProbe(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").filter(Boolean);
    return argv.length <= 3 && argv.at(-1) === "--version";
  } catch {
    return false;
  }
}

describe.each(CLIS)("real %s jobs", (cli) => {
  it("an async job completes with the mock's reply", async () => {
    const t = tag();
    const { jobId } = sc(
      await lane.gateway.call(`${cli}_request_async`, { prompt: `async ${t}`, model: MODEL[cli] }),
    );
    expect((await waitForJob(lane.gateway, jobId, { ms: 60_000, everyMs: 100 })).status).toBe(
      "completed",
    );
    const result = sc(
      await lane.gateway.call("llm_job_result", {
        jobId,
        maxChars: 1_000_000,
        raw: true,
      }),
    );
    expect(result.result.text).toBe(`MOCK-REPLY 1: async ${t}`);
    // The stored stdout is the CLI's whole JSONL stream, as it printed it (the output thread
    // decodes and stores it; the parser only kept the lines it needed).
    const stdout: string = result.stdout.text;
    expect(stdout.length).toBe(result.stdout.totalChars);
    expect(result.stdout.nextOffset).toBeNull();
    const events = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.length).toBeGreaterThan(2);
    const reparsed = PROVIDERS[cli].parse({ stdout, stderr: "", exitCode: 0, signal: null });
    expect(reparsed.text).toBe(`MOCK-REPLY 1: async ${t}`);
    expect(reparsed.nativeSessionId).toBe(result.result.sessionId);
  });

  it("a job on a hung API is cancelled and leaves no process", async () => {
    const { jobId } = sc(
      await lane.gateway.call(`${cli}_request_async`, {
        prompt: `hang ${tag()} [[mock:hang]]`,
        model: MODEL[cli],
      }),
    );
    await delay(1500); // the CLI is up and waiting for the API
    expect(cliProcesses([lane.gateway.pid]).length).toBeGreaterThan(0);
    const t0 = Date.now();
    await lane.gateway.call("llm_job_cancel", { jobId });
    const status = await waitForJob(lane.gateway, jobId, { ms: 60_000, everyMs: 100 });
    expect(status.status).toBe("canceled");
    expect(Date.now() - t0).toBeLessThan(2500);
    await delay(200);
    expect(cliProcesses([lane.gateway.pid])).toEqual([]);
  });

  it("a task-augmented tools/call completes", async () => {
    const t = tag();
    const messages: any[] = [];
    for await (const m of lane.gateway.client.experimental.tasks.callToolStream(
      { name: `${cli}_request`, arguments: { prompt: `task ${t}`, model: MODEL[cli] } },
      CallToolResultSchema,
      { task: { ttl: 60_000 }, timeout: 60_000 },
    )) {
      messages.push(m);
    }
    expect(messages[0].type).toBe("taskCreated");
    expect(textOf(messages.at(-1).result)).toBe(`MOCK-REPLY 1: task ${t}`);
  });

  it("a slow streamed reply produces progress notifications without prompt text", async () => {
    const t = tag();
    const notes: { message?: string }[] = [];
    const r = await lane.gateway.client.callTool(
      {
        name: `${cli}_request`,
        arguments: { prompt: `slow ${t} [[mock:stall=2500]]`, model: MODEL[cli] },
      },
      undefined,
      { onprogress: (p) => notes.push({ message: p.message }), timeout: 60_000 },
    );
    expect(r.isError, textOf(r as any)).toBeFalsy();
    expect(notes.length).toBeGreaterThan(0);
    for (const n of notes) {
      expect(n.message).toMatch(new RegExp(`^${cli}`));
      expect(n.message).not.toContain(t);
    }
  });
});

/** Waits up to `ms` for the lane's CLI processes to be gone; returns those left. */
async function cliSurvivors(gateways: number[], ms: number) {
  const deadline = Date.now() + ms;
  let left = cliProcesses(gateways);
  while (left.length && Date.now() < deadline) {
    await delay(100);
    left = cliProcesses(gateways);
  }
  return left;
}

describe("a gateway killed mid-job", () => {
  it.each(CLIS)(
    "%s: its CLI is stopped without a restart; the job is reported interrupted after one",
    async (cli) => {
      const { jobId } = sc(
        await lane.gateway.call(`${cli}_request_async`, {
          prompt: `doomed ${tag()} [[mock:hang]]`,
          model: MODEL[cli],
        }),
      );
      await delay(1500);
      const killed = lane.gateway.pid;
      expect(cliProcesses([killed]).length).toBeGreaterThan(0);
      process.kill(killed, "SIGKILL");
      // No gateway runs now: the spawner process stops the CLI (within the 1.5 s kill grace).
      expect(await cliSurvivors([killed], 3000)).toEqual([]);
      const next = await lane.restartGateway();
      expect((await waitForJob(next, jobId, { ms: 5_000 })).status).toBe("interrupted");
      await delay(300);
      expect(cliProcesses([next.pid])).toEqual([]);
    },
  );
});
