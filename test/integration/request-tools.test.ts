import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeLane, type FakeLane } from "../helpers/fake-lane.js";
import { sc, startGateway, survivors, textOf, type StartedGateway } from "../helpers/gateway.js";
import { CLI_NAMES } from "../../src/providers/types.js";

const CLIS = ["claude", "codex", "gemini"] as const;
const TRICKY = [
  "--help",
  `say "hi" and 'bye'`,
  "$(echo hi) `id`; rm -rf /",
  "line1\nline2\r\n\ttab",
  "emoji 🦀🚀 CJK 漢字かな한국어",
];
const UUID = "2f9d84c4-046f-4268-ad76-d49aa71edafd";

let lane: FakeLane;
let gw: StartedGateway;
let logDir: string;
const invocations = () => lane.invocations();

beforeAll(async () => {
  // Retries and the breaker have their own tests (resilience.test.ts): here every failure shows as is.
  lane = await startFakeLane({
    LLM_GATEWAY_RETRY_MAX_ATTEMPTS: "1",
    LLM_GATEWAY_BREAKER_THRESHOLD: "1000",
  });
  gw = lane.gw;
  logDir = lane.dir;
});
afterAll(() => lane.close());
beforeEach(() => lane.reset());

describe("request tools over MCP, with fake CLIs", () => {
  it.each(CLIS)(
    "%s_request returns the reply, session id, model, usage and correlation id",
    async (cli) => {
      const r = await gw.call(`${cli}_request`, { prompt: "hello there", correlationId: "corr-1" });
      expect(r.isError).toBeFalsy();
      expect(textOf(r)).toBe("FAKE-REPLY: hello there");
      expect(sc(r)).toMatchObject({
        text: "FAKE-REPLY: hello there",
        cli,
        correlationId: "corr-1",
        exitCode: 0,
        retryCount: 0,
      });
      expect(sc(r).sessionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(sc(r).usage.inputTokens).toBeGreaterThan(0);
      expect(sc(r).durationMs).toBeGreaterThan(0);
    },
  );

  it.each(CLIS)("%s_request generates a correlation id when none is given", async (cli) => {
    const r = await gw.call(`${cli}_request`, { prompt: "x" });
    expect(sc(r).correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each(CLIS)(
    "%s_request delivers tricky prompts byte-exact on stdin, never in argv",
    async (cli) => {
      for (const prompt of TRICKY) {
        lane.reset();
        const r = await gw.call(`${cli}_request`, { prompt });
        expect(r.isError).toBeFalsy();
        const [inv] = invocations();
        expect(inv?.stdin).toBe(prompt);
        expect(inv?.argv).not.toContain(prompt);
      }
    },
  );

  it.each(CLIS)("%s_request delivers a 100,000-character CJK prompt", async (cli) => {
    const prompt = "漢字".repeat(50_000);
    const r = await gw.call(`${cli}_request`, { prompt });
    expect(r.isError).toBeFalsy();
    expect(invocations()[0]?.stdin).toBe(prompt);
  });

  it("resolves model aliases and passes the model flag", async () => {
    await gw.call("gemini_request", { prompt: "x", model: "pro" });
    expect(invocations()[0]?.argv).toEqual(expect.arrayContaining(["-m", "gemini-2.5-pro"]));
    lane.reset();
    const r = await gw.call("claude_request", { prompt: "x", model: "sonnet" });
    expect(invocations()[0]?.argv).toEqual(expect.arrayContaining(["--model", "sonnet"]));
    expect(sc(r).model).toBe("sonnet");
    lane.reset();
    await gw.call("codex_request", { prompt: "x", model: "latest" });
    expect(invocations()[0]?.argv).toEqual(expect.arrayContaining(["-m", "gpt-6.1-sol"]));
  });

  it("maps each CLI's options to its flags", async () => {
    const claudeSession = sc(await gw.call("claude_request", { prompt: "first" })).sessionId;
    const codexSession = sc(await gw.call("codex_request", { prompt: "first" })).sessionId;
    lane.reset();
    await gw.call("claude_request", {
      prompt: "x",
      sessionId: claudeSession,
      allowedTools: ["Read"],
      disallowedTools: ["Bash"],
    });
    expect(invocations()[0]?.argv).toEqual([
      "-p",
      "--output-format",
      "stream-json",
      "--verbose",
      "--resume",
      claudeSession,
      "--allowedTools",
      "Read",
      "--disallowedTools",
      "Bash",
    ]);
    lane.reset();
    await gw.call("claude_request", { prompt: "x", continueSession: true });
    expect(invocations()[0]?.argv).toContain("--continue");
    lane.reset();
    await gw.call("codex_request", { prompt: "x", fullAuto: true, sessionId: codexSession });
    expect(invocations()[0]?.argv).toEqual([
      "exec",
      "--json",
      "--skip-git-repo-check",
      "-s",
      "workspace-write",
      "resume",
      codexSession,
      "-",
    ]);
    lane.reset();
    await gw.call("codex_request", { prompt: "x", dangerouslyBypassApprovalsAndSandbox: true });
    expect(invocations()[0]?.argv).toContain("--dangerously-bypass-approvals-and-sandbox");
    lane.reset();
    await gw.call("gemini_request", {
      prompt: "x",
      resumeLatest: true,
      approvalMode: "yolo",
      includeDirs: [logDir],
    });
    expect(invocations()[0]?.argv).toEqual([
      "-o",
      "stream-json",
      "--resume",
      "latest",
      "--approval-mode",
      "yolo",
      "--include-directories",
      logDir,
    ]);
  });

  it("runs the CLI in the requested cwd", async () => {
    await gw.call("codex_request", { prompt: "x", cwd: logDir });
    expect(invocations()[0]?.cwd).toBe(logDir);
  });

  it("returns claude's whole JSON result with outputFormat json", async () => {
    const r = await gw.call("claude_request", { prompt: "x", outputFormat: "json" });
    const raw = JSON.parse(textOf(r));
    expect(raw).toMatchObject({ type: "result", result: "FAKE-REPLY: x" });
  });
});

describe("rejected requests never start a CLI", () => {
  const bad = (tool: string, field: string, why: string) =>
    `[invalid_input] Invalid arguments for tool ${tool}: ${field}: ${why}`;
  const SESSION_ID =
    "sessionId must be a session id: letters, digits, - and _, not starting with -";
  // The whole refusal: its category, the field it names and why.
  const rejected: [string, Record<string, unknown>, string | RegExp][] = [
    [
      "claude_request",
      { prompt: "x", approvalPolicy: "strict" },
      '[invalid_input] approvalPolicy applies only with approvalStrategy "mcp_managed"',
    ],
    [
      "claude_request",
      { prompt: "x", mcpServers: ["exa"] },
      /^\[invalid_input\] mcpServers: exa not configured in \/\S+\/\.llm-cli-gateway\/mcp-servers\.json \(strictMcpConfig\)$/,
    ],
    [
      "codex_request",
      { prompt: "x", mcpServers: ["../x"] },
      bad(
        "codex_request",
        "mcpServers.0",
        "mcpServers entries are server names from the gateway's MCP config",
      ),
    ],
    [
      "claude_request",
      {
        prompt: "x",
        approvalStrategy: "mcp_managed",
        approvalPolicy: "strict",
        dangerouslySkipPermissions: true,
      },
      "[approval_denied] Denied by the strict approval policy: strict policy: bypassing permissions and the sandbox is never allowed",
    ],
    ["claude_request", { prompt: "" }, bad("claude_request", "prompt", "Prompt cannot be empty")],
    [
      "codex_request",
      { prompt: "   \n" },
      bad("codex_request", "prompt", "Prompt cannot be empty"),
    ],
    [
      "gemini_request",
      { prompt: "x".repeat(100_001) },
      bad("gemini_request", "prompt", "Prompt too long (max 100k chars)"),
    ],
    [
      "claude_request",
      { prompt: "x", sessionId: "--resume" },
      bad("claude_request", "sessionId", SESSION_ID),
    ],
    [
      "gemini_request",
      { prompt: "x", sessionId: "../x" },
      bad("gemini_request", "sessionId", SESSION_ID),
    ],
    [
      "codex_request",
      { prompt: "x", sessionId: "a\u0000b" },
      bad("codex_request", "sessionId", SESSION_ID),
    ],
    [
      "claude_request",
      { prompt: "x", model: "--help" },
      bad("claude_request", "model", "model must be a model id or alias such as sonnet or latest"),
    ],
    [
      "claude_request",
      { prompt: "x", allowedTools: ["--dangerously-skip-permissions"] },
      bad(
        "claude_request",
        "allowedTools.0",
        "tool names must not be empty, start with '-' or contain NUL/newlines",
      ),
    ],
    [
      "claude_request",
      { prompt: "x", unknownOption: true },
      '[invalid_input] Invalid arguments for tool claude_request: Unrecognized key: "unknownOption"',
    ],
    [
      "claude_request",
      { prompt: "x", sessionId: UUID, createNewSession: true },
      "[invalid_input] sessionId and createNewSession cannot be combined",
    ],
    [
      "gemini_request",
      { prompt: "x", sessionId: UUID, resumeLatest: true },
      "[invalid_input] sessionId and resumeLatest cannot be combined",
    ],
    [
      "codex_request",
      { prompt: "x", fullAuto: true, dangerouslyBypassApprovalsAndSandbox: true },
      "[invalid_input] fullAuto and dangerouslyBypassApprovalsAndSandbox cannot be combined",
    ],
    [
      "codex_request",
      { prompt: "x", idleTimeoutMs: 10 },
      bad("codex_request", "idleTimeoutMs", "Too small: expected number to be >=30000"),
    ],
    [
      "claude_request",
      { prompt: "x", cwd: "relative/dir" },
      '[invalid_input] cwd must be an absolute path, got "relative/dir"',
    ],
    [
      "claude_request",
      { prompt: "x", cwd: "/nonexistent-dir-xyz" },
      "[invalid_input] cwd is not an existing directory: /nonexistent-dir-xyz",
    ],
    [
      "gemini_request",
      { prompt: "x", includeDirs: ["/nonexistent-dir-xyz"] },
      "[invalid_input] includeDirs[0] is not an existing directory: /nonexistent-dir-xyz",
    ],
  ];

  it.each(rejected)("%s %j is refused with a clear message", async (tool, args, message) => {
    const r = await gw.call(tool, args);
    expect(r.isError).toBe(true);
    if (typeof message === "string") expect(textOf(r)).toBe(message);
    else expect(textOf(r)).toMatch(message);
    expect(invocations()).toEqual([]);
  });

  it("accepts the documented defaults of the approval, MCP and optimization options, and they change nothing", async () => {
    const r = await gw.call("claude_request", {
      prompt: "x",
      approvalStrategy: "legacy",
      mcpServers: [],
      optimizePrompt: false,
      strictMcpConfig: false,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toBe("FAKE-REPLY: x");
    // legacy records no approval, no server was named, and the prompt went as given.
    expect(sc(r)).not.toHaveProperty("approval");
    expect(sc(r)).not.toHaveProperty("mcpServers");
    expect(sc(r)).not.toHaveProperty("optimization");
    expect(invocations()).toHaveLength(1);
    const { argv, stdin } = invocations()[0]!;
    expect(argv.filter((a) => /mcp|permission|allowedTools/i.test(a))).toEqual([]);
    expect(stdin).toBe("x");
  });

  it("stays alive after bad input", async () => {
    const refused = await gw.call("claude_request", { prompt: "" });
    expect(textOf(refused)).toBe(bad("claude_request", "prompt", "Prompt cannot be empty"));
    expect(invocations()).toEqual([]);
    const r = await gw.call("list_models", {});
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(Object.keys(sc(r).clis)).toEqual([...CLI_NAMES]);
    const after = await gw.call("claude_request", { prompt: "still here" });
    expect(textOf(after)).toBe("FAKE-REPLY: still here");
  });
});

describe("failures are typed tool errors, never fake successes", () => {
  const faults: [string, string, string, RegExp][] = [
    ["claude", "claude-fault-500", "provider_error", /API Error: 500/],
    ["codex", "codex-fault-500", "provider_error", /high demand/],
    ["codex", "codex-fault-stream-error", "provider_error", /stream disconnected/],
    ["gemini", "gemini-fault-500", "provider_error", /mock injected 500/],
    ["gemini", "gemini-fault-stream-error", "provider_error", /in-stream error/],
    ["gemini", "gemini-fault-dropx1", "provider_error", /terminated/],
  ];
  it.each(faults)("%s replaying %s ends in %s", async (cli, sample, category, message) => {
    const r = await gw.call(`${cli}_request`, { prompt: `[[fake:sample=${sample}]]` });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(new RegExp(`^\\[${category}\\]`));
    expect(sc(r).error.category).toBe(category);
    expect(sc(r).error.message).toMatch(message);
  });

  it("recovers text from samples where the CLI retried and succeeded", async () => {
    const r = await gw.call("codex_request", { prompt: "[[fake:sample=codex-fault-truncatex1]]" });
    expect(r.isError).toBeFalsy();
    expect(textOf(r)).toBe("MOCK-REPLY 2: fault-truncatex1-lhqx3");
  });

  it.each(CLIS)(
    "%s: a hung CLI is stopped at timeoutMs with its whole process group",
    async (cli) => {
      const r = await gw.call(`${cli}_request`, {
        prompt: "[[fake:child]] [[fake:hang]]",
        timeoutMs: 1000,
      });
      expect(r.isError).toBe(true);
      expect(sc(r).error).toEqual({
        category: "timeout",
        message: "Process timed out after 1000ms",
      });
      const pids = [...invocations().map((i) => i.pid), ...lane.grandchildren()];
      expect(pids.length).toBe(2);
      expect(await survivors(pids)).toEqual([]);
    },
  );

  it("a CLI that ignores SIGTERM is killed too", async () => {
    const r = await gw.call("claude_request", {
      prompt: "[[fake:ignore-term]] [[fake:hang]]",
      timeoutMs: 1000,
    });
    expect(sc(r).error.category).toBe("timeout");
    expect(await survivors(invocations().map((i) => i.pid))).toEqual([]);
  });

  it("a gemini exit 0 with nothing printed is an error, not an empty answer", async () => {
    const r = await gw.call("gemini_request", { prompt: "[[fake:sample=none]]" });
    expect(r.isError).toBe(true);
    expect(sc(r).error.category).toBe("cli_error");
  });
});

describe("a missing CLI", () => {
  it("gives the seed's message and the install command", async () => {
    const emptyBin = mkdtempSync(join(tmpdir(), "llm-gateway-emptybin-"));
    const lone = await startGateway({ PATH: emptyBin });
    try {
      const r = await lone.call("claude_request", { prompt: "x" });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain("[cli_not_found]");
      expect(textOf(r)).toContain(
        "The 'claude' command was not found. Please ensure claude CLI is installed and in your PATH.",
      );
      expect(textOf(r)).toContain("npm install -g @anthropic-ai/claude-code");
    } finally {
      await lone.close();
      rmSync(emptyBin, { recursive: true, force: true });
    }
  });
});

describe("optimizePrompt and optimizeResponse", () => {
  it("send the compacted prompt, keep code byte-exact, and report the savings", async () => {
    const log = Array(20)
      .fill("\u001b[31mERROR\u001b[0m connection refused to 10.0.0.7:5432")
      .join("\n");
    const code = "```ts\nconst  x   =  1;   // spacing kept\n```";
    const prompt = `Could you please look at this log?\n\n${log}\n\n${code}`;
    const r = await gw.call("codex_request", { prompt, optimizePrompt: true });
    const sent = invocations()[0]!.stdin;
    expect(sent).toContain(code);
    expect(sent).toContain("10.0.0.7:5432");
    expect(sent).not.toContain("\u001b[31m");
    expect(sent.length).toBeLessThan(prompt.length / 3);
    expect(sc(r).optimization.prompt).toMatchObject({
      originalChars: prompt.length,
      optimizedChars: sent.length,
    });
    expect(sc(r).optimization.prompt.transformations).toEqual(
      expect.arrayContaining(["ansi-codes", "repeated-lines"]),
    );
  });

  it("compact the answer, but never a JSON answer", async () => {
    const reply = "Sure! Here is the fix.\n\n\n\nUse `npm ci`.\n\nI hope this helps!";
    const r = await gw.call("claude_request", {
      prompt: `[[fake:reply=${reply}]]`,
      optimizeResponse: true,
    });
    expect(textOf(r)).not.toContain("I hope this helps");
    expect(textOf(r)).toContain("`npm ci`");
    expect(sc(r).optimization.response.optimizedChars).toBeLessThan(reply.length);
    const json = await gw.call("claude_request", {
      prompt: `[[fake:reply=${reply}]]`,
      optimizeResponse: true,
      outputFormat: "json",
    });
    expect(JSON.parse(textOf(json)).result).toBe(reply);
  });
});

describe("tools/list", () => {
  it("lists every tool with input and output schemas, compactly", async () => {
    const { tools } = await gw.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      [
        "agent_request",
        "claude_request",
        "claude_request_async",
        "codex_request",
        "codex_request_async",
        "consult",
        "review",
        "gemini_request",
        "gemini_request_async",
        "llm_job_cancel",
        "llm_job_result",
        "llm_job_status",
        "list_models",
        "approval_list",
        "session_clear_all",
        "session_create",
        "session_delete",
        "session_get",
        "session_list",
        "session_set_active",
      ].sort(),
    );
    for (const tool of tools) {
      expect(tool.description?.length).toBeGreaterThan(10);
      expect(tool.inputSchema).not.toHaveProperty("$schema");
      expect(tool.outputSchema).toBeDefined();
    }
    expect(tools.find((t) => t.name === "claude_request")?.inputSchema.required).toEqual([
      "prompt",
    ]);
    // Every client pays for this document in context on every turn.
    expect(JSON.stringify({ tools }).length).toBeLessThan(20 * 1024);
    // Under 20 KB with every CLI: the CLIs added since the first three share agent_request.
    expect(JSON.stringify(tools.find((t) => t.name === "agent_request")).length).toBeLessThan(
      2_000,
    );
    // consult and review together add at most 2.5 KB for the first three CLIs, and each later CLI
    // about 40 B (its name in both tools' `clis` enum and `models`).
    const fanout = tools.filter((t) => t.name === "consult" || t.name === "review");
    expect(JSON.stringify(fanout).length).toBeLessThanOrEqual(2_500 + 50 * (CLI_NAMES.length - 3));
    expect(tools.find((t) => t.name === "codex_request")?.execution).toEqual({
      taskSupport: "optional",
    });
  });
});
