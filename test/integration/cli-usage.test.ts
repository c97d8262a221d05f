import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MAIN } from "../helpers/gateway.js";

const home = mkdtempSync(join(tmpdir(), "llm-gateway-cli-usage-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const { version } = JSON.parse(
  readFileSync(join(import.meta.dirname, "../../package.json"), "utf8"),
) as {
  version: string;
};

/** The bin, with stdin open (as an MCP client would leave it): a server would never exit. */
function bin(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH, HOME: home, LLM_GATEWAY_HOME: join(home, "gw") },
    input: "",
    timeout: 15_000,
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, timedOut: r.error !== undefined };
}

describe("the command line", () => {
  it.each([["doctr"], ["--verbose"], ["doctor", "--jsn"]])(
    "%s: prints the usage on stderr and exits 2, without starting the server",
    (...args) => {
      const r = bin(...args);
      expect(r).toMatchObject({ code: 2, stdout: "", timedOut: false });
      expect(r.stderr).toMatch(/unknown (command|option|argument)/);
      expect(r.stderr).toMatch(/Usage/);
    },
  );

  it.each([[], ["doctor"], ["logs"]])("--version and --help on %j", (...args) => {
    expect(bin(...args, "--version")).toMatchObject({ code: 0, stdout: `${version}\n` });
    const help = bin(...args, "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage/);
  });

  it("logs on a home where nothing is recorded yet says so and exits 0", () => {
    const r = bin("logs");
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Nothing recorded yet/);
    expect(bin("logs", "--json")).toMatchObject({ code: 0, stdout: "[]\n" });
  });
});
