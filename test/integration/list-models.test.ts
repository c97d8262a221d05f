import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installFakeClis } from "../fakes/install-fakes.mjs";
import { delay, sc, startGateway, type StartedGateway } from "../helpers/gateway.js";

let gw: StartedGateway;
let bin: string;

beforeAll(async () => {
  // Only claude (at an untested version) and codex are installed.
  bin = installFakeClis(["claude", "codex"]);
  gw = await startGateway({
    PATH: `${bin}:${dirname(process.execPath)}`,
    FAKE_CLI_VERSION: "2.1.400",
  });
});
afterAll(async () => {
  await gw.close();
  rmSync(bin, { recursive: true, force: true });
});

describe("list_models says which CLIs are installed, and their versions", () => {
  it("installed at once; version and inTestedRange once --version answered, without waiting", async () => {
    let clis = sc(await gw.call("list_models", {})).clis;
    expect(clis.gemini).toMatchObject({ installed: false });
    expect(clis.gemini.version).toBeUndefined();
    expect(clis.claude.installed).toBe(true);
    // Each CLI's --version is probed on its own: wait for both (under load one answers later).
    for (let i = 0; i < 100 && !(clis.codex.version && clis.claude.version); i++) {
      await delay(100);
      clis = sc(await gw.call("list_models", {})).clis;
    }
    expect(clis.claude).toMatchObject({
      installed: true,
      version: "2.1.400",
      inTestedRange: false,
    });
    expect(clis.codex).toMatchObject({ installed: true, version: "2.1.400", inTestedRange: false });
  });
});

describe("the startup log names a CLI outside its tested range", () => {
  it("one warning per such CLI, with its version and the tested one; none for a missing CLI", async () => {
    const warnings = () =>
      gw
        .stderr()
        .split("\n")
        .filter((l) => l.includes("outside the tested"));
    // The probe starts 2 s after startup; under load its `--version` answers late.
    for (let i = 0; i < 150 && warnings().length < 2; i++) await delay(100);
    expect(warnings()).toHaveLength(2);
    expect(warnings().find((l) => l.includes("claude 2.1.400"))).toMatch(
      /^\[WARN\] .* claude 2\.1\.400 \(.*\/claude\) is outside the tested versions \(\d+\.\d+\.\d+/,
    );
    expect(warnings().some((l) => l.includes("codex 2.1.400"))).toBe(true);
    expect(gw.stderr()).not.toMatch(/gemini .*outside the tested/);
  });
});
