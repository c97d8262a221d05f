import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { claudeProvider } from "../../src/providers/claude.js";
import { codexProvider } from "../../src/providers/codex.js";
import { geminiProvider } from "../../src/providers/gemini.js";
import { LINE_HEAD_BYTES } from "../../src/process/runner.js";
import type { Provider, RawRun } from "../../src/providers/types.js";

const SAMPLES = join(import.meta.dirname, "../fixtures/samples");

/** A captured real run: stdout (.json/.jsonl/.stdout), stderr and exit code. */
function sample(name: string): RawRun {
  const read = (ext: string) =>
    existsSync(join(SAMPLES, name + ext))
      ? readFileSync(join(SAMPLES, name + ext), "utf8")
      : undefined;
  const stdout = read(".json") ?? read(".jsonl") ?? read(".stream.jsonl") ?? read(".stdout") ?? "";
  const exit = /exit=(\d+)/.exec(read(".exit") ?? "exit=0");
  return { stdout, stderr: read(".stderr") ?? "", exitCode: Number(exit?.[1] ?? 0), signal: null };
}

/** stdout as the runner hands it to parse: only the lines (or stand-ins) the provider retains. */
function retained(p: Provider, run: RawRun): RawRun {
  const kept: string[] = [];
  for (const line of run.stdout.split("\n")) {
    const verdict = p.retain(Buffer.from(line).toString("utf8", 0, LINE_HEAD_BYTES));
    if (verdict === "keep") kept.push(line);
    else if (verdict !== "drop") kept.push(verdict.replace);
  }
  return { ...run, stdout: kept.join("\n") };
}

const parse = (p: Provider, name: string) => p.parse(retained(p, sample(name)));

const PROVIDERS: Record<string, Provider> = {
  claude: claudeProvider,
  codex: codexProvider,
  gemini: geminiProvider,
};

describe("retained stdout lines", () => {
  const samples = [
    ...new Set(
      readdirSync(SAMPLES)
        .filter((f) => /^(claude|codex|gemini)-/.test(f))
        .map((f) => f.replace(/\..*$/, "")),
    ),
  ];

  it.each(samples)("parse the same as all of stdout: %s", (name) => {
    const provider = PROVIDERS[name.split("-")[0]!]!;
    expect(provider.parse(retained(provider, sample(name)))).toEqual(provider.parse(sample(name)));
  });

  it("keep only the kind of a codex action, not its output", () => {
    const output = "x".repeat(1_000_000);
    const stdout = [
      '{"type":"thread.started","thread_id":"t"}',
      `{"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"cat big"}}`,
      `{"type":"item.updated","item":{"id":"item_1","type":"command_execution","aggregated_output":"${output}"}}`,
      `{"type":"item.completed","item":{"id":"item_1","type":"command_execution","aggregated_output":"${output}","exit_code":0}}`,
      '{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"done"}}',
      '{"type":"turn.completed","usage":{"input_tokens":1,"output_tokens":1}}',
    ].join("\n");
    const run = { stdout, stderr: "", exitCode: 0, signal: null };
    const kept = retained(codexProvider, run);
    expect(kept.stdout.length).toBeLessThan(500);
    const r = codexProvider.parse(kept);
    expect(r).toEqual(codexProvider.parse(run));
    expect(r.acted).toBe(true);
    expect(r.text).toBe("done");
  });

  it("drop claude's tool results and gemini's", () => {
    expect(claudeProvider.retain('{"type":"user","message":{"role":"user","content":[')).toBe(
      "drop",
    );
    expect(claudeProvider.retain('{"type":"assistant","message":{')).toBe("keep");
    expect(geminiProvider.retain('{"type":"tool_result","timestamp":"2026')).toBe("drop");
    expect(geminiProvider.retain('{"type":"message","timestamp":"2026')).toBe("keep");
  });
});

describe("claude parser (real samples)", () => {
  it("reads text, session id, model, usage and cost from a turn", () => {
    const r = parse(claudeProvider, "claude-turn1");
    expect(r.error).toBeUndefined();
    expect(r.text).toBe("MOCK-REPLY 1: alpha-34h9bs remember the word pelican");
    expect(r.nativeSessionId).toBe("2f9d84c4-046f-4268-ad76-d49aa71edafd");
    expect(r.model).toBe("claude-sonnet-4-5");
    expect(r.usage).toEqual({
      inputTokens: 21800,
      outputTokens: 13,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    });
    expect(r.costUsd).toBe(0.065595);
    expect(r.turns).toBe(1);
  });

  it("reads the result line of stream-json output", () => {
    const r = parse(claudeProvider, "claude-turn3-continue");
    expect(r.error).toBeUndefined();
    expect(r.text).toMatch(/^MOCK-REPLY 3: /);
  });

  it("turns is_error with an API 500 into provider_error, despite a JSON result", () => {
    const r = parse(claudeProvider, "claude-fault-500");
    expect(r.error?.category).toBe("provider_error");
    expect(r.error?.message).toMatch(/API Error: 500/);
  });

  it("maps 529 and 429 to rate_limited", () => {
    const run = sample("claude-fault-500");
    for (const status of [529, 429]) {
      const stdout = run.stdout.replace('"api_error_status":500', `"api_error_status":${status}`);
      expect(claudeProvider.parse({ ...run, stdout }).error?.category).toBe("rate_limited");
    }
  });

  it("explains the root refusal of dangerouslySkipPermissions", () => {
    const r = claudeProvider.parse({
      stdout: "",
      stderr:
        "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons\n",
      exitCode: 1,
      signal: null,
    });
    expect(r.error?.category).toBe("cli_error");
    expect(r.error?.message).toMatch(/IS_SANDBOX=1/);
  });

  it("builds flags and keeps the prompt off argv", () => {
    const inv = claudeProvider.buildInvocation({
      scratchDir: "/tmp/unused",
      env: {},
      prompt: "--help",
      model: "sonnet",
      session: { mode: "resume", id: "2f9d84c4-046f-4268-ad76-d49aa71edafd" },
      options: {
        allowedTools: ["Read", "Bash(git log:*)"],
        disallowedTools: ["Write"],
        dangerouslySkipPermissions: true,
      },
    });
    expect(inv.stdin).toBe("--help");
    expect(inv.args).not.toContain("--help");
    expect(inv.args).toEqual([
      "-p",
      "--output-format",
      "stream-json",
      "--verbose",
      "--model",
      "sonnet",
      "--resume",
      "2f9d84c4-046f-4268-ad76-d49aa71edafd",
      "--allowedTools",
      "Read",
      "Bash(git log:*)",
      "--disallowedTools",
      "Write",
      "--dangerously-skip-permissions",
    ]);
  });

  it("passes appendSystemPrompt in a file beside the run, never on argv", () => {
    const text = "--be terse\nAnswer in French.";
    const inv = claudeProvider.buildInvocation({
      scratchDir: "/tmp/scratch-1",
      env: {},
      prompt: "hi",
      session: { mode: "new" },
      options: { appendSystemPrompt: text },
    });
    expect(inv.args.slice(-2)).toEqual([
      "--append-system-prompt-file",
      "/tmp/scratch-1/append-system-prompt.md",
    ]);
    expect(inv.args).not.toContain(text);
    expect(inv.files).toEqual({ "append-system-prompt.md": text });
  });
});

describe("codex parser (real samples)", () => {
  it("reads the thread id, the agent message and usage", () => {
    const r = parse(codexProvider, "codex-turn1");
    expect(r.error).toBeUndefined();
    expect(r.nativeSessionId).toBe("01a20daf-5320-7ff2-8657-d27ec3fdb9aa");
    expect(r.text).toBe("MOCK-REPLY 1: alpha-fishhb remember the word pelican");
    expect(r.usage).toEqual({
      inputTokens: 9536,
      outputTokens: 13,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    });
    expect(r.costUsd).toBeUndefined();
  });

  it("keeps the last agent message after a mid-stream retry", () => {
    expect(parse(codexProvider, "codex-fault-truncatex1").text).toBe(
      "MOCK-REPLY 2: fault-truncatex1-lhqx3",
    );
  });

  it("treats reconnect errors as non-fatal", () => {
    const r = parse(codexProvider, "codex-fault-dropx1");
    expect(r.error).toBeUndefined();
    expect(r.text).toBe("MOCK-REPLY 1: fault-dropx1-l8k7k");
  });

  it("reports turn.failed from a persistent 500 as provider_error", () => {
    const r = parse(codexProvider, "codex-fault-500");
    expect(r.error?.category).toBe("provider_error");
    expect(r.error?.message).toMatch(/high demand/);
  });

  it("reports an exhausted 429 as rate_limited", () => {
    const r = codexProvider.parse({
      stdout:
        '{"type":"thread.started","thread_id":"x"}\n{"type":"turn.failed","error":{"message":"exceeded retry limit, last status: 429 Too Many Requests, request id: r"}}\n',
      stderr: "",
      exitCode: 1,
      signal: null,
    });
    expect(r.error?.category).toBe("rate_limited");
  });

  it("counts a command that was started but never completed as the agent acting", () => {
    const stdout = [
      '{"type":"thread.started","thread_id":"x"}',
      '{"type":"item.started","item":{"id":"i","type":"command_execution","command":"rm -rf build"}}',
    ].join("\n");
    expect(
      codexProvider.parse({ stdout, stderr: "", exitCode: null, signal: "SIGTERM" }).acted,
    ).toBe(true);
  });

  it("skips claude's tool-result events (they can hold whole files) but still sees its tool use", () => {
    const stdout = [
      '{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Read","input":{}}]}}',
      '{"type":"user","message":{"content":[{"type":"tool_result","content":"' +
        "z".repeat(1000) +
        '"}]}}',
      readFileSync(join(SAMPLES, "claude-turn1.json"), "utf8").trim(),
    ].join("\n");
    const r = claudeProvider.parse({ stdout, stderr: "", exitCode: 0, signal: null });
    expect(r.acted).toBe(true);
    expect(r.text).toBe("MOCK-REPLY 1: alpha-34h9bs remember the word pelican");
  });

  it("reports a run killed before the turn completed", () => {
    const r = codexProvider.parse({
      stdout: '{"type":"thread.started","thread_id":"x"}\n',
      stderr: "Reading additional input from stdin...\n",
      exitCode: null,
      signal: "SIGTERM",
    });
    expect(r.error?.category).toBe("cli_error");
    expect(r.error?.message).toMatch(/SIGTERM/);
  });

  it("puts the resume subcommand and the stdin marker last", () => {
    const inv = codexProvider.buildInvocation({
      scratchDir: "/tmp/unused",
      env: {},
      prompt: "p",
      model: "gpt-5.5",
      session: { mode: "resume", id: "01a20daf-5320-7ff2-8657-d27ec3fdb9aa" },
      options: { fullAuto: true },
    });
    expect(inv.args).toEqual([
      "exec",
      "--json",
      "--skip-git-repo-check",
      "-m",
      "gpt-5.5",
      "-s",
      "workspace-write",
      "resume",
      "01a20daf-5320-7ff2-8657-d27ec3fdb9aa",
      "-",
    ]);
    expect(inv.stdin).toBe("p");
  });
});

describe("gemini parser (real samples)", () => {
  it("reads session id, response, model and summed usage", () => {
    const r = parse(geminiProvider, "gemini-turn1");
    expect(r.error).toBeUndefined();
    expect(r.nativeSessionId).toBe("be95aa25-526e-4101-9d0d-51335f93469d");
    expect(r.text).toBe("MOCK-REPLY 1: alpha-yseawc remember the word pelican");
    expect(r.model).toBe("gemini-2.5-pro");
    expect(r.usage.inputTokens).toBe(7814);
    expect(r.usage.outputTokens).toBe(13);
  });

  it("finds the error JSON on stderr after a persistent 500 (exit 244)", () => {
    const r = parse(geminiProvider, "gemini-fault-500");
    expect(r.error?.category).toBe("provider_error");
    expect(r.error?.message).toBe("mock injected 500 (status)");
    expect(r.nativeSessionId).toBe("2f663e9c-94e5-4bfb-b860-2da46bd9accb");
  });

  it("maps an in-stream 503 and a mid-stream FIN to provider_error", () => {
    expect(parse(geminiProvider, "gemini-fault-stream-error").error?.category).toBe(
      "provider_error",
    );
    expect(parse(geminiProvider, "gemini-fault-dropx1").error?.category).toBe("provider_error");
  });

  it("maps exit codes when no JSON was printed", () => {
    const run = (exitCode: number) =>
      geminiProvider.parse({ stdout: "", stderr: "", exitCode, signal: null });
    expect(run(173).error?.category).toBe("rate_limited");
    expect(run(244).error?.category).toBe("provider_error");
    expect(run(41).error?.category).toBe("auth_error");
    expect(run(55).error?.message).toMatch(/untrusted folder/);
    // gemini exits 0 when killed by SIGTERM: an empty exit 0 is a failure, not an empty answer.
    expect(run(0).error?.category).toBe("cli_error");
  });

  it("treats an error object on stdout with exit 0 as a failure", () => {
    const stdout = JSON.stringify({
      session_id: "s",
      error: { type: "Error", message: "INVALID_STREAM", code: 1 },
    });
    expect(
      geminiProvider.parse({ stdout, stderr: "", exitCode: 0, signal: null }).error,
    ).toBeDefined();
  });

  it("reads stream-json: session, deltas joined, stats", () => {
    const r = parse(geminiProvider, "gemini-turn3-continue");
    expect(r.error).toBeUndefined();
    expect(r.nativeSessionId).toBe("be95aa25-526e-4101-9d0d-51335f93469d");
    expect(r.text).toBe("MOCK-REPLY 3: gamma-yseawc continue the most recent se");
    expect(r.model).toBe("gemini-2.5-pro");
    expect(r.usage).toMatchObject({ inputTokens: 7902, outputTokens: 14, cacheReadTokens: 0 });
  });

  it("names the model that answered when gemini routed the turn itself (no -m: init says auto)", () => {
    const r = parse(geminiProvider, "gemini-auto-model");
    expect(r.model).toBe("gemini-3.8-flash"); // not the router's gemini-3.5-flash-lite
    expect(r.text).toBe("MOCK-REPLY 1: which model");
  });

  it("reads a stream-json error result (captured from gemini 0.61 with a persistent 500)", () => {
    const stdout = [
      '{"type":"init","timestamp":"2026-11-30T05:36:23.613Z","session_id":"9443f325-d1ed-49b1-bdc8-78903c3d4aa9","model":"gemini-2.5-pro"}',
      '{"type":"result","timestamp":"2026-11-30T05:36:27.995Z","status":"error","error":{"type":"unknown","message":"[API Error: {\\"error\\":{\\"code\\":500,\\"message\\":\\"mock injected 500 (status)\\",\\"status\\":\\"INTERNAL\\"}}]"},"stats":{"total_tokens":0,"input_tokens":0,"output_tokens":0,"cached":0,"input":0,"duration_ms":0,"tool_calls":0,"models":{}}}',
    ].join("\n");
    const r = geminiProvider.parse({ stdout, stderr: "", exitCode: 244, signal: null });
    expect(r.error).toEqual({ category: "provider_error", message: "mock injected 500 (status)" });
    expect(r.nativeSessionId).toBe("9443f325-d1ed-49b1-bdc8-78903c3d4aa9");
  });

  it("treats a stream without its result event as a failure", () => {
    const stdout =
      '{"type":"init","session_id":"s","model":"m"}\n{"type":"message","role":"assistant","content":"partial","delta":true}\n';
    const r = geminiProvider.parse({ stdout, stderr: "", exitCode: 0, signal: null });
    expect(r.error?.category).toBe("cli_error");
    expect(r.text).toBe("partial");
  });

  it("treats an empty response with a warning (loop detection) as a failure", () => {
    const stdout = JSON.stringify({
      session_id: "s",
      response: "",
      warnings: ["Loop detected, stopping execution"],
    });
    const r = geminiProvider.parse({ stdout, stderr: "", exitCode: 0, signal: null });
    expect(r.error?.message).toMatch(/Loop detected/);
  });

  it("builds flags, sends stdout to a file and keeps the prompt on stdin", () => {
    const inv = geminiProvider.buildInvocation({
      scratchDir: "/tmp/unused",
      env: {},
      prompt: "-p",
      model: "gemini-2.5-pro",
      session: { mode: "latest" },
      options: {
        approvalMode: "auto_edit",
        allowedTools: ["read_file"],
        includeDirs: ["/a", "/b"],
      },
    });
    expect(inv.stdoutToFile).toBe(true);
    expect(inv.stdin).toBe("-p");
    expect(inv.args).toEqual([
      "-o",
      "stream-json",
      "-m",
      "gemini-2.5-pro",
      "--resume",
      "latest",
      "--approval-mode",
      "auto_edit",
      "--allowed-tools",
      "read_file",
      "--include-directories",
      "/a,/b",
    ]);
  });
});

describe("progress notes from streamed events", () => {
  it("say what the CLI does, never the prompt", () => {
    expect(
      claudeProvider.progress('{"type":"system","subtype":"init","model":"claude-sonnet-4-5"}'),
    ).toBe("claude started (claude-sonnet-4-5)");
    expect(
      claudeProvider.progress(
        '{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Bash","input":{"command":"secret"}}]}}',
      ),
    ).toBe("claude is using Bash");
    expect(
      codexProvider.progress(
        '{"type":"item.started","item":{"type":"mcp_tool_call","server":"mini","tool":"echo"}}',
      ),
    ).toBe("codex is calling mini.echo");
    expect(
      codexProvider.progress(
        '{"type":"item.started","item":{"type":"command_execution","command":"cat secret"}}',
      ),
    ).toBe("codex is running a command");
    expect(
      geminiProvider.progress('{"type":"message","role":"user","content":"my prompt"}'),
    ).toBeUndefined();
    expect(geminiProvider.progress('{"type":"init","model":"gemini-2.5-pro"}')).toBe(
      "gemini started (gemini-2.5-pro)",
    );
    expect(geminiProvider.progress("not json")).toBeUndefined();
  });
});
