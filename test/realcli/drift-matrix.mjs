// The drift lane's matrix: which real-CLI tests stand for which check, and the table
// CLI × version × check → pass/fail built from vitest JSON reports (the pinned and the newest run).
// A new CLI joins by its name appearing in its tests' titles ("real <cli> …"), nothing here.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

/** The real-CLI files the drift lane runs: together they cover every check below. */
export const DRIFT_FILES = [
  "test/realcli/requests.test.ts",
  "test/realcli/sessions.test.ts",
  "test/realcli/approvals.test.ts",
  "test/realcli/qwen.test.ts",
  "test/realcli/opencode.test.ts",
];

/** Check → the test titles (full name: describe blocks and test) that prove it. */
export const CHECKS = [
  ["reply", /returns the mock's reply|^qwen through agent_request answers|^real opencode answers/],
  ["session id", /with a session id|through the sessionId a request returns|with its session id/],
  ["resume continuity", /sessions resume with their history|resumes (its|that) session/],
  [
    "model flag",
    /sends the model flag|without a model|passes the model flag|uses the model it is given/,
  ],
  ["byte-exact prompt", /byte-exact|100,000-character/],
  [
    "faults",
    /persistent HTTP 500|persistent 429|hung API|under faults|dropped connection|types a failed model call/,
  ],
  [
    "MCP server",
    /approved request lets the CLI call|server's env reaches the server|own commands do not see|per-request MCP server/,
  ],
  [
    "approvals",
    /an unapproved request does not|strict denies a bypass|approval_list shows|without approval qwen declines|denies commands unless granted/,
  ],
];

/** The vitest JSON reporter's tests as { name, status, message }. */
export function testsOf(report) {
  return report.testResults.flatMap((file) =>
    file.assertionResults.map((t) => ({
      name: [...t.ancestorTitles, t.title].join(" "),
      status: t.status,
      message: (t.failureMessages ?? []).join("\n"),
    })),
  );
}

/** The one CLI a test is about, or none when it names no CLI or several. */
export function cliOf(name, clis) {
  const named = clis.filter((cli) => new RegExp(`\\b${cli}\\b`).test(name));
  return named.length === 1 ? named[0] : undefined;
}

/** "pass", "FAIL n/m", "skip" or "—" (no test for it) for one CLI and one check. */
function cell(tests) {
  const ran = tests.filter((t) => t.status === "passed" || t.status === "failed");
  if (tests.length === 0) return "—";
  if (ran.length === 0) return "skip";
  const failed = ran.filter((t) => t.status === "failed").length;
  return failed === 0 ? "pass" : `FAIL ${failed}/${ran.length}`;
}

/**
 * runs: [{ label, versions: { cli: version }, report }] → the markdown table, and the failed
 * tests (with their first message line) under it.
 */
export function formatMatrix(runs) {
  const lines = [
    `| CLI | version | run | ${CHECKS.map(([c]) => c).join(" | ")} |`,
    `|${" --- |".repeat(CHECKS.length + 3)}`,
  ];
  const failures = [];
  for (const { label, versions, report } of runs) {
    const clis = Object.keys(versions);
    const tests = report ? testsOf(report) : [];
    for (const cli of clis) {
      const mine = tests.filter((t) => cliOf(t.name, clis) === cli);
      const cells = report
        ? CHECKS.map(([, re]) => cell(mine.filter((t) => re.test(t.name))))
        : CHECKS.map(() => "no results");
      lines.push(`| ${cli} | ${versions[cli]} | ${label} | ${cells.join(" | ")} |`);
      for (const t of mine.filter((x) => x.status === "failed"))
        failures.push(`${label} ${cli} ${versions[cli]}: ${t.name}\n    ${firstLine(t.message)}`);
    }
  }
  return { table: lines.join("\n"), failures };
}

const firstLine = (text) => text.split("\n").find((l) => l.trim()) ?? "(no message)";

// node test/realcli/drift-matrix.mjs <label>=<vitest.json>=<cli>@<version>,… …
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const runs = process.argv.slice(2).map((arg) => {
    const [label, file, spec] = arg.split("=");
    const versions = Object.fromEntries(spec.split(",").map((s) => s.split("@")));
    let report;
    try {
      report = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      report = undefined;
    }
    return { label, versions, report };
  });
  const { table, failures } = formatMatrix(runs);
  console.log(table);
  if (failures.length) console.log(`\nfailed:\n${failures.join("\n")}`);
}
