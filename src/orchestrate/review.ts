import type { z } from "zod";
import { PROVIDERS, type OptionsOf } from "../providers/index.js";
import type { CliRequest, GatewayResult } from "../request.js";
import type { CliName } from "../providers/types.js";
import { answerOf, baseRequest, type FanoutInput } from "./consult.js";
import {
  parseAnswer,
  reviewAnswer,
  roundAnswer,
  schemaText,
  type Finding,
  type Parsed,
} from "./findings.js";
import type { CollectedChange } from "./git.js";
import {
  applyAssessments,
  countBySeverity,
  mergeFindings,
  overallVerdict,
  stands,
  type MergedFinding,
} from "./merge.js";
import type { ParentContext, ParentOutcome } from "./parent.js";
import { reviewText, type ReviewerReport } from "./review-text.js";

export interface ReviewInput extends FanoutInput {
  cwd: string;
  focus?: string;
  /** 1 to 3; in round 2 and 3 each reviewer confirms or disputes the merged findings. */
  rounds: number;
}

interface Reviewer extends ReviewerReport {
  /** The reviewer's CLI session, which its later turns continue. */
  nativeSessionId?: string;
  /** Round 1's findings. */
  reported?: Finding[];
}

/**
 * A review: every reviewer gets the change read-only and answers in the findings schema; the
 * findings are merged; in each later round every reviewer who answered confirms or disputes the
 * merged findings, continuing its own session.
 */
export async function review(
  ctx: ParentContext,
  input: ReviewInput,
  change: CollectedChange,
): Promise<ParentOutcome> {
  const started = Date.now();
  const reviewers: Reviewer[] = input.clis.map((cli) => ({
    cli,
    status: "failed",
    repaired: false,
    rounds: 0,
    calls: [],
  }));
  const firstPrompt = (cli: CliName) => roundOnePrompt(cli, input.focus, change);
  await eachReviewer(ctx, reviewers, 1, async (r) => {
    const answer = await ask(
      ctx,
      input,
      r,
      reviewAnswer,
      firstPrompt(r.cli),
      1,
      firstPrompt(r.cli),
    );
    if (answer)
      Object.assign(r, {
        verdict: answer.verdict,
        summary: answer.summary,
        reported: answer.findings,
        findings: answer.findings.length,
      });
    return answer;
  });

  const valid = reviewers.filter((r) => r.status === "ok");
  const findings = mergeFindings(
    valid.map((r) => ({ reviewer: r.cli, findings: r.reported ?? [] })),
    change.files,
  );

  let rounds = 1;
  for (let round = 2; round <= input.rounds && findings.length && !ctx.canceled(); round++) {
    rounds = round;
    const active = reviewers.filter((r) => r.status === "ok");
    await eachReviewer(ctx, active, round, async (r) => {
      const prompt = laterRoundPrompt(r.cli, round, findings);
      const full = r.nativeSessionId ? prompt : `${firstPrompt(r.cli)}\n\n${prompt}`;
      const answer = await ask(ctx, input, r, roundAnswer, full, round, full);
      if (answer) {
        applyAssessments(findings, r.cli, answer);
        Object.assign(r, { verdict: answer.verdict, summary: answer.summary });
      }
      return answer;
    });
  }

  const standing = findings.filter(stands);
  const answered = reviewers.filter((r) => r.status === "ok").map((r) => r.cli);
  const verdict = answered.length ? overallVerdict(findings) : undefined;
  const result = {
    verdict,
    counts: countBySeverity(standing),
    findings: findings.map((f) => ({ ...f, standing: stands(f) })),
    reviewers: reviewers.map(report),
    answered,
    invalid: reviewers.filter((r) => r.status === "invalid").map((r) => r.cli),
    failed: reviewers.filter((r) => r.status === "failed").map((r) => r.cli),
    rounds,
    target: { description: change.description, files: change.files },
    durationMs: Date.now() - started,
  };
  return { result: { text: reviewText(result), ...result }, failed: answered.length === 0 };
}

/** Runs one round for these reviewers at once, with a progress note as each ends. */
async function eachReviewer<T>(
  ctx: ParentContext,
  reviewers: Reviewer[],
  round: number,
  work: (r: Reviewer) => Promise<T | undefined>,
): Promise<(T | undefined)[]> {
  let finished = 0;
  return Promise.all(
    reviewers.map(async (r) => {
      const answer = await work(r);
      const how = r.status === "ok" ? "done" : r.status;
      ctx.progress(`round ${round}: ${r.cli} ${how}, ${++finished} of ${reviewers.length}`);
      return answer;
    }),
  );
}

/** Asks one reviewer, and once more with the validation error when its answer is not valid. */
async function ask<T>(
  ctx: ParentContext,
  input: ReviewInput,
  r: Reviewer,
  schema: z.ZodType<T>,
  prompt: string,
  round: number,
  original: string,
): Promise<T | undefined> {
  const schemaJson = schemaText(schema);
  let parsed: Parsed<T> | undefined;
  let lastText = "";
  for (const attempt of ["first", "repair"] as const) {
    const text =
      attempt === "first"
        ? prompt
        : repairPrompt(
            r.cli,
            parsed!.ok ? "" : parsed!.error,
            schemaJson,
            r.nativeSessionId ? "" : original,
          );
    const outcome = await ctx.run(
      r.cli,
      reviewerRequest(input, r.cli, text, schemaJson, r.nativeSessionId),
      attempt === "first" ? `r${round}` : `r${round}:repair`,
    );
    const call = answerOf(outcome);
    r.calls.push(call);
    r.nativeSessionId = outcome.result?.nativeSessionId ?? r.nativeSessionId;
    if (!call.ok) {
      Object.assign(r, { status: "failed", error: call.error });
      return undefined;
    }
    lastText = outcome.result!.text;
    parsed = parseAnswer(schema, lastText, structuredOutput(outcome.result!));
    if (parsed.ok) {
      Object.assign(r, {
        status: "ok",
        rounds: round,
        repaired: r.repaired || attempt === "repair",
      });
      delete r.error;
      return parsed.value;
    }
    if (ctx.canceled()) break;
  }
  Object.assign(r, {
    status: "invalid",
    repaired: true,
    error: {
      category: "invalid_output",
      message: `Round ${round}: the answer stayed invalid after one repair request: ${parsed && !parsed.ok ? parsed.error : "canceled"}`,
    },
    invalidOutput: lastText.slice(0, 500),
  });
  return undefined;
}

/** A reviewer runs read-only whatever the caller's legacy permissions; mcp_managed still decides. */
function reviewerRequest(
  input: ReviewInput,
  cli: CliName,
  prompt: string,
  schemaJson: string,
  sessionId: string | undefined,
): CliRequest<OptionsOf<CliName>> {
  const options = PROVIDERS[cli].reviewer.options(schemaJson);
  return { ...baseRequest(input, cli, prompt, sessionId), options };
}

/** claude --json-schema puts the validated object in the result's structured_output. */
function structuredOutput(result: GatewayResult): unknown {
  const raw = result.raw as { structured_output?: unknown } | undefined;
  return raw && typeof raw === "object" && raw.structured_output !== undefined
    ? raw.structured_output
    : undefined;
}

const answerWith = (cli: CliName, schemaJson: string) =>
  `Answer with only a JSON object${PROVIDERS[cli].reviewer.fencedJson ? " in one ```json fenced block" : ""} matching this JSON Schema:\n${schemaJson}`;

function roundOnePrompt(cli: CliName, focus: string | undefined, change: CollectedChange): string {
  return [
    "You are one of several independent reviewers of a code change. Review it read-only: do not edit files or run commands.",
    focus ? `Focus on: ${focus}.` : "",
    "Report each real problem in the change as a finding: file (path relative to the repository root), startLine and endLine in the new version (0 and 0 for a whole file), severity, category, a one-line title, an explanation and a suggested fix (or null). Report only problems you can point to; an empty list is a valid answer. Then give your verdict: approve, or changes_requested.",
    answerWith(cli, schemaText(reviewAnswer)),
    `The change (${change.description}):\n${change.text}`,
  ]
    .filter(Boolean)
    .join("\n\n");
}

function laterRoundPrompt(cli: CliName, round: number, findings: MergedFinding[]): string {
  const list = findings.map(
    ({ id, file, startLine, endLine, severity, category, title, explanation, reportedBy }) => ({
      id,
      file,
      startLine,
      endLine,
      severity,
      category,
      title,
      explanation,
      reportedBy,
    }),
  );
  return [
    `Round ${round} of the review. Below are the reviewers' merged findings of round ${round - 1}. For each finding, say whether you confirm it (a real problem) or dispute it, with a reason; then give your verdict on the change again.`,
    `Findings:\n${JSON.stringify(list, null, 1)}`,
    answerWith(cli, schemaText(roundAnswer)),
  ].join("\n\n");
}

function repairPrompt(cli: CliName, error: string, schemaJson: string, original: string): string {
  return [original, `Your answer could not be used: ${error}.`, answerWith(cli, schemaJson)]
    .filter(Boolean)
    .join("\n\n");
}

function report(r: Reviewer): ReviewerReport {
  const { nativeSessionId: _s, reported: _r, ...visible } = r;
  return visible;
}
