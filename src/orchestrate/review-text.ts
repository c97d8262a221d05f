import { errorText } from "../errors.js";
import type { MergedFinding, SeverityCounts } from "./merge.js";
import type { CliName } from "../providers/types.js";
import type { CliAnswer } from "./consult.js";

export interface ReviewerReport {
  cli: CliName;
  /** ok: valid findings; invalid: output that stayed invalid after one repair; failed: no answer. */
  status: "ok" | "invalid" | "failed";
  verdict?: "approve" | "changes_requested";
  summary?: string;
  findings?: number;
  /** Its answer needed the one repair request. */
  repaired: boolean;
  error?: { category: string; message: string };
  /** The start of the last invalid output, to see what went wrong. */
  invalidOutput?: string;
  rounds: number;
  calls: CliAnswer[];
}

interface ReviewSummary {
  verdict?: "approve" | "changes_requested";
  counts: SeverityCounts;
  findings: (MergedFinding & { standing: boolean })[];
  reviewers: ReviewerReport[];
  answered: string[];
  rounds: number;
  target: { description: string };
}

/** The review as text for the model: verdict and counts, each reviewer, then each finding. */
export function reviewText(r: ReviewSummary): string {
  const counts = Object.entries(r.counts)
    .filter(([, n]) => n > 0)
    .map(([severity, n]) => `${n} ${severity}`)
    .join(", ");
  const head = r.verdict
    ? `Review of ${r.target.description}: ${r.verdict}${counts ? ` (${counts})` : " (no findings)"}; ${r.answered.length} of ${r.reviewers.length} reviewers answered, ${r.rounds} round(s).`
    : `Review of ${r.target.description}: no reviewer returned valid findings.`;
  const reviewers = r.reviewers.map((x) =>
    x.status === "ok"
      ? `- ${x.cli}: ${x.verdict}, ${x.findings ?? 0} finding(s)${x.repaired ? " (after one repair)" : ""}`
      : `- ${x.cli}: ${x.status} ${errorText(String(x.error?.category), x.error?.message ?? "")}`,
  );
  const findings = r.findings.map((f) => {
    const lines =
      f.startLine === 0 ? "" : `:${f.startLine}${f.endLine !== f.startLine ? `-${f.endLine}` : ""}`;
    const who = [`reported by ${f.reportedBy.join(", ")}`];
    if (f.confirmedBy.length) who.push(`confirmed by ${f.confirmedBy.join(", ")}`);
    for (const a of f.assessments.filter((x) => x.assessment === "disputed"))
      who.push(`disputed by ${a.reviewer}: ${a.reason}`);
    return [
      `${f.id} [${f.severity}/${f.category}] ${f.file}${lines} ${f.title}${f.standing ? "" : " (overruled)"}`,
      `   ${who.join("; ")}`,
      `   ${f.explanation}`,
      ...(f.suggestedFix ? [`   Fix: ${f.suggestedFix}`] : []),
    ].join("\n");
  });
  return [head, ["Reviewers:", ...reviewers].join("\n"), ...findings].join("\n\n");
}
