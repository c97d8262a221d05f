// The README's client snippets, fed as written to the real clients on this machine (claude, codex,
// gemini), and the tokens each client's model is handed for one gateway answer. `npx -y
// llm-cli-gateway` in the snippets reaches this checkout's dist/main.js through an npx shim first
// on PATH, so the snippet text itself is what the client reads.
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAIN } from "../helpers/gateway.js";
import { realCliEnv, writeCliConfigs, type MockApi } from "./harness.js";
import { realCliBin } from "./install-clis.mjs";
import { startMockApi } from "./mock-llm-api.mjs";

const README = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");

/** The fenced block after `<!-- snippet: name -->` in the README. */
export function snippet(name: string): string {
  const re = new RegExp(`<!-- snippet: ${name} -->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``);
  const m = re.exec(README);
  if (!m) throw new Error(`README has no snippet "${name}"`);
  return m[1]!;
}

const SERVER = { command: "npx", args: ["-y", "llm-cli-gateway"] };
let mock: MockApi;
let root: string;
let env: Record<string, string>;

/** A fresh HOME (under ~/.cache: gemini ignores settings below a world-writable /tmp). */
function freshHome(): string {
  const home = mkdtempSync(join(root, "home-"));
  mkdirSync(join(home, "tmp"));
  writeCliConfigs(home, mock.url);
  return home;
}

function clientEnv(home: string): Record<string, string> {
  return {
    ...env,
    ...realCliEnv(home, mock.url),
    PATH: `${join(root, "shim")}:${env.PATH}`,
    GEMINI_CLI_TRUST_WORKSPACE: "true",
  };
}

/** Runs a real client. Never spawnSync: the mock API answers from this very process. */
function run(cli: string, args: string[], home: string, input = "") {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(join(realCliBin(), cli), args, { cwd: home, env: clientEnv(home) });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (out += d.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), 180_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
    child.stdin.end(input);
  });
}

beforeAll(async () => {
  mock = (await startMockApi({ port: 0 })) as unknown as MockApi;
  const lanes = join(homedir(), ".cache", "llm-cli-gateway", "lanes");
  mkdirSync(lanes, { recursive: true, mode: 0o700 });
  root = mkdtempSync(join(lanes, "clients-"));
  mkdirSync(join(root, "shim"));
  writeFileSync(
    join(root, "shim", "npx"),
    `#!/bin/sh\n[ "$1" = "-y" ] && [ "$2" = "llm-cli-gateway" ] && shift 2 && exec "${process.execPath}" "${MAIN}" "$@"\necho "unexpected npx $*" >&2\nexit 99\n`,
  );
  chmodSync(join(root, "shim", "npx"), 0o755);
  env = realCliEnv(root, mock.url);
});
afterAll(async () => {
  await mock.close();
  rmSync(root, { recursive: true, force: true });
});

describe("the README's client snippets, fed to the real clients", () => {
  it("Claude Code: `claude mcp add` as documented, and claude's health check connects", async () => {
    const home = freshHome();
    const [cli, ...args] = snippet("claude-code").trim().split(/\s+/);
    expect(cli).toBe("claude");
    expect((await run("claude", args, home)).code).toBe(0);
    // Claude Desktop's entry, in the same mcpServers format, through claude's add-json.
    const desktop = JSON.parse(snippet("claude-desktop")).mcpServers["llm-cli-gateway"];
    expect(desktop).toEqual(SERVER);
    expect(
      (
        await run(
          "claude",
          ["mcp", "add-json", "-s", "user", "desktop", JSON.stringify(desktop)],
          home,
        )
      ).code,
    ).toBe(0);
    const list = await run("claude", ["mcp", "list"], home);
    expect(list.out).toMatch(/^llm-cli-gateway: npx -y llm-cli-gateway - ✔ Connected$/m);
    expect(list.out).toMatch(/^desktop: npx -y llm-cli-gateway - ✔ Connected$/m);
  });

  it("Codex: config.toml as documented is read with its approval mode and tool timeout", async () => {
    const home = freshHome();
    const config = join(home, ".codex", "config.toml");
    writeFileSync(config, `${readFileSync(config, "utf8")}\n${snippet("codex")}`);
    const list = JSON.parse(
      (await run("codex", ["mcp", "list", "--json"], home)).out.replace(/^[^[]*/, ""),
    );
    expect(list).toEqual([
      expect.objectContaining({
        name: "llm-cli-gateway",
        enabled: true,
        transport: expect.objectContaining({ type: "stdio", ...SERVER }),
        tool_timeout_sec: 600,
      }),
    ]);
    expect((await run("codex", ["mcp", "get", "llm-cli-gateway"], home)).out).toMatch(
      /default_tools_approval_mode: approve/,
    );
  });

  it("Gemini CLI: settings.json as documented, and gemini's check connects", async () => {
    const home = freshHome();
    const settingsPath = join(home, ".gemini", "settings.json");
    const settings = JSON.parse(readFileSync(settingsPath, "utf8"));
    writeFileSync(settingsPath, JSON.stringify({ ...settings, ...JSON.parse(snippet("gemini")) }));
    const list = await run("gemini", ["mcp", "list"], home);
    expect(list.out).toMatch(/✓ llm-cli-gateway: npx -y llm-cli-gateway \(stdio\) - Connected/);
  });

  it("Cursor and VS Code (no client on this machine): the entries have their formats", () => {
    expect(JSON.parse(snippet("cursor")).mcpServers["llm-cli-gateway"]).toEqual(SERVER);
    expect(JSON.parse(snippet("vscode")).servers["llm-cli-gateway"]).toEqual({
      type: "stdio",
      ...SERVER,
    });
  });
});

/** The last tool result a client handed its model, from the mock's log of that client's requests. */
function toolResultHanded(dialect: string): string | undefined {
  let found: string | undefined;
  for (const e of mock.log()) {
    const body = e.body as Record<string, any> | null;
    if (!body || e.dialect !== dialect) continue;
    for (const text of toolResults(dialect, body)) if (text.includes("MOCK-REPLY")) found = text;
  }
  return found;
}

function toolResults(dialect: string, body: Record<string, any>): string[] {
  const out: string[] = [];
  if (dialect === "anthropic") {
    for (const m of body.messages ?? [])
      for (const b of Array.isArray(m.content) ? m.content : [])
        if (b.type === "tool_result")
          out.push(
            typeof b.content === "string"
              ? b.content
              : (b.content ?? []).map((c: { text?: string }) => c.text ?? "").join(""),
          );
  } else if (dialect === "openai") {
    for (const item of body.input ?? [])
      if (item.type === "function_call_output")
        out.push(typeof item.output === "string" ? item.output : JSON.stringify(item.output));
  } else {
    for (const c of body.contents ?? [])
      for (const p of c.parts ?? [])
        if (p.functionResponse) out.push(JSON.stringify(p.functionResponse.response));
  }
  return out;
}

describe("what one gateway answer costs the calling model", () => {
  const ask = `[[mock:tool=claude_request {"prompt":"Say hi","model":"claude-sonnet-4-5"}]]`;
  const figures: Record<string, number> = {};
  afterAll(() => {
    // The figure docs/USAGE.md states (o200k_base tokens of what each client hands its model).
    console.log(
      `tokens handed to the calling model for one claude_request answer: ${JSON.stringify(figures)}`,
    );
  });

  const runs: Record<
    string,
    { dialect: string; run: (home: string) => Promise<{ code: number | null; out: string }> }
  > = {
    claude: {
      dialect: "anthropic",
      run: async (home) => {
        await run("claude", snippet("claude-code").trim().split(/\s+/).slice(1), home);
        return run(
          "claude",
          ["-p", "--model", "claude-sonnet-4-5", "--allowedTools", "mcp__llm-cli-gateway"],
          home,
          `call it ${ask}`,
        );
      },
    },
    codex: {
      dialect: "openai",
      run: (home) => {
        const config = join(home, ".codex", "config.toml");
        // Codex gives servers a minimal environment: the mock's variables pass by env_vars (README).
        const pass = Object.keys(realCliEnv(home, mock.url)).filter(
          (k) => k !== "PATH" && k !== "HOME",
        );
        writeFileSync(
          config,
          `${readFileSync(config, "utf8")}\n${snippet("codex")}env_vars = ${JSON.stringify(pass)}\n`,
        );
        return run(
          "codex",
          ["exec", "--skip-git-repo-check", "-m", "gpt-5.5", `call it ${ask}`],
          home,
        );
      },
    },
    gemini: {
      dialect: "gemini",
      run: (home) => {
        const settingsPath = join(home, ".gemini", "settings.json");
        const settings = JSON.parse(readFileSync(settingsPath, "utf8"));
        const entry = JSON.parse(snippet("gemini"));
        // gemini passes no secret-looking variable (*_KEY) to servers: the entry's env does (README).
        entry.mcpServers["llm-cli-gateway"].env = { ANTHROPIC_API_KEY: "sk-ant-mock" };
        writeFileSync(settingsPath, JSON.stringify({ ...settings, ...entry }));
        return run(
          "gemini",
          [
            "-p",
            `call it ${ask}`,
            "-m",
            "gemini-2.5-pro",
            "--allowed-mcp-server-names",
            "llm-cli-gateway",
            "--approval-mode",
            "yolo",
          ],
          home,
        );
      },
    },
  };

  it.each(Object.keys(runs))("%s hands its model the answer, compact", async (client) => {
    mock.reset();
    const { dialect, run: go } = runs[client]!;
    const r = await go(freshHome());
    const handed = toolResultHanded(dialect);
    expect(handed, r.out).toBeDefined();
    expect(handed).toContain("MOCK-REPLY");
    figures[client] = countTokens(handed!);
    // Nothing empty reaches the model.
    expect(handed).not.toMatch(/:\s*(null|""|\{\}|\[\])/);
  });
});
