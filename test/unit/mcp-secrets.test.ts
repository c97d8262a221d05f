import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { redactValues } from "../../src/mcp-servers.js";
import { secretValues } from "../../src/providers/mcp-secrets.js";
import { claudeProvider } from "../../src/providers/claude.js";
import { codexProvider } from "../../src/providers/codex.js";
import { geminiProvider } from "../../src/providers/gemini.js";
import type { InvocationRequest, McpPlan } from "../../src/providers/types.js";
import { rootOwnedScratchDir, rootOwnershipProblem } from "../../src/root-owned.js";

const SECRET = "sk-test-0123456789abcdef";
const plan = (env: Record<string, string>, more: McpPlan["servers"] = {}): McpPlan => ({
  servers: { mini: { command: "/usr/bin/node", args: ["/opt/mini.mjs"], env }, ...more },
  callable: ["mini"],
  strict: true,
});
const request = (mcp: McpPlan, env: NodeJS.ProcessEnv = {}): InvocationRequest<never> => ({
  prompt: "p",
  session: { mode: "new" },
  options: {} as never,
  mcp,
  scratchDir: "/scratch/run-1",
  env,
});

describe("an MCP server's env never goes on the CLI's argv", () => {
  it("claude: --mcp-config names a file in the scratch dir that holds the servers", () => {
    const inv = claudeProvider.buildInvocation(request(plan({ TOKEN: SECRET })));
    expect(inv.args.join(" ")).not.toContain(SECRET);
    expect(inv.args).toEqual(
      expect.arrayContaining([
        "--mcp-config",
        "/scratch/run-1/claude-mcp.json",
        "--strict-mcp-config",
      ]),
    );
    expect(JSON.parse(inv.files!["claude-mcp.json"]!).mcpServers.mini.env).toEqual({
      TOKEN: SECRET,
    });
    expect(inv.secrets).toEqual([SECRET]);
  });

  it("codex: the names go in env_vars, the values in codex's own environment", () => {
    const inv = codexProvider.buildInvocation(request(plan({ TOKEN: SECRET })));
    expect(inv.args.join(" ")).not.toContain(SECRET);
    expect(inv.args).toContain('mcp_servers.mini.env_vars=["TOKEN"]');
    expect(inv.env).toEqual({ TOKEN: SECRET });
    // ...and blanked for the commands the agent runs, before the stdin marker.
    expect(inv.args.slice(-3)).toEqual(["-c", 'shell_environment_policy.set.TOKEN=""', "-"]);
    expect(inv.secrets).toEqual([SECRET]);
  });

  it("codex: one name with two values (two servers, or the gateway's own env) is refused", () => {
    const two = plan(
      { TOKEN: SECRET },
      { other: { command: "x", env: { TOKEN: "sk-other-value" } } },
    );
    expect(() => codexProvider.buildInvocation(request(two))).toThrow(
      /MCP server "other" sets TOKEN, which server "mini" sets to another value/,
    );
    expect(() =>
      codexProvider.buildInvocation(request(plan({ TOKEN: SECRET }), { TOKEN: "mine" })),
    ).toThrow(/sets TOKEN, which the gateway's environment already sets/);
    expect(() => codexProvider.buildInvocation(request(plan({ "A=B": "x" })))).toThrow(
      /invalid variable name "A=B"/,
    );
    // The same value is no conflict, and the agent's commands keep the variable they had.
    const same = codexProvider.buildInvocation(request(plan({ TOKEN: SECRET }), { TOKEN: SECRET }));
    expect(same.env).toEqual({ TOKEN: SECRET });
    expect(same.args.join(" ")).not.toContain("shell_environment_policy");
  });

  it("gemini: the servers go in its settings file, which must sit where root alone writes", () => {
    const inv = geminiProvider.buildInvocation(request(plan({ TOKEN: SECRET })));
    expect(inv.args.join(" ")).not.toContain(SECRET);
    expect(inv.env).toEqual({
      GEMINI_CLI_SYSTEM_SETTINGS_PATH: "/scratch/run-1/gemini-settings.json",
    });
    expect(geminiProvider.needsRootOwnedFiles?.(plan({}))).toBe(true);
    expect(geminiProvider.needsRootOwnedFiles?.(undefined)).toBe(false);
  });
});

describe("redaction of the servers' env values", () => {
  it("hides each value, raw or JSON-escaped, and skips values too short to be secrets", () => {
    const values = secretValues(plan({ TOKEN: SECRET, QUOTED: 'pa"ss', DEBUG: "1" }).servers);
    expect(values).toEqual([SECRET, 'pa"ss']);
    const line = JSON.stringify(["--x", `${SECRET}`, 'pa"ss', "1"]);
    expect(redactValues(line, values)).toBe('["--x","[REDACTED]","[REDACTED]","1"]');
  });
});

describe("where gemini reads a settings file (its isFileAndDirectorySecureSync)", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("not under a directory others can write, such as /tmp, even in a 0700 dir", () => {
    const dir = mkdtempSync("/tmp/root-owned-");
    dirs.push(dir);
    expect(rootOwnershipProblem(join(dir, "run"), 0)).toMatch(
      /^\/tmp is writable by group or others \(mode 1777\)$/,
    );
  });

  it("nowhere when the gateway is not root: gemini wants root's files", () => {
    expect(rootOwnershipProblem("/", 1000)).toMatch(/runs as uid 1000/);
    expect(() => rootOwnedScratchDir(["/a", "/b"], 1000)).toThrow(
      /^mcpServers: gemini reads per-request MCP servers only from a system settings file.*\(\/a: the gateway runs as uid 1000/,
    );
  });

  // The gateway must be able to create the directory there: only root can, under /.
  it.runIf(process.geteuid?.() === 0)(
    "in a place root owns all the way up: the first such root gets a fresh directory",
    () => {
      expect(rootOwnershipProblem("/no-such-dir/run", 0)).toBeUndefined();
      const dir = mkdtempSync("/tmp/root-owned-");
      dirs.push(dir);
      const chosen = rootOwnedScratchDir([join(dir, "run"), "/no-such-dir/run"], 0);
      expect(chosen).toMatch(/^\/no-such-dir\/run\/[0-9a-f-]{36}$/);
      expect(() => rootOwnedScratchDir([join(dir, "run")], 0)).toThrow(/\/tmp is writable/);
    },
  );
});
