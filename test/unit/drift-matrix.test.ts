import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CHECKS, DRIFT_FILES, cliOf, formatMatrix } from "../realcli/drift-matrix.mjs";

/** A vitest JSON report with one file holding these tests. */
const report = (tests: { path: string[]; status: string; message?: string }[]) => ({
  testResults: [
    {
      assertionResults: tests.map((t) => ({
        ancestorTitles: t.path.slice(0, -1),
        title: t.path.at(-1),
        status: t.status,
        failureMessages: t.message ? [t.message] : [],
      })),
    },
  ],
});

describe("the drift lane's matrix", () => {
  it("every check is proved by a test title in the files the drift lane runs", () => {
    const source = DRIFT_FILES.map((f) => readFileSync(f, "utf8")).join("\n");
    for (const [check, re] of CHECKS) expect(re.test(source), check).toBe(true);
  });

  it("attributes a test to the one CLI its title names, none when it names several", () => {
    const clis = ["claude", "codex", "gemini"];
    expect(cliOf("real codex through the gateway sends the model flag", clis)).toBe("codex");
    expect(cliOf("review through the real claude, codex and gemini", clis)).toBeUndefined();
    expect(cliOf("an agent that already acted", clis)).toBeUndefined();
  });

  it("a cell passes only when every test of its check passed; failures are listed", () => {
    const r = report([
      {
        path: ["real claude through the gateway", "sends the model flag to the API"],
        status: "passed",
      },
      {
        path: ["real claude through the gateway", "delivers tricky prompts byte-exact"],
        status: "passed",
      },
      {
        path: ["real claude through the gateway", "delivers a 100,000-character CJK prompt"],
        status: "failed",
        message: "AssertionError: expected 'x' to be 'y'\n  at …",
      },
      {
        path: ["real codex through the gateway", "sends the model flag to the API"],
        status: "skipped",
      },
    ]);
    const { table, failures } = formatMatrix([
      { label: "newest", versions: { claude: "9.9.9", codex: "1.0.0" }, report: r },
      { label: "pinned", versions: { claude: "9.9.8", codex: "0.9.0" } },
    ]);
    const rows = table.split("\n");
    const col = (row: string, check: string) =>
      row.split("|").map((c) => c.trim())[4 + CHECKS.findIndex(([c]) => c === check)];
    const claude = rows.find((l) => l.startsWith("| claude | 9.9.9 | newest"))!;
    expect(col(claude, "model flag")).toBe("pass");
    expect(col(claude, "byte-exact prompt")).toBe("FAIL 1/2");
    expect(col(claude, "reply")).toBe("—");
    const codex = rows.find((l) => l.startsWith("| codex | 1.0.0 | newest"))!;
    expect(col(codex, "model flag")).toBe("skip");
    expect(rows.find((l) => l.startsWith("| codex | 0.9.0 | pinned"))).toContain("no results");
    expect(failures).toEqual([
      "newest claude 9.9.9: real claude through the gateway delivers a 100,000-character CJK prompt\n" +
        "    AssertionError: expected 'x' to be 'y'",
    ]);
  });
});
