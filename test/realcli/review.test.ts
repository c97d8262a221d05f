import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sc, textOf } from "../helpers/gateway.js";
import { makePlantedBugRepo } from "../helpers/planted-bug-repo.js";
import { startRealLane, type RealLane } from "./harness.js";

let lane: RealLane;
let repo: string;

const bug = {
  file: "src/sum.js",
  startLine: 3,
  endLine: 3,
  severity: "high",
  category: "correctness",
  title: "Off-by-one: loop reads past the end of xs",
  explanation:
    "i <= xs.length makes the last iteration add xs[xs.length], which is undefined (NaN).",
  suggestedFix: "Loop while i < xs.length.",
};
const roundOne = JSON.stringify({
  verdict: "changes_requested",
  summary: "One bug.",
  findings: [bug],
});
const roundTwo = (assessment: string, reason: string) =>
  JSON.stringify({
    verdict: assessment === "confirmed" ? "changes_requested" : "approve",
    summary: "Round 2.",
    assessments: [{ id: "F1", assessment, reason }],
  });

beforeAll(async () => {
  lane = await startRealLane();
  repo = join(lane.workdir, "repo");
  makePlantedBugRepo(repo);
  // The mock model answers in the findings schema: claude through its StructuredOutput tool,
  // codex through text.format json_schema, gemini in a fenced block. Round 2: gemini disputes.
  for (const dialect of ["anthropic", "openai"])
    lane.mock.queueFault(`reply=${roundOne}`, { dialect, match: "independent reviewers" });
  lane.mock.queueFault(`reply=\`\`\`json\n${roundOne}\n\`\`\``, {
    dialect: "gemini",
    match: "independent reviewers",
  });
  const confirmed = roundTwo("confirmed", "xs[xs.length] is undefined");
  for (const dialect of ["anthropic", "openai"])
    lane.mock.queueFault(`reply=${confirmed}`, { dialect, match: "Round 2 of the review" });
  lane.mock.queueFault(
    `reply=\`\`\`json\n${roundTwo("disputed", "callers never pass an empty array")}\n\`\`\``,
    { dialect: "gemini", match: "Round 2 of the review" },
  );
});
afterAll(() => lane.close());

describe("review through the real claude, codex and gemini", () => {
  it("names the planted bug once with three reporters; round 2 shows a dispute", async () => {
    const r = await lane.gateway.call("review", {
      cwd: repo,
      base: "HEAD~1",
      head: "HEAD",
      rounds: 2,
      models: { claude: "claude-sonnet-4-5", codex: "gpt-5.5", gemini: "gemini-2.5-pro" },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const result = sc(r);
    expect(result.reviewers.map((x: any) => [x.cli, x.status, x.repaired])).toEqual([
      ["claude", "ok", false],
      ["codex", "ok", false],
      ["gemini", "ok", false],
    ]);
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]).toMatchObject({
      id: "F1",
      file: "src/sum.js",
      startLine: 3,
      title: bug.title,
      reportedBy: ["claude", "codex", "gemini"],
      confirmedBy: ["claude", "codex"],
      disputedBy: ["gemini"],
      standing: true,
    });
    expect(result.verdict).toBe("changes_requested");
    expect(result.rounds).toBe(2);
    expect(textOf(r)).toContain("disputed by gemini: callers never pass an empty array");
    // The diff reached each model, and each round-2 request continued the reviewer's session.
    const main = lane.mock.log().filter((e) => e.kind === "main");
    for (const dialect of ["anthropic", "openai", "gemini"]) {
      const first = main.find(
        (e) => e.dialect === dialect && e.prompt?.includes("independent reviewers"),
      );
      expect(first?.prompt).toContain("i <= xs.length");
      const second = main.find((e) => e.dialect === dialect && e.prompt?.includes("Round 2"));
      expect(second?.userTexts?.some((t) => t.includes("i <= xs.length"))).toBe(true);
    }
    // claude was offered read-only tools only.
    const claude = main.find((e) => e.dialect === "anthropic")!;
    const tools = ((claude.body as { tools?: { name: string }[] }).tools ?? []).map((t) => t.name);
    expect(tools).not.toContain("Bash");
    expect(tools).not.toContain("Write");
    expect(tools).toContain("StructuredOutput");
  });
});
