import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runDoctorCommand } from "../../src/cli/doctor.js";
import type { DoctorReport } from "../../src/cli/doctor-checks.js";
import { installFakeClis } from "../fakes/install-fakes.mjs";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const temp = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
const NODE_DIR = dirname(process.execPath);

/** doctor in a throw-away HOME, with only the given fake CLIs (and node) on PATH. */
async function doctor(clis: string[], env: Record<string, string> = {}, json = true) {
  const bin = installFakeClis(clis);
  dirs.push(bin);
  const home = env.HOME ?? temp("llm-gateway-doctor-");
  let out = "";
  const code = await runDoctorCommand(
    { json },
    { PATH: `${bin}:${NODE_DIR}`, HOME: home, ...env },
    { stdout: (t) => void (out += t) },
  );
  return { code, out, home, report: json ? (JSON.parse(out) as DoctorReport) : undefined };
}
const cli = (r: DoctorReport, name: string) => r.clis.find((c) => c.name === name)!;

describe("llm-cli-gateway doctor", () => {
  it("a missing CLI: not found, the PATH searched, the install command; exit 1 when none is usable", async () => {
    const { code, report } = await doctor([]);
    expect(code).toBe(1);
    expect(report!.ok).toBe(false);
    const codex = cli(report!, "codex");
    expect(codex.installed).toBe(false);
    expect(codex.searched).toEqual(expect.arrayContaining([NODE_DIR]));
    expect(codex.problems[0]!.fix).toMatch(/npm install -g @openai\/codex/);
  });

  it("one usable CLI is enough for exit 0; its version is checked against the tested range", async () => {
    const { code, report } = await doctor(["claude"], { ANTHROPIC_API_KEY: "sk-ant-secret-value" });
    expect(code).toBe(0);
    expect(report!.usableClis).toEqual(["claude"]);
    expect(cli(report!, "claude")).toMatchObject({
      installed: true,
      version: "2.1.331",
      inTestedRange: true,
      signIn: { signedIn: true, how: "ANTHROPIC_API_KEY is set" },
      problems: [],
    });
  });

  it("a wrong version: outside the tested range, with the tested version to install", async () => {
    const { report } = await doctor(["codex"], { FAKE_CLI_VERSION: "0.99.1", CODEX_API_KEY: "x" });
    const codex = cli(report!, "codex");
    expect(codex).toMatchObject({ version: "0.99.1", inTestedRange: false, usable: true });
    expect(codex.problems[0]!.problem).toMatch(
      /0\.99\.1 is not a version the gateway was tested with \(0\.169\.0\)/,
    );
    expect(codex.problems[0]!.fix).toMatch(/@openai\/codex@0\.169\.0/);
  });

  it("a --version that fails is reported, not taken for a version", async () => {
    const { report } = await doctor(["gemini"], {
      FAKE_CLI_VERSION: "broken",
      GEMINI_API_KEY: "x",
    });
    expect(cli(report!, "gemini")).toMatchObject({
      installed: true,
      versionError: expect.stringMatching(/exit 3/),
    });
  });

  it("signed out: told by the CLI's own status command or the credential files, with the fix", async () => {
    const { code, report } = await doctor(["claude", "codex", "gemini"]);
    expect(code).toBe(1);
    expect(cli(report!, "claude").signIn).toEqual({
      signedIn: false,
      how: "`claude auth status` says signed out",
    });
    expect(cli(report!, "codex").signIn).toEqual({
      signedIn: false,
      how: "`codex login status` says signed out",
    });
    expect(cli(report!, "gemini").signIn!.signedIn).toBe(false);
    expect(cli(report!, "gemini").problems[0]!.fix).toMatch(/GEMINI_API_KEY/);
    expect(report!.clis.every((c) => !c.usable)).toBe(true);
  });

  it("signed in by files: the file is named, no secret is printed", async () => {
    const home = temp("llm-gateway-doctor-");
    for (const f of [".claude/.credentials.json", ".codex/auth.json", ".gemini/oauth_creds.json"]) {
      mkdirSync(dirname(join(home, f)), { recursive: true });
      writeFileSync(join(home, f), '{"token":"very-secret-token"}');
    }
    const { code, out, report } = await doctor(["claude", "codex", "gemini"], {
      HOME: home,
      OPENAI_API_KEY: "sk-proj-never-shown",
    });
    expect(code).toBe(0);
    expect(report!.usableClis).toEqual(["claude", "codex", "gemini"]);
    expect(cli(report!, "gemini").signIn!.how).toBe(
      `${join(home, ".gemini/oauth_creds.json")} exists`,
    );
    expect(out).not.toMatch(/very-secret-token|sk-proj-never-shown/);
  });

  it("an unwritable gateway home, a damaged database and a broken MCP config each come with a fix", async () => {
    const root = temp("llm-gateway-doctor-");
    writeFileSync(join(root, "a-file"), "");
    const blocked = await doctor(["claude"], { LLM_GATEWAY_HOME: join(root, "a-file", "home") });
    const home = blocked.report!.checks.find((c) => c.name === "home")!;
    expect(home).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/not writable \(ENOTDIR\)/),
    });
    expect(home.problems[0]!.fix).toMatch(/LLM_GATEWAY_HOME/);

    const gwHome = join(root, "gw");
    mkdirSync(gwHome);
    writeFileSync(join(gwHome, "gateway.db"), "this is not a database, just text ".repeat(200));
    writeFileSync(join(gwHome, "mcp-servers.json"), "{ not json");
    const broken = await doctor(["claude"], { LLM_GATEWAY_HOME: gwHome });
    const check = (name: string) => broken.report!.checks.find((c) => c.name === name)!;
    expect(check("home").ok).toBe(true);
    expect(check("gateway.db")).toMatchObject({ ok: false });
    expect(check("gateway.db").problems[0]!.fix).toMatch(/move .*gateway\.db aside/);
    expect(check("logs.db")).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/not created yet/),
    });
    const mcpConfig = join(gwHome, "mcp-servers.json");
    expect(check("mcp-config")).toMatchObject({
      ok: false,
      detail: expect.stringMatching(
        new RegExp(`^${mcpConfig} is not valid JSON at line 1, column 3: `),
      ),
    });
    expect(check("mcp-config").problems[0]!.fix).toBe(
      `fix the JSON in ${mcpConfig} ({"mcpServers": {"<name>": {"command": "...", "args": ["..."], "env": {"KEY": "value"}}}})`,
    );
  });

  it("an MCP config with invalid entries: each one by name with what is wrong, the valid ones listed", async () => {
    const gwHome = temp("llm-gateway-doctor-");
    const mcpConfig = join(gwHome, "mcp-servers.json");
    writeFileSync(
      mcpConfig,
      JSON.stringify({
        mcpServers: {
          mini: { command: "node", args: ["mini.mjs"] },
          nocommand: { args: ["x"] },
          badenv: { command: "x", env: { PORT: 8080 } },
        },
      }),
    );
    const { report, out } = await doctor(["claude"], { LLM_GATEWAY_HOME: gwHome });
    const check = report!.checks.find((c) => c.name === "mcp-config")!;
    expect(check).toEqual({
      name: "mcp-config",
      ok: false,
      detail: `${mcpConfig}: 1 server(s): mini; 2 invalid, left out: "nocommand" (command is missing (the program that starts the server; only stdio servers are supported)); "badenv" (env.PORT must be a string, not a number)`,
      problems: [
        {
          problem: `entry "nocommand" in ${mcpConfig}: command is missing (the program that starts the server; only stdio servers are supported)`,
          fix: 'entry "nocommand": command is missing (the program that starts the server; only stdio servers are supported); write it as {"command": "...", "args": ["..."], "env": {"KEY": "value"}} or remove it',
        },
        {
          problem: `entry "badenv" in ${mcpConfig}: env.PORT must be a string, not a number`,
          fix: 'entry "badenv": env.PORT must be a string, not a number; write it as {"command": "...", "args": ["..."], "env": {"KEY": "value"}} or remove it',
        },
      ],
    });
    expect(out).not.toContain("8080");
  });

  it("a bad environment variable is a problem, not a crash", async () => {
    const { report } = await doctor(["claude"], { LLM_GATEWAY_MAX_QUEUE: "lots" });
    expect(report!.checks[0]).toMatchObject({
      name: "environment",
      ok: false,
      detail: expect.stringMatching(/LLM_GATEWAY_MAX_QUEUE/),
    });
  });

  it("prints a readable report: every problem followed by its fix", async () => {
    const { out } = await doctor(["claude"], {}, false);
    expect(out).toMatch(/^FAIL claude 2\.1\.331 \(tested\) at .*not signed in/m);
    expect(out).toMatch(/^ {5}fix: run `claude` once/m);
    expect(out).toMatch(/^FAIL codex: not found \(searched /m);
    expect(out).toMatch(/No CLI is usable/);
  });
});
