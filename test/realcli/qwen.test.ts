import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sc, textOf, waitForJob } from "../helpers/gateway.js";
import { startRealLane, type RealLane } from "./harness.js";

// The real qwen (Qwen Code 0.24.4, on this Node) behind agent_request, talking to the mock's
// Chat Completions: reply, session resume continuity, the model flag, a fault, an MCP server.

const tag = () => randomBytes(4).toString("hex");
let lane: RealLane;
let stateDir: string;
let miniLog: string;
const SECRET = `sk-mini-${randomBytes(12).toString("hex")}`;
const qwen = (args: Record<string, unknown>) =>
  lane.gateway.call("agent_request", { cli: "qwen", ...args });

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "qwen-lane-"));
  miniLog = join(stateDir, "mini-calls.jsonl");
  const config = join(stateDir, "mcp-servers.json");
  const server = {
    command: process.execPath,
    args: [resolve(import.meta.dirname, "mini-mcp-server.mjs")],
    env: { MINI_MCP_LOG: miniLog, MINI_MCP_SECRET: SECRET },
  };
  writeFileSync(config, JSON.stringify({ mcpServers: { mini: server } }));
  lane = await startRealLane(
    { LLM_GATEWAY_MCP_CONFIG: config, DEBUG: "1" },
    { extraClis: ["qwen"] },
  );
});
afterAll(async () => {
  await lane.close();
  rmSync(stateDir, { recursive: true, force: true });
});

describe("qwen through agent_request", () => {
  it("answers, with its session id, model and usage; the prompt reaches the model byte-exact", async () => {
    const marker = `Q1-${tag()} "quotes" $(x) 漢字`;
    const r = await qwen({ prompt: marker });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toBe(`MOCK-REPLY 1: ${marker}`.slice(0, `MOCK-REPLY 1: `.length + 40));
    expect(sc(r)).toMatchObject({ cli: "qwen", model: "qwen3-coder-plus", exitCode: 0 });
    expect(sc(r).sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sc(r).usage.inputTokens).toBeGreaterThan(0);
    expect(lane.mainRequests(marker)).toHaveLength(1); // no memory or classifier call
  });

  it("resumes its session by id: the model sees the history (turn 2)", async () => {
    const first = sc(await qwen({ prompt: `R1-${tag()}` }));
    const marker = `R2-${tag()}`;
    const second = await qwen({ prompt: marker, sessionId: first.sessionId });
    expect(textOf(second)).toMatch(/^MOCK-REPLY 2: R2-/);
    expect(sc(second).sessionId).toBe(first.sessionId);
    expect(lane.mainRequests(marker)[0]!.assistantTexts!.join(" ")).toContain("MOCK-REPLY 1: R1-");
  });

  it("passes the model flag (an alias resolved by the gateway)", async () => {
    const marker = `M-${tag()}`;
    const r = await qwen({ prompt: marker, model: "flash" });
    expect(sc(r).model).toBe("qwen3-coder-flash");
    expect(lane.mainRequests(marker)[0]!.model).toBe("qwen3-coder-flash");
  });

  it("a dropped connection is retried by qwen and the job still answers (async form)", async () => {
    const marker = `F-${tag()}`;
    const { jobId } = sc(await qwen({ prompt: `${marker} [[mock:dropx1]]`, async: true }));
    const status = await waitForJob(lane.gateway, jobId, { ms: 120_000, everyMs: 500 });
    expect(status.status).toBe("completed");
    expect(lane.mainRequests(marker).length).toBeGreaterThanOrEqual(1);
    const result = await lane.gateway.call("llm_job_result", { jobId });
    expect(textOf(result)).toContain("MOCK-REPLY");
  });

  it("a resume from another directory is refused before qwen runs (it finds sessions by directory)", async () => {
    const first = sc(await qwen({ prompt: `D-${tag()}` }));
    const r = await qwen({ prompt: "elsewhere", sessionId: first.sessionId, cwd: stateDir });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/finds sessions by directory/);
  });

  it("calls a per-request MCP server's tool when approved; its secret never on a command line", async () => {
    const marker = `MCP-${tag()}`;
    const r = await qwen({
      prompt: `${marker} [[mock:tool=echo_marker {"text":"${marker}"}]]`,
      mcpServers: ["mini"],
      approvalStrategy: "mcp_managed",
      approvalPolicy: "permissive",
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toContain(`MCP-ECHO[${marker}]`);
    const entries = readFileSync(miniLog, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, any>);
    expect(entries.find((e) => e.text === marker)?.secret).toBe(SECRET);
    const lines = entries.flatMap((e) => e.ancestors ?? []).map((a: any) => a.cmdline.join(" "));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join("\n")).not.toContain(SECRET);
    expect(existsSync(miniLog)).toBe(true);
  });

  it("without approval qwen declines the MCP tool (headless cannot ask)", async () => {
    const marker = `MCPN-${tag()}`;
    const r = await qwen({
      prompt: `${marker} [[mock:tool=echo_marker {"text":"${marker}"}]]`,
      mcpServers: ["mini"],
    });
    expect(textOf(r)).toMatch(/permission was declined/);
  });
});
