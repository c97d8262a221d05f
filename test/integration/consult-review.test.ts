import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makePlantedBugRepo } from "../helpers/planted-bug-repo.js";
import { startFakeLane, type FakeLane } from "../helpers/fake-lane.js";
import {
  delay,
  MAIN,
  sc,
  survivors,
  textOf,
  waitForJob,
  type StartedGateway,
  testDatabaseFor,
} from "../helpers/gateway.js";

let lane: FakeLane;
let gw: StartedGateway;
let repo: string;
let script: string;
let scriptDir: string;

interface Rule {
  cli?: string;
  match?: string;
  directives: Record<string, string>;
}
const setScript = (rules: Rule[]) => writeFileSync(script, JSON.stringify(rules));

const finding = (over: Record<string, unknown> = {}) => ({
  file: "src/sum.js",
  startLine: 3,
  endLine: 3,
  severity: "high",
  category: "correctness",
  title: "Off-by-one in loop bound",
  explanation: "i <= xs.length reads past the end of the array.",
  suggestedFix: "Use i < xs.length.",
  ...over,
});
const answer = (findings: unknown[], verdict = "changes_requested") =>
  JSON.stringify({ verdict, summary: "looked at it", findings });
const fenced = (json: string) => `Here is my review:\n\`\`\`json\n${json}\n\`\`\``;

beforeAll(async () => {
  scriptDir = mkdtempSync(join(tmpdir(), "llm-gateway-script-"));
  script = join(scriptDir, "script.json");
  // No retries: a timed-out CLI fails at once.
  lane = await startFakeLane({ LLM_GATEWAY_RETRY_MAX_ATTEMPTS: "1", FAKE_CLI_SCRIPT: script });
  gw = lane.gw;
  repo = join(lane.dir, "repo");
  makePlantedBugRepo(repo);
});
afterAll(async () => {
  await lane.close();
  rmSync(scriptDir, { recursive: true, force: true });
});
beforeEach(() => {
  lane.reset();
  setScript([]);
});

describe("consult", () => {
  it("runs three 1 s CLIs concurrently and returns each answer with model, time, tokens and cost", async () => {
    const r = await gw.call("consult", { prompt: "what is 2+2 [[fake:sleep=1000]]" });
    expect(r.isError, textOf(r)).toBeFalsy();
    const result = sc(r);
    expect(result.answered).toEqual(["claude", "codex", "gemini"]);
    for (const a of result.answers) {
      expect(a.ok).toBe(true);
      expect(a.text).toMatch(/^FAKE-REPLY: what is 2\+2/);
      expect(a.durationMs).toBeGreaterThanOrEqual(1000);
      expect(a.usage.inputTokens).toBeGreaterThan(0);
    }
    expect(result.answers[0].model).toBe("claude-opus-5-5");
    expect(result.answers[0].costUsd).toBeGreaterThan(0); // claude reports its cost
    // The three jobs ran at the same time (how long consult takes is a bench row: bench/lib/consult.mjs).
    const rows = await Promise.all(
      result.answers.map(async (a: any) => sc(await gw.call("llm_job_status", { jobId: a.jobId }))),
    );
    const lastStart = Math.max(...rows.map((s) => Date.parse(s.startedAt)));
    const firstEnd = Math.min(...rows.map((s) => Date.parse(s.endedAt)));
    expect(lastStart).toBeLessThan(firstEnd);
    expect(textOf(r)).toMatch(/^3 of 3 CLIs answered/);
  });

  it("a CLI that times out does not fail the others; the result says which answered", async () => {
    setScript([{ cli: "codex", directives: { sleep: "8000" } }]);
    const r = await gw.call("consult", { prompt: "partial", timeoutMs: 1500 });
    const result = sc(r);
    expect(r.isError).toBeFalsy();
    expect(result.answered).toEqual(["claude", "gemini"]);
    expect(result.failed).toEqual(["codex"]);
    const codex = result.answers.find((a: any) => a.cli === "codex");
    expect(codex.error).toEqual({ category: "timeout", message: "Process timed out after 1500ms" });
  });

  it("links every call in the flight recorder: logs show <consultationId> prints them all", async () => {
    const result = sc(await gw.call("consult", { prompt: "recorded", clis: ["claude", "gemini"] }));
    await delay(200);
    const out = execFileSync(
      process.execPath,
      [MAIN, "logs", "show", result.consultationId, "--json"],
      {
        env: {
          ...process.env,
          HOME: gw.home,
          LLM_GATEWAY_HOME: join(gw.home, ".llm-cli-gateway"),
          // The PostgreSQL pass: the record is in this home's database, not logs.db.
          ...(await testDatabaseFor(gw.home)),
        },
      },
    ).toString();
    const rows = JSON.parse(out) as Record<string, unknown>[];
    expect(rows.map((row) => row.cli).sort()).toEqual(["claude", "gemini"]);
    expect(rows.every((row) => row.consultation_id === result.consultationId)).toBe(true);
  });

  it("async: returns a job id; llm_job_status lists its CLI jobs and llm_job_result its result", async () => {
    const started = sc(await gw.call("consult", { prompt: "in the background", async: true }));
    expect(started.status).toBe("running");
    const status = await waitForJob(gw, started.jobId);
    expect(status.status).toBe("completed");
    expect(status.cli).toBe("consult");
    expect(status.children.map((c: any) => c.cli).sort()).toEqual(["claude", "codex", "gemini"]);
    const result = sc(await gw.call("llm_job_result", { jobId: started.jobId })).result;
    expect(result.answered).toHaveLength(3);
  });

  it("refuses bad input before any CLI starts", async () => {
    expect(textOf(await gw.call("consult", { prompt: "x", clis: [] }))).toMatch(
      /invalid_input.*clis/,
    );
    expect(textOf(await gw.call("consult", { prompt: "x", cwd: "relative" }))).toMatch(
      /\[invalid_input\] cwd must be an absolute path/,
    );
    expect(textOf(await gw.call("consult", { prompt: "x", approvalPolicy: "strict" }))).toMatch(
      /^\[invalid_input\] approvalPolicy applies only with approvalStrategy "mcp_managed"/,
    );
    expect(lane.invocations()).toEqual([]);
  });
});

describe("review", () => {
  const base = () => ({ cwd: repo, base: "HEAD~1", head: "HEAD" });

  it("merges the same issue from three reviewers into one finding, sorted by severity", async () => {
    setScript([
      { cli: "claude", directives: { reply: answer([finding()]) } },
      {
        cli: "codex",
        directives: {
          reply: answer([finding({ title: "Loop bound off by one", startLine: 2, endLine: 3 })]),
        },
      },
      {
        cli: "gemini",
        directives: {
          reply: fenced(
            answer([
              finding({ file: "b/src/sum.js", severity: "critical" }),
              finding({
                severity: "low",
                category: "style",
                title: "Use reduce",
                startLine: 1,
                endLine: 5,
              }),
            ]),
          ),
        },
      },
    ]);
    const r = await gw.call("review", base());
    expect(r.isError, textOf(r)).toBeFalsy();
    const result = sc(r);
    expect(result.findings).toHaveLength(2);
    expect(result.findings[0]).toMatchObject({
      id: "F1",
      file: "src/sum.js",
      severity: "critical",
      startLine: 2,
      endLine: 3,
      reportedBy: ["claude", "codex", "gemini"],
    });
    expect(result.findings[1]).toMatchObject({
      id: "F2",
      title: "Use reduce",
      reportedBy: ["gemini"],
    });
    expect(result.verdict).toBe("changes_requested");
    expect(result.counts).toEqual({ critical: 1, high: 0, medium: 0, low: 1, info: 0 });
    expect(result.reviewers.map((x: any) => [x.cli, x.status, x.verdict])).toEqual([
      ["claude", "ok", "changes_requested"],
      ["codex", "ok", "changes_requested"],
      ["gemini", "ok", "changes_requested"],
    ]);
    // The diff reached every reviewer.
    for (const inv of lane.invocations()) expect(inv.stdin).toContain("i <= xs.length");
  });

  it("runs every reviewer read-only (argv)", async () => {
    setScript([{ directives: { reply: fenced(answer([], "approve")) } }]);
    const r = await gw.call("review", { ...base(), focus: "security" });
    expect(sc(r).verdict).toBe("approve");
    const argvOf = (cli: string) => lane.invocations().find((i) => i.cli === cli)!.argv;
    const argv = { claude: argvOf("claude"), codex: argvOf("codex"), gemini: argvOf("gemini") };
    expect(argv.claude).toEqual(
      expect.arrayContaining(["--tools", "Read,Grep,Glob", "--json-schema"]),
    );
    expect(argv.claude.slice(argv.claude.indexOf("--disallowedTools"))).toEqual(
      expect.arrayContaining(["Bash", "Edit", "Write"]),
    );
    expect(argv.claude).not.toContain("--dangerously-skip-permissions");
    expect(argv.codex.join(" ")).toContain("-s read-only");
    expect(argv.codex).toContain("--output-schema");
    expect(argv.codex).not.toContain("--dangerously-bypass-approvals-and-sandbox");
    expect(argv.gemini.join(" ")).toContain("--approval-mode default");
    expect(lane.invocations()[0]!.stdin).toContain("Focus on: security.");
  });

  it("asks once more with the validation error, then reports a reviewer whose output stays invalid", async () => {
    setScript([
      { cli: "codex", match: "could not be used", directives: { reply: answer([finding()]) } },
      { cli: "codex", directives: { reply: "I think it is fine." } },
      { cli: "gemini", directives: { reply: fenced('{"verdict":"maybe","findings":[]}') } },
      { cli: "claude", directives: { reply: answer([finding()]) } },
    ]);
    const result = sc(await gw.call("review", base()));
    const by = Object.fromEntries(result.reviewers.map((x: any) => [x.cli, x]));
    expect(by.codex).toMatchObject({ status: "ok", repaired: true });
    expect(by.codex.calls).toHaveLength(2);
    expect(by.gemini.status).toBe("invalid");
    expect(by.gemini.error.category).toBe("invalid_output");
    expect(by.gemini.error.message).toMatch(/verdict/);
    expect(by.gemini.calls).toHaveLength(2);
    expect(result.invalid).toEqual(["gemini"]);
    // No finding is invented for the invalid reviewer.
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0].reportedBy).toEqual(["claude", "codex"]);
    const repair = lane
      .invocations()
      .find((i) => i.cli === "gemini" && i.stdin.includes("could not be used"));
    expect(repair?.stdin).toMatch(/does not match the schema: verdict/);
  });

  it("round 2: each reviewer confirms or disputes the merged findings in its own session", async () => {
    const assess = (a: string, reason: string) =>
      JSON.stringify({
        verdict: "changes_requested",
        summary: "r2",
        assessments: [{ id: "F1", assessment: a, reason }],
      });
    setScript([
      {
        cli: "gemini",
        match: "Round 2",
        directives: { reply: fenced(assess("disputed", "xs is never empty")) },
      },
      { match: "Round 2", directives: { reply: assess("confirmed", "reads xs[xs.length]") } },
      { cli: "gemini", directives: { reply: fenced(answer([finding()])) } },
      { directives: { reply: answer([finding()]) } },
    ]);
    const result = sc(await gw.call("review", { ...base(), rounds: 2 }));
    expect(result.rounds).toBe(2);
    expect(result.findings[0]).toMatchObject({
      reportedBy: ["claude", "codex", "gemini"],
      confirmedBy: ["claude", "codex"],
      disputedBy: ["gemini"],
      standing: true,
    });
    expect(result.findings[0].assessments).toContainEqual({
      reviewer: "gemini",
      assessment: "disputed",
      reason: "xs is never empty",
    });
    const second = lane.invocations().filter((i) => i.stdin.includes("Round 2"));
    expect(second).toHaveLength(3);
    const resumed = (argv: string[]) => argv.includes("--resume") || argv.includes("resume");
    expect(second.every((i) => resumed(i.argv))).toBe(true);
  });

  it("cancel stops every CLI of an async review", async () => {
    setScript([{ directives: { hang: "" } }]);
    const started = sc(await gw.call("review", { ...base(), async: true }));
    for (let i = 0; i < 200 && lane.invocations().length < 3; i++) await delay(25);
    const pids = lane.invocations().map((i) => i.pid);
    expect(pids).toHaveLength(3);
    await gw.call("llm_job_cancel", { jobId: started.jobId });
    const status = await waitForJob(gw, started.jobId);
    expect(status.status).toBe("canceled");
    expect(status.children.map((c: any) => c.status)).toEqual(["canceled", "canceled", "canceled"]);
    expect(await survivors(pids)).toEqual([]);
  });

  it("refuses bad refs, a non-git cwd and an empty change before any CLI starts", async () => {
    expect(textOf(await gw.call("review", { cwd: repo, base: "--output=/tmp/x" }))).toMatch(
      /\[invalid_input\] base must be a git ref/,
    );
    expect(textOf(await gw.call("review", { cwd: repo, base: "nope" }))).toMatch(
      /\[invalid_input\] base nope is not a commit/,
    );
    expect(textOf(await gw.call("review", { cwd: repo, diff: "staged" }))).toMatch(
      /\[invalid_input\] Nothing to review/,
    );
    expect(textOf(await gw.call("review", { cwd: lane.dir }))).toMatch(
      /not inside a git work tree/,
    );
    expect(textOf(await gw.call("review", { cwd: repo, files: ["../x"] }))).toMatch(
      /\[invalid_input\] files\[0\]/,
    );
    expect(lane.invocations()).toEqual([]);
  });
});
