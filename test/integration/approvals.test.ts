import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeLane, type FakeLane } from "../helpers/fake-lane.js";
import { sc, textOf, type StartedGateway } from "../helpers/gateway.js";

let lane: FakeLane;
let gw: StartedGateway;
let mcpConfig: string;
const argv = () => lane.invocations()[0]?.argv ?? [];
/** The MCP servers the fake CLI loaded, read the way the real one reads them (fake-cli.mjs). */
const seen = () => (lane.invocations()[0] as { mcp?: Record<string, any> } | undefined)?.mcp;
const SECRET = "sk-mini-secret-9f8e7d6c5b4a";
const MINI = {
  command: "/usr/bin/node",
  args: ["/opt/mini.mjs", "--flag"],
  env: { MINI_MCP_LOG: "/tmp/x y.log", MINI_TOKEN: SECRET },
};
const isRoot = process.geteuid?.() === 0;
const runDir = () => join(gw.home, ".llm-cli-gateway", "run");

beforeAll(async () => {
  lane = await startFakeLane();
  mcpConfig = join(lane.dir, "mcp-servers.json");
  writeFileSync(mcpConfig, JSON.stringify({ mcpServers: { mini: MINI } }));
  gw = await lane.startAnother({
    LLM_GATEWAY_MCP_CONFIG: mcpConfig,
    LLM_GATEWAY_APPROVAL_POLICY: "balanced",
    DEBUG: "1", // the args line is the one most likely to leak a secret
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
      adjusted: [
        {
          field: "dangerouslySkipPermissions",
          asked: true,
          applied: false,
          reason: "balanced policy: bypass narrowed to workspace writes",
        },
      ],
    });
    // The approval record says the same.
    const [record] = sc(await gw.call("approval_list", { limit: 1 })).approvals;
    expect(record.adjusted).toEqual(sc(r).approval.adjusted);
  });

  it("balanced: a codex bypass becomes the workspace-write sandbox", async () => {
    const r = await gw.call("codex_request", {
      prompt: "x",
      approvalStrategy: "mcp_managed",
      dangerouslyBypassApprovalsAndSandbox: true,
    });
    expect(argv()).not.toContain("--dangerously-bypass-approvals-and-sandbox");
    expect(argv()).toEqual(expect.arrayContaining(["-s", "workspace-write"]));
    const reason = "balanced policy: bypass narrowed to workspace writes";
    expect(sc(r).approval.adjusted).toEqual([
      { field: "dangerouslyBypassApprovalsAndSandbox", asked: true, applied: false, reason },
      { field: "fullAuto", asked: false, applied: true, reason },
    ]);
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
    expect(sc(r).approval.adjusted).toEqual([
      {
        field: "approvalMode",
        asked: "auto_edit",
        applied: "default",
        reason: "strict policy: workspace writes narrowed to read-only",
      },
      {
        field: "allowedTools",
        asked: ["read_file", "run_shell_command(git)"],
        applied: ["read_file"],
        reason: "strict policy: pre-approval of run_shell_command(git) removed",
      },
    ]);
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

  it("permissive: everything asked is granted as asked, and nothing is listed as adjusted", async () => {
    const r = await gw.call("claude_request", {
      prompt: "x",
      approvalStrategy: "mcp_managed",
      approvalPolicy: "permissive",
      dangerouslySkipPermissions: true,
    });
    expect(argv()).toContain("--dangerously-skip-permissions");
    expect(sc(r).approval).toMatchObject({ decision: "approve", adjusted: [] });
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
  it("claude: --mcp-config names a 0600 file (removed after the run), with --strict-mcp-config; approved servers are callable", async () => {
    const r = await gw.call("claude_request", {
      prompt: "x",
      mcpServers: ["mini"],
      approvalStrategy: "mcp_managed",
    });
    const args = argv();
    expect(args[args.indexOf("--mcp-config") + 1]).toMatch(
      new RegExp(`^${runDir()}/[0-9a-f-]{36}/claude-mcp\\.json$`),
    );
    expect(seen()).toEqual({ servers: { mini: { type: "stdio", ...MINI } } });
    expect(args).toContain("--strict-mcp-config");
    expect(args).toEqual(expect.arrayContaining(["--allowedTools", "mcp__mini"]));
    expect(sc(r).mcpServers).toEqual({ requested: ["mini"], enabled: ["mini"], missing: [] });
    expect(readdirSync(runDir())).toEqual([]);
  });

  it("claude legacy exposes the servers without allowing their tools", async () => {
    await gw.call("claude_request", { prompt: "x", mcpServers: ["mini"] });
    expect(argv()).toContain("--mcp-config");
    expect(argv()).not.toContain("mcp__mini");
  });

  it("codex: -c mcp_servers.* settings, the env by name only; approved servers get default_tools_approval_mode", async () => {
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
        'mcp_servers.mini.env_vars=["MINI_MCP_LOG","MINI_TOKEN"]',
        'mcp_servers.mini.default_tools_approval_mode="approve"',
        // the agent's own commands get the values blank
        'shell_environment_policy.set.MINI_MCP_LOG=""',
        'shell_environment_policy.set.MINI_TOKEN=""',
      ]),
    );
    expect(seen()).toEqual({ servers: { mini: { env: MINI.env } } });
    expect(sc(r).mcpServers).toEqual({
      requested: ["mini", "absent"],
      enabled: ["mini"],
      missing: ["absent"],
    });
  });

  // As root (this lane's CI): the settings go to /run/llm-cli-gateway. Other users get the refusal below.
  it.runIf(isRoot)(
    "gemini: a per-request settings file that gemini reads, removed afterwards, and --allowed-mcp-server-names",
    async () => {
      // HOME is under /tmp here: a settings file in the gateway home would be skipped by gemini.
      expect(gw.home.startsWith("/tmp/")).toBe(true);
      await gw.call("gemini_request", {
        prompt: "x",
        mcpServers: ["mini"],
        approvalStrategy: "mcp_managed",
      });
      expect(seen()?.skipped).toBeUndefined();
      expect(seen()?.servers).toEqual({ mini: { ...MINI, trust: true } });
      expect(existsSync(seen()!.path)).toBe(false);
      expect(argv()).toEqual(expect.arrayContaining(["--allowed-mcp-server-names", "mini"]));
      lane.reset();
      await gw.call("gemini_request", { prompt: "x", mcpServers: ["mini"] });
      expect(seen()?.servers).toEqual({ mini: { ...MINI, trust: false } });
      expect(argv()).not.toContain("--allowed-mcp-server-names");
    },
  );

  it.skipIf(isRoot)(
    "gemini, not as root: refused, since gemini reads settings files only from root",
    async () => {
      const r = await gw.call("gemini_request", { prompt: "x", mcpServers: ["mini"] });
      expect(textOf(r)).toMatch(/^\[invalid_input\] mcpServers: .*the gateway runs as uid \d+/);
      expect(lane.invocations()).toEqual([]);
    },
  );

  it("gemini: refused, and nothing started, when its settings could only go where gemini skips them", async () => {
    const untrusted = await lane.startAnother({
      LLM_GATEWAY_MCP_CONFIG: mcpConfig,
      LLM_GATEWAY_GEMINI_SETTINGS_DIR: join(lane.dir, "gemini-settings"),
    });
    const r = await untrusted.call("gemini_request", { prompt: "x", mcpServers: ["mini"] });
    expect(textOf(r)).toMatch(
      /^\[invalid_input\] mcpServers: gemini reads per-request MCP servers only from a system settings file .*(\/tmp is writable by group or others|the gateway runs as uid)/,
    );
    expect(lane.invocations()).toEqual([]);
    // Without MCP servers nothing needs that place.
    const plain = await untrusted.call("gemini_request", { prompt: "x" });
    expect(plain.isError, textOf(plain)).toBeFalsy();
  });

  it("no server env value on any CLI's argv, in the DEBUG args line or in any other log line", async () => {
    for (const cli of ["claude", "codex", "gemini"]) {
      lane.reset();
      const r = await gw.call(`${cli}_request`, { prompt: "x", mcpServers: ["mini"] });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(argv().join(" ")).not.toContain(SECRET);
      expect(argv().join(" ")).not.toContain("x y.log");
      expect(gw.stderr()).toContain(`${cli} args:`);
    }
    expect(gw.stderr()).not.toContain(SECRET);
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
    expect(sc(r).approval.adjusted).toEqual([
      {
        field: "mcpServers",
        asked: ["mini"],
        applied: [],
        reason: "strict policy: calls to MCP servers mini not allowed",
      },
    ]);
  });
});

describe("a broken MCP server config is the operator's config error, on the requests it concerns", () => {
  const GOOD = JSON.stringify({ mcpServers: { mini: MINI } });
  afterEach(() => writeFileSync(mcpConfig, GOOD));

  it("a file that does not parse: requests naming no server run; those naming one get config_error with the place and fix, and nothing starts", async () => {
    writeFileSync(mcpConfig, '{\n  "mcpServers": { mini: {} }\n}');
    const plain = await gw.call("claude_request", { prompt: "x" });
    expect(plain.isError, textOf(plain)).toBeFalsy();
    expect(lane.invocations()).toHaveLength(1);
    lane.reset();
    for (const cli of ["claude", "codex"]) {
      const r = await gw.call(`${cli}_request`, { prompt: "x", mcpServers: ["mini"] });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(
        new RegExp(
          `^\\[config_error\\] mcpServers: the MCP server config ${mcpConfig} is not valid JSON at line 2, column 19: .*Fix: fix the JSON in ${mcpConfig} \\({"mcpServers": {"<name>": {"command": `,
        ),
      );
    }
    expect(lane.invocations()).toEqual([]);
  });

  it("an invalid entry a request asks for is left out with a warning in its result", async () => {
    writeFileSync(
      mcpConfig,
      JSON.stringify({ mcpServers: { mini: MINI, broken: { command: "x", env: { PORT: 8080 } } } }),
    );
    const r = await gw.call("codex_request", { prompt: "x", mcpServers: ["mini", "broken"] });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(seen()).toEqual({ servers: { mini: { env: MINI.env } } });
    expect(sc(r).mcpServers).toEqual({
      requested: ["mini", "broken"],
      enabled: ["mini"],
      missing: ["broken"],
      warnings: [
        `mcpServers: "broken" in ${mcpConfig} is invalid and was left out: env.PORT must be a string, not a number. Fix the entry ({"command": "...", "args": ["..."], "env": {"KEY": "value"}}).`,
      ],
    });
    // A request that does not ask for it hears nothing about it.
    const other = await gw.call("codex_request", { prompt: "x", mcpServers: ["mini"] });
    expect(sc(other).mcpServers).toEqual({ requested: ["mini"], enabled: ["mini"], missing: [] });
  });

  it("claude's strictMcpConfig: an invalid entry is config_error, an unknown name invalid_input; nothing starts", async () => {
    writeFileSync(
      mcpConfig,
      JSON.stringify({ mcpServers: { mini: MINI, nocommand: { args: [] } } }),
    );
    const invalid = await gw.call("claude_request", { prompt: "x", mcpServers: ["nocommand"] });
    expect(textOf(invalid)).toBe(
      `[config_error] mcpServers: "nocommand" in ${mcpConfig} is invalid and was left out: command is missing (the program that starts the server; only stdio servers are supported). Fix the entry ({"command": "...", "args": ["..."], "env": {"KEY": "value"}}). strictMcpConfig runs claude only with every server named (not usable: nocommand).`,
    );
    const unknown = await gw.call("claude_request", { prompt: "x", mcpServers: ["exa"] });
    expect(textOf(unknown)).toBe(
      `[invalid_input] mcpServers: exa not configured in ${mcpConfig} (strictMcpConfig)`,
    );
    expect(lane.invocations()).toEqual([]);
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
