import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { agentRequest } from "../../src/mcp/tools/agent-request.js";
import { AGENT_CLIS, requestToolOf } from "../../src/providers/index.js";
import { qwenProvider as qwen } from "../../src/providers/qwen.js";
import { LINE_HEAD_BYTES } from "../../src/process/runner.js";
import type { AgentRequestSpec, InvocationRequest, RawRun } from "../../src/providers/types.js";
import type { QwenOptions } from "../../src/providers/qwen.js";
import { DEFAULT_PRICES, findPrice } from "../../src/store/prices.js";

const SAMPLES = join(import.meta.dirname, "../fixtures/samples");

/** A captured real qwen 0.24.4 run (docs/cli-facts/qwen.md). */
function sample(name: string): RawRun {
  const read = (ext: string) =>
    existsSync(join(SAMPLES, name + ext)) ? readFileSync(join(SAMPLES, name + ext), "utf8") : "";
  const exit = /exit=(\d+)/.exec(read(".exit") || "exit=0");
  return {
    stdout: read(".stream.jsonl") || read(".stdout"),
    stderr: read(".stderr"),
    exitCode: Number(exit![1]),
    signal: null,
  };
}

function retained(run: RawRun): RawRun {
  const kept: string[] = [];
  for (const line of run.stdout.split("\n")) {
    const verdict = qwen.retain(Buffer.from(line).toString("utf8", 0, LINE_HEAD_BYTES));
    if (verdict === "keep") kept.push(line);
    else if (verdict !== "drop") kept.push(verdict.replace);
  }
  return { ...run, stdout: kept.join("\n") };
}

const parse = (name: string) => qwen.parse(retained(sample(name)));

describe("qwen parse, on the real samples", () => {
  it("turn 1: the answer, its session id, model, usage and turns", () => {
    const p = parse("qwen-turn1");
    expect(p.text).toBe("MOCK-REPLY 1: Say hello for turn one");
    expect(p.nativeSessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(p.model).toBe("qwen3-coder-plus");
    expect(p.usage.inputTokens).toBeGreaterThan(1000);
    expect(p.usage.outputTokens).toBeGreaterThan(0);
    expect(p.turns).toBe(1);
    expect(p.error).toBeUndefined();
    expect(p.acted).toBe(false);
  });

  it("turn 2 resumed: the same session, and the history came back (turn 2)", () => {
    expect(parse("qwen-turn2-resume").text).toMatch(/^MOCK-REPLY 2: /);
    expect(parse("qwen-turn2-resume").nativeSessionId).toBe(parse("qwen-turn1").nativeSessionId);
  });

  it("HTTP 500 after its retries (exit 1, is_error): provider_error with qwen's message", () => {
    const p = parse("qwen-fault-500");
    expect(p.error).toEqual({
      category: "provider_error",
      message: "[API Error: 500 mock injected 500 (status)]",
    });
  });

  it("a stream that keeps breaking off (exit 1, is_error) is a provider_error, retried like one", () => {
    expect(parse("qwen-fault-truncate").error).toEqual({
      category: "provider_error",
      message: "[API Error: Model stream ended without a finish reason.]",
    });
    expect(parse("qwen-fault-truncatex1").error).toBeUndefined();
  });

  it("a dropped connection or a stream error recovered by qwen (exit 0) is no error", () => {
    expect(parse("qwen-fault-dropx1").error).toBeUndefined();
    expect(parse("qwen-fault-stream-error").error).toBeUndefined();
  });

  it("an MCP tool call through tool_call is acting; a declined one still is (it was asked)", () => {
    const approved = parse("qwen-mcp-approved");
    expect(approved.text).toBe("MOCK-REPLY 1: tool tool_call -> MCP-ECHO[QWEN-MCP]");
    expect(approved.acted).toBe(true);
    expect(parse("qwen-mcp-unapproved").text).toMatch(/permission was declined/);
  });

  it("no result line: the stderr (an unknown session, exit 1) is the error", () => {
    const p = qwen.parse({
      stdout: "",
      stderr:
        "Ripgrep not available: … EACCES. Falling back to built-in grep.\nNo saved session found with ID abc. Run `qwen --resume` without an ID to choose from existing sessions.\n",
      exitCode: 1,
      signal: null,
    });
    expect(p.error?.category).toBe("cli_error");
    expect(p.error?.message).toMatch(/^No saved session found with ID abc/);
  });

  it.each(
    [...new Set(readdirSync(SAMPLES).filter((f) => /^qwen-.*(jsonl|stdout)$/.test(f)))].map((f) =>
      f.replace(/\..*$/, ""),
    ),
  )("retained lines parse the same as all of stdout: %s", (name) => {
    expect(qwen.parse(retained(sample(name)))).toEqual(qwen.parse(sample(name)));
  });

  it("progress notes from its stream, never prompt text", () => {
    const lines = sample("qwen-mcp-approved").stdout.trim().split("\n");
    const notes = lines.map((l) => qwen.progress(l)).filter(Boolean);
    expect(notes[0]).toBe("qwen started (qwen3-coder-plus)");
    expect(notes).toContain("qwen is using mcp__mini__echo_marker");
    expect(notes.join(" ")).not.toContain("QWEN-MCP");
  });
});

const request = (
  over: Partial<InvocationRequest<QwenOptions>> = {},
): InvocationRequest<QwenOptions> => ({
  prompt: "p",
  session: { mode: "new" },
  options: {},
  scratchDir: "/run/x",
  env: {},
  ...over,
});

describe("qwen invocation", () => {
  it("prompt on stdin, approval mode always said, sessions as qwen takes them", () => {
    const inv = qwen.buildInvocation(request({ model: "qwen3-max" }));
    expect(inv.stdin).toBe("p");
    expect(inv.args).toEqual([
      "-o",
      "stream-json",
      "-m",
      "qwen3-max",
      "--approval-mode",
      "default",
    ]);
    const args = (session: InvocationRequest<QwenOptions>["session"]) =>
      qwen.buildInvocation(request({ session })).args.join(" ");
    expect(args({ mode: "resume", id: "s1" })).toContain("-r s1");
    expect(args({ mode: "new-with-id", id: "s2" })).toContain("--session-id s2");
    expect(args({ mode: "latest" })).toContain(" -c");
  });

  it("MCP servers in a 0600 file it names by path; secrets kept out of argv; callable ones pre-approved", () => {
    const inv = qwen.buildInvocation(
      request({
        mcp: {
          servers: {
            mini: { command: "node", env: { TOKEN: "sk-secret-value" } },
            other: { command: "x" },
          },
          callable: ["mini"],
          strict: false,
        },
      }),
    );
    expect(inv.args.join(" ")).not.toContain("sk-secret-value");
    expect(inv.args).toContain("/run/x/qwen-mcp.json");
    expect(JSON.parse(inv.files!["qwen-mcp.json"]!).mcpServers.mini.env.TOKEN).toBe(
      "sk-secret-value",
    );
    expect(inv.secrets).toEqual(["sk-secret-value"]);
    expect(inv.args.slice(-2)).toEqual(["--allowed-tools", "mcp__mini"]);
  });

  it("the approval grant maps onto one approval mode", () => {
    const grant = (bypass: boolean, workspaceWrite: boolean) =>
      qwen.permissions.withGrant({ bypassPermissions: true }, { bypass, workspaceWrite });
    expect(grant(false, true)).toMatchObject({
      bypassPermissions: undefined,
      workspaceWrite: true,
    });
    expect(grant(true, false)).toMatchObject({
      bypassPermissions: true,
      workspaceWrite: undefined,
    });
    expect("run_shell_command(git log)").toMatch(qwen.permissions.shellOrWrite!);
    expect("read_file").not.toMatch(qwen.permissions.shellOrWrite!);
  });

  it("its prices come from the provider (no cost reported)", () => {
    expect(findPrice(DEFAULT_PRICES, "qwen3-coder-plus")).toEqual(qwen.prices!["qwen3-coder-plus"]);
  });
});

describe("agent_request's refusals", () => {
  const saved = qwen.agentRequest!;
  afterEach(() => {
    (qwen as { agentRequest?: AgentRequestSpec }).agentRequest = saved;
  });

  it("serves the CLIs whose provider declares agentRequest, and names that tool in messages", () => {
    expect(AGENT_CLIS).toEqual(["qwen", "opencode"]);
    expect(requestToolOf("qwen")).toBe('agent_request (cli "qwen")');
    expect(requestToolOf("codex")).toBe("codex_request");
  });

  it("refuses an option the CLI does not honour, naming the field and the CLI", () => {
    (qwen as { agentRequest?: AgentRequestSpec }).agentRequest = {
      title: "Q",
      honours: ["workspaceWrite"],
    };
    expect(() =>
      agentRequest({ cli: "qwen", prompt: "x", mcpServers: ["a"], resumeLatest: true }),
    ).toThrow(
      "resumeLatest, mcpServers: qwen cannot honour these options (it honours workspaceWrite)",
    );
    // Asking for nothing is honoured by every CLI.
    expect(
      agentRequest({ cli: "qwen", prompt: "x", mcpServers: [], resumeLatest: false }).options,
    ).toEqual({
      bypassPermissions: undefined,
      workspaceWrite: undefined,
      allowedTools: undefined,
    });
  });
});
