import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { opencodeProvider as p, type OpencodeOptions } from "../../src/providers/opencode.js";
import type { InvocationRequest, McpPlan } from "../../src/providers/types.js";
import { runInvocation } from "../helpers/run-invocation.js";
import type { MockApi } from "./harness.js";
import { installExtraCli } from "./install-clis.mjs";
import { startMockApi } from "./mock-llm-api.mjs";

// The real opencode (its own cache dir, see install-clis.mjs) against the mock's Responses API,
// through the provider's invocation (opencode has no request tool yet, so not the gateway).

let mock: MockApi;
let home: string;
let bin: string;
let env: Record<string, string>;

beforeAll(async () => {
  bin = installExtraCli("opencode");
  mock = (await startMockApi({ port: 0 })) as unknown as MockApi;
  home = mkdtempSync(join(tmpdir(), "llm-gateway-real-opencode-"));
  mkdirSync(join(home, "tmp"));
  mkdirSync(join(home, ".config", "opencode"), { recursive: true });
  writeFileSync(
    join(home, ".config", "opencode", "opencode.json"),
    JSON.stringify({
      autoupdate: false,
      share: "disabled",
      model: "mock/mock-model",
      provider: {
        mock: {
          npm: "@ai-sdk/openai", // the Responses API: the mock's tool calls work there
          options: { baseURL: `${mock.url}/v1`, apiKey: "{env:MOCK_API_KEY}" },
          models: { "mock-model": {}, "mock-model-2": {} },
        },
      },
    }),
  );
  const proxy = mock.url; // the mock's proxy sink answers 403 to anything else
  env = {
    PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: home,
    TMPDIR: join(home, "tmp"),
    LANG: "C.UTF-8",
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_STATE_HOME: join(home, ".local", "state"),
    MOCK_API_KEY: "mock-key",
    OPENCODE_DISABLE_MODELS_FETCH: "1",
    OPENCODE_DISABLE_AUTOUPDATE: "1",
    OPENCODE_DISABLE_SHARE: "1",
    OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
    OPENCODE_DISABLE_CLAUDE_CODE: "1",
    HTTPS_PROXY: proxy,
    HTTP_PROXY: proxy,
    ALL_PROXY: proxy,
    https_proxy: proxy,
    http_proxy: proxy,
    all_proxy: proxy,
    NO_PROXY: "127.0.0.1,localhost,::1",
    no_proxy: "127.0.0.1,localhost,::1",
  };
});

afterAll(async () => {
  await mock?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

let runs = 0;
function dir(): string {
  const d = join(home, `work-${++runs}`);
  mkdirSync(d);
  return d;
}

async function run(
  prompt: string,
  cwd: string,
  over: Partial<InvocationRequest<OpencodeOptions>> = {},
  limits: { idleTimeoutMs?: number } = {},
) {
  const request: InvocationRequest<OpencodeOptions> = {
    prompt,
    session: { mode: "new" },
    options: {},
    scratchDir: join(home, "scratch", String(runs++)),
    env,
    ...over,
  };
  return runInvocation(p, request, { cwd, path: bin, timeoutMs: 110_000, ...limits });
}

const main = (marker: string) =>
  mock.log().filter((e) => e.dialect === "openai" && (e.prompt ?? "").includes(marker));
/** The request that answered (it offers tools; the title request offers none). */
const answering = (marker: string) =>
  main(marker).filter((e) => ((e.body as { tools?: unknown[] }).tools ?? []).length > 0);

describe("real opencode", () => {
  it("answers, byte-exact, with its session id, and resumes that session with its history", async () => {
    const cwd = dir();
    const prompt = 'oc-one  "quoted" $HOME `x`\nsecond line\n';
    const first = await run(prompt, cwd);
    expect(first.parsed.error, first.outcome.stderr).toBeUndefined();
    expect(first.parsed.text).toBe('MOCK-REPLY 1: oc-one "quoted" $HOME `x` second line');
    expect(first.parsed.nativeSessionId).toMatch(/^ses_/);
    expect(first.parsed.usage.inputTokens).toBeGreaterThan(0);
    expect(answering("oc-one")[0]?.userTexts).toContain(prompt);

    const second = await run("oc-two", cwd, {
      session: { mode: "resume", id: first.parsed.nativeSessionId! },
    });
    expect(second.parsed.error, second.outcome.stderr).toBeUndefined();
    expect(second.parsed.text).toBe("MOCK-REPLY 2: oc-two");
    expect(second.parsed.nativeSessionId).toBe(first.parsed.nativeSessionId);
    const [request] = answering("oc-two");
    expect(request?.assistantTexts).toContain(first.parsed.text);
  });

  it("uses the model it is given", async () => {
    const out = await run("oc-model", dir(), { model: "mock/mock-model-2" });
    expect(out.parsed.error, out.outcome.stderr).toBeUndefined();
    expect(answering("oc-model").map((e) => e.model)).toEqual(["mock-model-2"]);
  });

  it("types a failed model call (401: exit 1), and keeps retrying a 500 until stopped", async () => {
    const denied = await run("oc-401 [[mock:401]]", dir());
    expect(denied.outcome.exitCode).toBe(1);
    expect(denied.parsed.error?.category).toBe("auth_error");
    const failing = await run("oc-500 [[mock:500]]", dir(), {}, { idleTimeoutMs: 15_000 });
    expect(failing.outcome.stopped).toBe("idle_timeout");
    expect(failing.parsed.error).toBeDefined();
    expect(main("oc-500").length).toBeGreaterThan(1);
  });

  it("denies commands unless granted", async () => {
    const cwd = dir();
    const tool = '[[mock:tool=bash {"command":"touch oc-made","description":"touch"}]]';
    const denied = await run(`oc-deny ${tool}`, cwd);
    expect(denied.parsed.text).toBe("MOCK-REPLY 1: tool bash not offered");
    expect(existsSync(join(cwd, "oc-made"))).toBe(false);
    const allowed = await run(`oc-allow ${tool}`, cwd, { options: { allowedTools: ["bash"] } });
    expect(allowed.parsed.acted).toBe(true);
    expect(existsSync(join(cwd, "oc-made"))).toBe(true);
  });

  it("runs a per-request MCP server with its env, off every command line, callable only when approved", async () => {
    const log = join(home, "mini.log");
    const secret = "oc-secret-7f3a9";
    const plan = (callable: string[]): McpPlan => ({
      servers: {
        mini: {
          command: process.execPath,
          args: [join(import.meta.dirname, "mini-mcp-server.mjs")],
          env: { MINI_MCP_LOG: log, MINI_MCP_SECRET: secret },
        },
      },
      callable,
      strict: false,
    });
    const tool = '[[mock:tool=echo_marker {"text":"OCM"}]]';
    const called = await run(`oc-mcp ${tool}`, dir(), { mcp: plan(["mini"]) });
    expect(called.parsed.error, called.outcome.stderr).toBeUndefined();
    expect(called.parsed.text).toBe("MOCK-REPLY 1: tool mini_echo_marker -> MCP-ECHO[OCM]");
    const entries = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { secret?: string; ancestors?: { cmdline: string[] }[] });
    expect(entries.some((e) => e.secret === secret)).toBe(true);
    const cmdlines = entries.flatMap((e) => e.ancestors ?? []).map((a) => a.cmdline.join(" "));
    expect(cmdlines.length).toBeGreaterThan(0);
    expect(cmdlines.join("\n")).not.toContain(secret);

    const refused = await run(`oc-mcp-no ${tool}`, dir(), { mcp: plan([]) });
    expect(refused.parsed.text).toBe("MOCK-REPLY 1: tool echo_marker not offered");
  });
});
