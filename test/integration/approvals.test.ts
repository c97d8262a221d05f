import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeLane, type FakeLane } from "../helpers/fake-lane.js";
import { textOf, type StartedGateway } from "../helpers/gateway.js";

const sc = (r: { structuredContent?: unknown }) => r.structuredContent as Record<string, any>;
let lane: FakeLane;
let gw: StartedGateway;
let mcpConfig: string;
const argv = () => lane.invocations()[0]?.argv ?? [];
const MINI = {
  command: "/usr/bin/node",
  args: ["/opt/mini.mjs", "--flag"],
  env: { MINI_MCP_LOG: "/tmp/x y.log" },
};

beforeAll(async () => {
  lane = await startFakeLane();
  mcpConfig = join(lane.dir, "mcp-servers.json");
  writeFileSync(mcpConfig, JSON.stringify({ mcpServers: { mini: MINI } }));
  gw = await lane.startAnother({
    LLM_GATEWAY_MCP_CONFIG: mcpConfig,
    LLM_GATEWAY_APPROVAL_POLICY: "balanced",
  });
});
afterAll(() => lane.close());
beforeEach(() => lane.reset());

describe("mcp_managed approvals run with the least privilege that serves the request", () => {
  it("balanced: a claude bypass is narrowed (the flag is dropped) and recorded", async () => {
    const r = await gw.call("claude_request", {
      prompt: "x",
      approvalStrategy: "mcp_managed",
      dangerouslySkipPermissions: true,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(argv()).not.toContain("--dangerously-skip-permissions");
    expect(sc(r).approval).toMatchObject({
      decision: "narrow",
      policy: "balanced",
      cli: "claude",
      requested: { bypass: true },
      granted: { bypass: false },
    });
  });

  it("balanced: a codex bypass becomes the workspace-write sandbox", async () => {
    await gw.call("codex_request", {
      prompt: "x",
      approvalStrategy: "mcp_managed",
      dangerouslyBypassApprovalsAndSandbox: true,
    });
    expect(argv()).not.toContain("--dangerously-bypass-approvals-and-sandbox");
    expect(argv()).toEqual(expect.arrayContaining(["-s", "workspace-write"]));
  });

  it("strict: gemini auto_edit becomes the default mode and shell tools lose their pre-approval", async () => {
    const r = await gw.call("gemini_request", {
      prompt: "x",
      approvalStrategy: "mcp_managed",
      approvalPolicy: "strict",
      approvalMode: "auto_edit",
      allowedTools: ["read_file", "run_shell_command(git)"],
    });
    expect(argv()).not.toContain("auto_edit");
    expect(argv()).toEqual(expect.arrayContaining(["--allowed-tools", "read_file"]));
    expect(argv()).not.toContain("run_shell_command(git)");
    expect(sc(r).approval.decision).toBe("narrow");
  });

  it("strict: a bypass is denied before anything runs", async () => {
    const r = await gw.call("gemini_request", {
      prompt: "x",
      approvalStrategy: "mcp_managed",
      approvalPolicy: "strict",
      approvalMode: "yolo",
    });
    expect(textOf(r)).toMatch(/^\[approval_denied\]/);
    expect(lane.invocations()).toEqual([]);
  });

  it("permissive: everything asked is granted as asked", async () => {
    await gw.call("claude_request", {
      prompt: "x",
      approvalStrategy: "mcp_managed",
      approvalPolicy: "permissive",
      dangerouslySkipPermissions: true,
    });
    expect(argv()).toContain("--dangerously-skip-permissions");
  });

  it("legacy passes the caller's options as given and records nothing", async () => {
    const before = sc(await gw.call("approval_list", {})).approvals.length;
    const r = await gw.call("codex_request", {
      prompt: "x",
      dangerouslyBypassApprovalsAndSandbox: true,
    });
    expect(argv()).toContain("--dangerously-bypass-approvals-and-sandbox");
    expect(sc(r).approval).toBeUndefined();
    expect(sc(await gw.call("approval_list", {})).approvals).toHaveLength(before);
  });

  it("approval_list returns the recent decisions, newest first, filtered by cli; the file is owner-only", async () => {
    await gw.call("codex_request", {
      prompt: "listed",
      approvalStrategy: "mcp_managed",
      correlationId: "listed-1",
    });
    const all = sc(await gw.call("approval_list", { limit: 3 })).approvals;
    expect(all).toHaveLength(3);
    expect(all[0]).toMatchObject({ correlationId: "listed-1", cli: "codex", decision: "approve" });
    const claude = sc(await gw.call("approval_list", { cli: "claude", limit: 500 })).approvals;
    expect(claude.length).toBeGreaterThan(0);
    expect(claude.every((a: any) => a.cli === "claude")).toBe(true);
    expect(statSync(join(gw.home, ".llm-cli-gateway", "approvals.jsonl")).mode & 0o777).toBe(0o600);
    expect(textOf(await gw.call("approval_list", { limit: 501 }))).toMatch(
      /^\[invalid_input\].*limit/,
    );
  });
});

describe("mcpServers: only servers the user configured, passed per request", () => {
  it("claude: --mcp-config with --strict-mcp-config; approved servers are callable", async () => {
    const r = await gw.call("claude_request", {
      prompt: "x",
      mcpServers: ["mini"],
      approvalStrategy: "mcp_managed",
    });
    const args = argv();
    const config = JSON.parse(args[args.indexOf("--mcp-config") + 1]!);
    expect(config).toEqual({ mcpServers: { mini: { type: "stdio", ...MINI } } });
    expect(args).toContain("--strict-mcp-config");
    expect(args).toEqual(expect.arrayContaining(["--allowedTools", "mcp__mini"]));
    expect(sc(r).mcpServers).toEqual({ requested: ["mini"], enabled: ["mini"], missing: [] });
  });

  it("claude legacy exposes the servers without allowing their tools", async () => {
    await gw.call("claude_request", { prompt: "x", mcpServers: ["mini"] });
    expect(argv()).toContain("--mcp-config");
    expect(argv()).not.toContain("mcp__mini");
  });

  it("codex: -c mcp_servers.* settings; approved servers get default_tools_approval_mode", async () => {
    const r = await gw.call("codex_request", {
      prompt: "x",
      mcpServers: ["mini", "absent"],
      approvalStrategy: "mcp_managed",
    });
    expect(argv()).toEqual(
      expect.arrayContaining([
        "-c",
        'mcp_servers.mini.command="/usr/bin/node"',
        'mcp_servers.mini.args=["/opt/mini.mjs","--flag"]',
        'mcp_servers.mini.env={"MINI_MCP_LOG"="/tmp/x y.log"}',
        'mcp_servers.mini.default_tools_approval_mode="approve"',
      ]),
    );
    expect(sc(r).mcpServers).toEqual({
      requested: ["mini", "absent"],
      enabled: ["mini"],
      missing: ["absent"],
    });
  });

  it("gemini: a per-request settings file, removed afterwards, and --allowed-mcp-server-names", async () => {
    await gw.call("gemini_request", {
      prompt: "x",
      mcpServers: ["mini"],
      approvalStrategy: "mcp_managed",
    });
    expect(argv()).toEqual(expect.arrayContaining(["--allowed-mcp-server-names", "mini"]));
    expect(readdirSync(join(gw.home, ".llm-cli-gateway", "run"))).toEqual([]);
    lane.reset();
    await gw.call("gemini_request", { prompt: "x", mcpServers: ["mini"] });
    expect(argv()).not.toContain("--allowed-mcp-server-names");
  });

  it("strict policy exposes no MCP server", async () => {
    const r = await gw.call("codex_request", {
      prompt: "x",
      mcpServers: ["mini"],
      approvalStrategy: "mcp_managed",
      approvalPolicy: "strict",
    });
    expect(argv().join(" ")).not.toContain("mcp_servers");
    expect(sc(r).approval.decision).toBe("narrow");
  });
});

describe("elicitation", () => {
  it("puts a request the policy would deny to the person, when enabled and supported", async () => {
    const answers = ["accept", "decline"];
    const client = new Client(
      { name: "eliciting-client", version: "1.0.0" },
      { capabilities: { elicitation: {} } },
    );
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      expect(request.params.message).toMatch(/would deny it: strict policy/);
      return { action: answers.shift() as "accept" | "decline" };
    });
    const asking = await lane.startAnother(
      { LLM_GATEWAY_APPROVAL_ELICITATION: "1", LLM_GATEWAY_APPROVAL_POLICY: "strict" },
      client,
    );
    const bypass = {
      prompt: "x",
      approvalStrategy: "mcp_managed",
      dangerouslySkipPermissions: true,
    };
    const accepted = await asking.call("claude_request", bypass);
    expect(sc(accepted).approval).toMatchObject({ decision: "approve", elicitation: "accept" });
    expect(lane.invocations()[0]?.argv).toContain("--dangerously-skip-permissions");
    lane.reset();
    const declined = await asking.call("claude_request", bypass);
    expect(textOf(declined)).toMatch(/^\[approval_denied\]/);
    expect(lane.invocations()).toEqual([]);
  });
});
