import { describe, expect, it } from "vitest";
import { parseAnswer, reviewAnswer, schemaText } from "../../src/orchestrate/findings.js";
import { checkTarget } from "../../src/orchestrate/git.js";
import {
  applyAssessments,
  mergeFindings,
  overallVerdict,
  stands,
} from "../../src/orchestrate/merge.js";

const f = (over: Record<string, unknown> = {}) =>
  ({
    file: "a.ts",
    startLine: 10,
    endLine: 12,
    severity: "medium",
    category: "correctness",
    title: "Null dereference of user",
    explanation: "x",
    suggestedFix: null,
    ...over,
  }) as never;

describe("parseAnswer", () => {
  const valid = { verdict: "approve", summary: "ok", findings: [] };

  it("reads the whole text, a fenced block, or the outermost braces", () => {
    expect(parseAnswer(reviewAnswer, JSON.stringify(valid)).ok).toBe(true);
    expect(
      parseAnswer(reviewAnswer, `Sure:\n\`\`\`json\n${JSON.stringify(valid)}\n\`\`\``).ok,
    ).toBe(true);
    expect(parseAnswer(reviewAnswer, `Answer: ${JSON.stringify(valid)} done`).ok).toBe(true);
  });

  it("prefers the CLI's structured output", () => {
    expect(parseAnswer(reviewAnswer, "not json", valid)).toEqual({ ok: true, value: valid });
  });

  it("reports what is wrong, never a guess", () => {
    expect(parseAnswer(reviewAnswer, "no json here")).toEqual({
      ok: false,
      error: "the answer contains no JSON object",
    });
    const bad = parseAnswer(
      reviewAnswer,
      JSON.stringify({ ...valid, findings: [f({ endLine: 1 })] }),
    );
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/findings\.0\.endLine: endLine must not be before/);
  });

  it("gives the CLIs a strict-mode schema: every field required, no extra ones", () => {
    const schema = JSON.parse(schemaText(reviewAnswer));
    const item = schema.properties.findings.items;
    expect(item.additionalProperties).toBe(false);
    expect(item.required.sort()).toEqual(Object.keys(item.properties).sort());
    expect(schemaText(reviewAnswer)).not.toMatch(/maxLength|\$schema/);
  });
});

describe("mergeFindings", () => {
  it("merges the same issue on overlapping lines, keeps different issues apart, sorts by severity then agreement", () => {
    const merged = mergeFindings(
      [
        {
          reviewer: "claude",
          findings: [
            f(),
            f({ title: "Missing test for empty list", category: "tests", severity: "low" }),
          ],
        },
        {
          reviewer: "codex",
          findings: [
            f({
              file: "./a.ts",
              startLine: 12,
              endLine: 14,
              title: "user may be null: dereference",
              severity: "high",
            }),
          ],
        },
        {
          reviewer: "gemini",
          findings: [
            f({ file: "b/a.ts", startLine: 30, endLine: 31 }),
            f({ severity: "critical", title: "SQL injection", category: "security" }),
          ],
        },
      ],
      ["a.ts"],
    );
    expect(merged.map((m) => [m.id, m.title, m.severity, m.reportedBy])).toEqual([
      ["F1", "SQL injection", "critical", ["gemini"]],
      ["F2", "Null dereference of user", "high", ["claude", "codex"]],
      ["F3", "Null dereference of user", "medium", ["gemini"]],
      ["F4", "Missing test for empty list", "low", ["claude"]],
    ]);
    expect(merged[1]).toMatchObject({ startLine: 10, endLine: 14 });
  });

  it("a finding most reviewers dispute no longer requests changes", () => {
    const [m] = mergeFindings([{ reviewer: "claude", findings: [f()] }]);
    expect(overallVerdict([m!])).toBe("changes_requested");
    for (const reviewer of ["codex", "gemini"] as const)
      applyAssessments([m!], reviewer, {
        verdict: "approve",
        summary: "",
        assessments: [{ id: "F1", assessment: "disputed", reason: "not reachable" }],
      });
    expect(m!.disputedBy).toEqual(["codex", "gemini"]);
    expect(stands(m!)).toBe(false);
    expect(overallVerdict([m!])).toBe("approve");
  });
});

describe("checkTarget", () => {
  it("refuses options, ranges and contradictory targets", () => {
    expect(() => checkTarget({ base: "--output=x" })).toThrow(/base must be a git ref/);
    expect(() => checkTarget({ base: "main..HEAD" })).toThrow(/base must be a git ref/);
    expect(() => checkTarget({ head: "HEAD" })).toThrow(/head needs base/);
    expect(() => checkTarget({ base: "HEAD~1", files: ["a"] })).toThrow(/not both/);
    expect(() => checkTarget({ base: "origin/main", head: "HEAD~2" })).not.toThrow();
  });
});
