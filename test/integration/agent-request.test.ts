import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { installFakeClis } from "../fakes/install-fakes.mjs";
import { startFakeLane, type FakeLane } from "../helpers/fake-lane.js";
import { sc, textOf, waitForJob, type StartedGateway } from "../helpers/gateway.js";

// agent_request with the fake qwen (test/fakes/qwen.mjs): the same replies, sessions, jobs,
// tasks, approvals and MCP servers as the CLIs with their own tools, and refusals naming field and CLI.

const SECRET = "sk-qwen-mini-secret-1a2b3c4d";
let lane: FakeLane;
let gw: StartedGateway;
let work: string;
let bin: string;
const last = () => lane.invocations().at(-1)!;

beforeAll(async () => {
  // The fake qwen (and claude, whose session agent_request must refuse) first on PATH.
  bin = installFakeClis(["claude", "qwen"]);
  lane = await startFakeLane({
    PATH: `${bin}:${process.env.PATH}`,
    LLM_GATEWAY_RETRY_MAX_ATTEMPTS: "1",
    LLM_GATEWAY_BREAKER_THRESHOLD: "1000",
  });
  const mcpConfig = join(lane.dir, "mcp-servers.json");
  const mini = { command: "/usr/bin/node", args: ["/opt/mini.mjs"], env: { MINI_TOKEN: SECRET } };
  writeFileSync(mcpConfig, JSON.stringify({ mcpServers: { mini } }));
  gw = await lane.startAnother({ LLM_GATEWAY_MCP_CONFIG: mcpConfig });
  work = mkdtempSync(join(tmpdir(), "llm-gateway-qwen-work-"));
});
afterAll(async () => {
  await lane.close();
  for (const dir of [work, bin]) rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => lane.reset());

describe("agent_request (cli qwen)", () => {
  it("returns the reply, session id, model and usage in the request tools' shape; prompt on stdin", async () => {
    const r = await gw.call("agent_request", {
      cli: "qwen",
      prompt: "hello qwen",
      model: "latest",
    });
    expect(r.isError).toBeFalsy();
    expect(textOf(r)).toBe("FAKE-REPLY: hello qwen");
    expect(sc(r)).toMatchObject({
      cli: "qwen",
      exitCode: 0,
      retryCount: 0,
      model: "qwen3-coder-plus",
    });
    expect(sc(r).sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sc(r).usage.inputTokens).toBeGreaterThan(0);
    const { argv, stdin } = last();
    expect(stdin).toBe("hello qwen");
    expect(argv).toEqual([
      "-o",
      "stream-json",
      "-m",
      "qwen3-coder-plus",
      "--approval-mode",
      "default",
    ]);
  });

  it("resumes the CLI's session by id (-r) in the directory it started in, and refuses another cwd", async () => {
    const first = sc(await gw.call("agent_request", { cli: "qwen", prompt: "one", cwd: work }));
    const second = await gw.call("agent_request", {
      cli: "qwen",
      prompt: "two",
      sessionId: first.sessionId,
    });
    expect(sc(second).sessionId).toBe(first.sessionId);
    expect(last().argv).toContain("-r");
    expect(last().argv[last().argv.indexOf("-r") + 1]).toBe(first.sessionId);
    expect(last().cwd).toBe(work);
    const elsewhere = await gw.call("agent_request", {
      cli: "qwen",
      prompt: "three",
      sessionId: first.sessionId,
      cwd: tmpdir(),
    });
    expect(elsewhere.isError).toBe(true);
    expect(textOf(elsewhere)).toMatch(/qwen finds sessions by directory/);
  });

  it("resumeLatest is -c; a session of another CLI names the tool that continues it", async () => {
    await gw.call("agent_request", {
      cli: "qwen",
      prompt: "latest",
      resumeLatest: true,
      createNewSession: false,
    });
    expect(last().argv).toContain("-c");
    const claude = sc(await gw.call("claude_request", { prompt: "c" }));
    const wrong = await gw.call("agent_request", {
      cli: "qwen",
      prompt: "x",
      sessionId: claude.sessionId,
    });
    expect(textOf(wrong)).toMatch(/belongs to claude; use claude_request/);
  });

  it("maps the approval fields onto --approval-mode and --allowed-tools", async () => {
    await gw.call("agent_request", { cli: "qwen", prompt: "w", workspaceWrite: true });
    expect(last().argv.join(" ")).toContain("--approval-mode auto-edit");
    await gw.call("agent_request", { cli: "qwen", prompt: "y", bypassPermissions: true });
    expect(last().argv.join(" ")).toContain("--approval-mode yolo");
    await gw.call("agent_request", {
      cli: "qwen",
      prompt: "t",
      allowedTools: ["run_shell_command"],
    });
    expect(last().argv.slice(-2)).toEqual(["--allowed-tools", "run_shell_command"]);
    const both = await gw.call("agent_request", {
      cli: "qwen",
      prompt: "b",
      bypassPermissions: true,
      workspaceWrite: true,
    });
    expect(textOf(both)).toMatch(/bypassPermissions and workspaceWrite cannot be combined/);
  });

  it("mcp_managed balanced: a bypass is narrowed to workspace writes, and the record says why", async () => {
    const r = await gw.call("agent_request", {
      cli: "qwen",
      prompt: "narrow",
      bypassPermissions: true,
      approvalStrategy: "mcp_managed",
      approvalPolicy: "balanced",
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(last().argv.join(" ")).toContain("--approval-mode auto-edit");
    expect(JSON.stringify(sc(r).approval)).toContain("bypassPermissions");
  });

  it("passes MCP servers in a 0600 --mcp-config file, the secret never on argv", async () => {
    const r = await gw.call("agent_request", { cli: "qwen", prompt: "m", mcpServers: ["mini"] });
    expect(sc(r).mcpServers).toEqual({ requested: ["mini"], enabled: ["mini"], missing: [] });
    const { argv, mcp } = last() as unknown as {
      argv: string[];
      mcp: { servers: Record<string, { env: Record<string, string> }> };
    };
    expect(mcp.servers.mini!.env.MINI_TOKEN).toBe(SECRET);
    expect(argv.join(" ")).not.toContain(SECRET);
    const file = argv[argv.indexOf("--mcp-config") + 1]!;
    expect(file).not.toContain("{");
    // The file is removed after the run: what it was is in the fake's record.
    expect(() => statSync(file)).toThrow();
  });

  it("async: true returns a job id; the job's result is the sync result", async () => {
    const started = sc(
      await gw.call("agent_request", { cli: "qwen", prompt: "in the background", async: true }),
    );
    expect(started).toMatchObject({ cli: "qwen", status: expect.any(String) });
    expect((await waitForJob(gw, started.jobId)).status).toBe("completed");
    const result = await gw.call("llm_job_result", { jobId: started.jobId });
    expect(textOf(result)).toContain("FAKE-REPLY: in the background");
  });

  it("answers a task-augmented call like the other request tools", async () => {
    const messages = [];
    for await (const m of gw.client.experimental.tasks.callToolStream(
      { name: "agent_request", arguments: { cli: "qwen", prompt: "as a task" } },
      CallToolResultSchema,
      { task: { ttl: 60_000 } },
    ))
      messages.push(m);
    const result = messages.at(-1) as { type: string; result: Parameters<typeof textOf>[0] };
    expect(messages[0]!.type).toBe("taskCreated");
    expect(textOf(result.result)).toBe("FAKE-REPLY: as a task");
  });

  it("a failure the CLI reports with exit 1 is a typed error (the real HTTP 500 sample)", async () => {
    const r = await gw.call("agent_request", {
      cli: "qwen",
      prompt: "[[fake:sample=qwen-fault-500]]",
    });
    expect(r.isError).toBe(true);
    expect(sc(r).error.category).toBe("provider_error");
    expect(sc(r).error.message).toContain("API Error: 500");
  });

  it("refuses a cli that agent_request does not serve, before any CLI runs", async () => {
    const r = await gw.call("agent_request", { cli: "claude", prompt: "x" });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/cli/);
    expect(lane.invocations()).toEqual([]);
  });

  it("lists qwen in list_models with its models and aliases", async () => {
    const r = sc(await gw.call("list_models", { cli: "qwen" }));
    expect(JSON.stringify(r)).toContain("qwen3-coder-plus");
    expect(JSON.stringify(r)).toContain("latest");
  });
});
