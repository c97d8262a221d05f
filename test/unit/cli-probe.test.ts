import { describe, expect, it } from "vitest";
import { compareVersions, inTestedRange, parseVersion } from "../../src/process/cli-probe.js";
import { PROVIDERS } from "../../src/providers/index.js";
import { EXTRA_VERSIONS, VERSIONS } from "../realcli/install-clis.mjs";

describe("CLI versions", () => {
  it("reads the version out of each CLI's --version line", () => {
    expect(parseVersion("2.1.331 (Claude Code)")).toBe("2.1.331");
    expect(parseVersion("codex-cli 0.169.0")).toBe("0.169.0");
    expect(parseVersion("0.61.0-nightly.20261201\n")).toBe("0.61.0-nightly.20261201");
    expect(parseVersion("command not found")).toBeUndefined();
  });

  it("compares numerically, a pre-release before its release", () => {
    expect(compareVersions("0.10.0", "0.9.9")).toBe(1);
    expect(compareVersions("2.1.331", "2.1.331")).toBe(0);
    expect(compareVersions("0.61.0-preview.1", "0.61.0")).toBe(-1);
  });

  it("the tested range of each provider holds the versions the real-CLI lane pins", () => {
    for (const [name, provider] of Object.entries(PROVIDERS)) {
      const pinned = { ...VERSIONS, ...EXTRA_VERSIONS };
      expect(inTestedRange(provider, pinned[name as keyof typeof pinned]), name).toBe(true);
      expect(inTestedRange(provider, "999.0.0"), name).toBe(false);
    }
  });
});
