import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { rootOwnedScratchDir, rootOwnershipProblem } from "../../src/root-owned.js";
import { realCliBin } from "./install-clis.mjs";

const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Whether the real gemini loads a system settings file written (0700 dir, 0600 file) in `dir`. */
function geminiReads(dir: string): { loaded: boolean; output: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  made.push(dir);
  const file = join(dir, "gemini-settings.json");
  writeFileSync(file, JSON.stringify({ mcpServers: { probe: { command: "true" } } }), {
    mode: 0o600,
  });
  const home = mkdtempSync(join(tmpdir(), "gemini-settings-home-"));
  made.push(home);
  const run = spawnSync(join(realCliBin(), "gemini"), ["mcp", "list"], {
    env: {
      PATH: `${realCliBin()}:${dirname(process.execPath)}:/usr/bin:/bin`,
      HOME: home,
      GEMINI_CLI_NO_RELAUNCH: "true",
      GEMINI_CLI_SYSTEM_SETTINGS_PATH: file,
    },
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
    timeout: 60_000,
  });
  const output = run.stdout + run.stderr;
  return { loaded: /probe: true/.test(output), output };
}

// src/root-owned.ts predicts where the pinned gemini reads its system settings file: the
// prediction and the real gemini must agree, or per-request MCP servers silently vanish.
describe("real gemini reads a system settings file where src/root-owned.ts says it does", () => {
  it("not in a 0700 directory under /tmp: gemini skips it with a security warning", () => {
    const dir = join(mkdtempSync(join("/tmp", "gemini-settings-")), "run");
    made.push(dirname(dir));
    expect(rootOwnershipProblem(dir)).toMatch(/\/tmp is writable by group or others/);
    const { loaded, output } = geminiReads(dir);
    expect(loaded, output).toBe(false);
    expect(output).toMatch(
      /Skipping system settings file .*'\/tmp' is writable by group or others/,
    );
  });

  it.runIf(process.geteuid?.() === 0)(
    "in a place root owns all the way up (a private dir, and /run/llm-cli-gateway), it does",
    () => {
      const root = join(homedir(), ".cache", "llm-cli-gateway", "lanes");
      mkdirSync(root, { recursive: true, mode: 0o700 });
      const lanes = mkdtempSync(join(root, "gemini-settings-"));
      made.push(lanes);
      for (const dir of [
        rootOwnedScratchDir([join(lanes, "run")]),
        rootOwnedScratchDir(["/run/llm-cli-gateway"]),
      ]) {
        const { loaded, output } = geminiReads(dir);
        expect(loaded, output).toBe(true);
      }
    },
  );
});
