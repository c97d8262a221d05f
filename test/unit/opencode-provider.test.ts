import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LINE_HEAD_BYTES } from "../../src/process/runner.js";
import { opencodeProvider as p, type OpencodeOptions } from "../../src/providers/opencode.js";
import { opencodeConfiguredModel, stripJsonc } from "../../src/providers/opencode-config.js";
import type { InvocationRequest, McpPlan, RawRun } from "../../src/providers/types.js";
import { installFakeClis } from "../fakes/install-fakes.mjs";
import { EXTRA_VERSIONS } from "../realcli/install-clis.mjs";
import { runInvocation } from "../helpers/run-invocation.js";

const SAMPLES = join(import.meta.dirname, "../fixtures/samples");
const tmp = mkdtempSync(join(tmpdir(), "llm-gateway-opencode-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sample(name: string): RawRun {
  const read = (ext: string) =>
    existsSync(join(SAMPLES, name + ext))
      ? readFileSync(join(SAMPLES, name + ext), "utf8")
      : undefined;
  const exit = /exit=(\d+)/.exec(read(".exit") ?? "exit=0");
  return {
    stdout: read(".jsonl") ?? read(".stdout") ?? "",
    stderr: read(".stderr") ?? "",
    exitCode: Number(exit?.[1] ?? 0),
    signal: null,
  };
}

function retained(run: RawRun): RawRun {
  const kept: string[] = [];
  for (const line of run.stdout.split("\n")) {
    const verdict = p.retain(Buffer.from(line).toString("utf8", 0, LINE_HEAD_BYTES));
    if (verdict === "keep") kept.push(line);
    else if (verdict !== "drop") kept.push(verdict.replace);
  }
  return { ...run, stdout: kept.join("\n") };
}

const parse = (name: string) => p.parse(retained(sample(name)));

function request(
  over: Partial<InvocationRequest<OpencodeOptions>> = {},
): InvocationRequest<OpencodeOptions> {
  return {
    prompt: "hi",
    session: { mode: "new" },
    options: {},
    scratchDir: join(tmp, "scratch"),
    env: {},
    ...over,
  };
}

const configOf = (req: InvocationRequest<OpencodeOptions>) =>
  JSON.parse(p.buildInvocation(req).env!.OPENCODE_CONFIG_CONTENT!) as {
    permission: Record<string, string>;
    mcp?: Record<string, { command: string[]; environment?: Record<string, string> }>;
  };

describe("opencode parser (real samples)", () => {
  const names = [
    ...new Set(
      readdirSync(SAMPLES)
        .filter((f) => f.startsWith("opencode-"))
        .map((f) => f.replace(/\..*$/, "")),
    ),
  ];

  it.each(names)("parses the retained lines as all of stdout: %s", (name) => {
    expect(p.parse(retained(sample(name)))).toEqual(p.parse(sample(name)));
  });

  it("reads a first turn: text, session id, tokens, no error", () => {
    const out = parse("opencode-turn1");
    expect(out.text).toBe("MOCK-REPLY 1: first prompt alpha");
    expect(out.nativeSessionId).toMatch(/^ses_/);
    expect(out.usage.inputTokens).toBeGreaterThan(0);
    expect(out.usage.outputTokens).toBeGreaterThan(0);
    expect(out.error).toBeUndefined();
    expect(out.acted).toBe(false);
    expect(out.costUsd).toBeUndefined(); // cost 0: a provider without prices
  });

  it("reads a resumed turn in the same session", () => {
    const first = parse("opencode-turn1");
    const second = parse("opencode-turn2-resume");
    expect(second.text).toBe("MOCK-REPLY 2: second prompt beta");
    expect(second.nativeSessionId).toBe(first.nativeSessionId);
    expect(parse("opencode-turn3-continue").text).toMatch(/^MOCK-REPLY \d: fourth prompt delta$/);
  });

  it("takes the last step's text and sums the steps' tokens of a tool turn", () => {
    const out = parse("opencode-mcp-approved");
    expect(out.text).toBe("MOCK-REPLY 1: tool mini_echo_marker -> MCP-ECHO[M1]");
    expect(out.usage).toMatchObject({ inputTokens: 5568 + 5622, outputTokens: 4 + 13 });
    expect(out.acted).toBe(true);
    expect(parse("opencode-perm-bash-allowed").acted).toBe(true);
    expect(parse("opencode-perm-bash-denied").acted).toBe(false);
  });

  it("types the failures, exit 0 or not", () => {
    expect(parse("opencode-fault-401").error).toMatchObject({ category: "auth_error" });
    expect(parse("opencode-fault-401").error!.message).toContain("mock injected 401");
    expect(parse("opencode-unknown-session").error).toEqual({
      category: "cli_error",
      message: "Error: Session not found",
    });
    expect(parse("opencode-unknown-model").error!.message).toContain("UnknownError");
    // A 500 that opencode retries until it is killed: no step finished.
    expect(parse("opencode-fault-500").error).toMatchObject({ category: "cli_error" });
    expect(parse("opencode-fault-dropx1").error).toBeUndefined();
    expect(parse("opencode-fault-truncatex1").text).toBe("MOCK-REPLY 1: fault prompt");
  });

  it("reports a permission that opencode rejected headless (exit 0, no answer)", () => {
    const lines = readFileSync(join(SAMPLES, "opencode-perm-bash-allowed.jsonl"), "utf8")
      .split("\n")
      .slice(0, 3); // step_start, tool_use, step_finish "tool-calls"
    const out = p.parse({
      stdout: lines.join("\n"),
      stderr: "\x1b[93m\x1b[1m! \x1b[0mpermission requested: bash (touch x); auto-rejecting\n",
      exitCode: 0,
      signal: null,
    });
    expect(out.error?.category).toBe("approval_denied");
  });

  it("keeps only a tool's name and status of a tool event", () => {
    const output = "x".repeat(100_000);
    const line = `{"type":"tool_use","timestamp":1,"sessionID":"ses_a","part":{"type":"tool","tool":"bash","callID":"c","state":{"status":"completed","output":"${output}"}}}`;
    expect(p.retain(line.slice(0, LINE_HEAD_BYTES))).toEqual({
      replace: '{"type":"tool_use","part":{"tool":"bash","state":{"status":"completed"}}}',
    });
    expect(p.retain('{"type":"text","timestamp":1}')).toBe("keep");
  });

  it("notes progress from the stream, never prompt text", () => {
    const [start, tool] = readFileSync(join(SAMPLES, "opencode-mcp-approved.jsonl"), "utf8").split(
      "\n",
    );
    expect(p.progress(start!)).toBe("opencode started a step");
    expect(p.progress(tool!)).toBe("opencode used mini_echo_marker");
    expect(p.progress("not json")).toBeUndefined();
  });
});

describe("opencode invocation", () => {
  it("declares the version the real-CLI lane installs as tested", () => {
    expect(p.testedVersions).toEqual({
      min: EXTRA_VERSIONS.opencode,
      max: EXTRA_VERSIONS.opencode,
    });
  });

  it("runs `run --format json` with the prompt on stdin and the model as provider/model", () => {
    const inv = p.buildInvocation(request({ prompt: "a  b\n", model: "mock/m-1" }));
    expect(inv.args).toEqual(["run", "--format", "json", "-m", "mock/m-1"]);
    expect(inv.stdin).toBe("a  b\n");
    expect(() => p.buildInvocation(request({ model: "gpt-5" }))).toThrow(/"<provider>\/<model>"/);
  });

  it("resumes by id, or the latest session, and cannot name a new one", () => {
    expect(p.buildInvocation(request({ session: { mode: "resume", id: "ses_x" } })).args).toContain(
      "--session",
    );
    expect(p.buildInvocation(request({ session: { mode: "latest" } })).args).toContain(
      "--continue",
    );
    expect(() => p.buildInvocation(request({ session: { mode: "new-with-id", id: "x" } }))).toThrow(
      /cannot be given the id/,
    );
  });

  it("denies commands and edits unless granted; a bypass allows everything", () => {
    expect(configOf(request()).permission).toEqual({ bash: "deny", edit: "deny" });
    expect(configOf(request({ options: { workspaceWrite: true } })).permission).toEqual({
      bash: "deny",
      edit: "allow",
    });
    expect(configOf(request({ options: { allowedTools: ["bash"] } })).permission.bash).toBe(
      "allow",
    );
    const bypass = request({ options: { bypassPermissions: true } });
    expect(configOf(bypass).permission).toEqual({ "*": "allow" });
    expect(p.buildInvocation(bypass).args).toContain("--auto");
  });

  it("maps the grant onto its options, never more than asked", () => {
    const asked: OpencodeOptions = { bypassPermissions: true, allowedTools: ["bash"] };
    expect(
      p.permissions.withGrant(asked, { bypass: false, workspaceWrite: true, allowedTools: [] }),
    ).toEqual({ bypassPermissions: undefined, workspaceWrite: true, allowedTools: [] });
    expect(p.permissions.shellOrWrite!.test("bash")).toBe(true);
    expect(p.permissions.shellOrWrite!.test("webfetch")).toBe(false);
  });

  it("passes MCP servers in its config, their env in 0600 files, never on argv or in the config", () => {
    const mcp: McpPlan = {
      servers: {
        mini: { command: "/usr/bin/node", args: ["srv.mjs"], env: { TOKEN: "s3cret-token" } },
        other: { command: "x" },
      },
      callable: ["mini"],
      strict: false,
    };
    const req = request({ mcp });
    const inv = p.buildInvocation(req);
    const config = configOf(req);
    expect(config.mcp!.mini!.command).toEqual(["/usr/bin/node", "srv.mjs"]);
    expect(config.mcp!.mini!.environment).toEqual({
      TOKEN: `{file:${join(req.scratchDir, "mcp-env-mini-TOKEN")}}`,
    });
    expect(inv.files).toEqual({ "mcp-env-mini-TOKEN": "s3cret-token" });
    expect(inv.secrets).toEqual(["s3cret-token"]);
    expect(JSON.stringify(inv.args) + inv.env!.OPENCODE_CONFIG_CONTENT).not.toContain("s3cret");
    expect(config.permission).toMatchObject({ "mini_*": "allow", "other_*": "deny" });
    expect(() =>
      p.buildInvocation(request({ mcp: { ...mcp, servers: { "a.b": { command: "x" } } } })),
    ).toThrow(/server names/);
  });

  it("extends the gateway's own OPENCODE_CONFIG_CONTENT, and refuses one that is not JSON", () => {
    const env = {
      OPENCODE_CONFIG_CONTENT: '{"model":"a/b","permission":{"webfetch":"deny","bash":"allow"}}',
    };
    const config = configOf(request({ env })) as unknown as Record<string, unknown>;
    expect(config.model).toBe("a/b");
    expect(config.permission).toEqual({ webfetch: "deny", bash: "deny", edit: "deny" });
    expect(() => p.buildInvocation(request({ env: { OPENCODE_CONFIG_CONTENT: "nope" } }))).toThrow(
      /OPENCODE_CONFIG_CONTENT/,
    );
  });
});

describe("opencode configured model", () => {
  it("reads the global config, then the project's, then OPENCODE_CONFIG_CONTENT (JSONC too)", () => {
    const home = join(tmp, "home");
    const project = join(tmp, "proj");
    mkdirSync(join(home, ".config", "opencode"), { recursive: true });
    mkdirSync(join(project, ".git"), { recursive: true });
    mkdirSync(join(project, "sub"), { recursive: true });
    const env = { HOME: home } as NodeJS.ProcessEnv;
    expect(opencodeConfiguredModel(env, project)).toBeUndefined();
    writeFileSync(
      join(home, ".config", "opencode", "opencode.jsonc"),
      '{\n  // mine\n  "$schema": "https://opencode.ai/config.json",\n  "model": "g/global",\n}\n',
    );
    expect(opencodeConfiguredModel(env, join(project, "sub"))).toBe("g/global");
    writeFileSync(join(project, "opencode.json"), '{"model":"p/project"}');
    expect(opencodeConfiguredModel(env, join(project, "sub"))).toBe("p/project");
    expect(
      opencodeConfiguredModel(
        { ...env, OPENCODE_CONFIG_CONTENT: '{"model":"c/content"}' },
        project,
      ),
    ).toBe("c/content");
    expect(stripJsonc('{"a":"//x", /* c */ "b":[1,],}')).toBe('{"a":"//x",  "b":[1]}');
  });
});

describe("fake opencode", () => {
  it("replays the real event format through the provider's invocation", async () => {
    const bin = installFakeClis(["opencode"]);
    const log = join(tmp, "fake.log");
    try {
      const env = { PATH: `${bin}:${process.env.PATH}`, FAKE_CLI_LOG: log, HOME: tmp };
      const { parsed } = await runInvocation(
        p,
        request({ prompt: "hello fake", env, session: { mode: "resume", id: "ses_abc" } }),
        { cwd: tmp, path: bin },
      );
      expect(parsed).toMatchObject({ text: "FAKE-REPLY: hello fake", nativeSessionId: "ses_abc" });
      expect(parsed.error).toBeUndefined();
      const call = JSON.parse(readFileSync(log, "utf8").trim()) as {
        stdin: string;
        config: unknown;
      };
      expect(call.stdin).toBe("hello fake");
      expect(call.config).toMatchObject({ permission: { bash: "deny" } });
      const failed = await runInvocation(
        p,
        request({ prompt: "[[fake:sample=opencode-fault-401]]", env }),
        {
          cwd: tmp,
          path: bin,
        },
      );
      expect(failed.parsed.error?.category).toBe("auth_error");
      expect(failed.outcome.exitCode).toBe(1);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
