import { CLI_NAMES, type CliName } from "../providers/types.js";
import { SEVERITIES, type Finding, type RoundAnswer, type Severity } from "./findings.js";

export interface Assessment {
  reviewer: CliName;
  assessment: "confirmed" | "disputed";
  reason: string;
}

/** One issue, however many reviewers reported it. */
export interface MergedFinding extends Finding {
  id: string;
  reportedBy: CliName[];
  /** Later rounds: the reviewers who confirmed or disputed it (a reporter confirms by reporting). */
  confirmedBy: CliName[];
  disputedBy: CliName[];
  assessments: Assessment[];
}

export type SeverityCounts = Record<Severity, number>;

const RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };
/** Findings of these severities request changes, unless most reviewers dispute them. */
const BLOCKING = new Set<Severity>(["critical", "high", "medium"]);

const STOP_WORDS = new Set(["the", "and", "for", "with", "not", "from", "when", "this", "that"]);

/**
 * Merges the reviewers' findings: two findings are one when they name the same file, their line
 * ranges overlap, and they describe the same issue — the same category with titles sharing at
 * least half their words, or titles sharing 80% of their words whatever the category. The merged
 * finding keeps the first report's text, the widest range and the highest severity. Sorted by
 * severity, then by how many reviewers reported it; ids F1, F2, … follow that order.
 */
export function mergeFindings(
  reports: { reviewer: CliName; findings: Finding[] }[],
  knownFiles: string[] = [],
): MergedFinding[] {
  const merged: MergedFinding[] = [];
  for (const { reviewer, findings } of reports) {
    for (const raw of findings) {
      const f = { ...raw, file: normalizePath(raw.file, knownFiles) };
      const same = merged.find((m) => !m.reportedBy.includes(reviewer) && sameIssue(m, f));
      if (!same) {
        merged.push({
          ...f,
          id: "",
          reportedBy: [reviewer],
          confirmedBy: [],
          disputedBy: [],
          assessments: [],
        });
        continue;
      }
      same.reportedBy.push(reviewer);
      same.startLine = Math.min(same.startLine, f.startLine);
      same.endLine = Math.max(same.endLine, f.endLine);
      if (RANK[f.severity] > RANK[same.severity]) same.severity = f.severity;
      same.suggestedFix ??= f.suggestedFix;
    }
  }
  merged.sort(
    (a, b) =>
      RANK[b.severity] - RANK[a.severity] ||
      b.reportedBy.length - a.reportedBy.length ||
      a.file.localeCompare(b.file) ||
      a.startLine - b.startLine,
  );
  merged.forEach((m, i) => (m.id = `F${i + 1}`));
  return merged;
}

/** Records one reviewer's round answer on the merged findings (unknown ids are ignored). */
export function applyAssessments(
  findings: MergedFinding[],
  reviewer: CliName,
  answer: RoundAnswer,
): void {
  for (const a of answer.assessments) {
    const f = findings.find((m) => m.id === a.id);
    if (!f || f.assessments.some((x) => x.reviewer === reviewer)) continue;
    f.assessments.push({ reviewer, assessment: a.assessment, reason: a.reason });
    const list = a.assessment === "confirmed" ? f.confirmedBy : f.disputedBy;
    list.push(reviewer);
    // The same order whichever reviewer answered first.
    list.sort((x, y) => CLI_NAMES.indexOf(x) - CLI_NAMES.indexOf(y));
    f.assessments.sort((x, y) => CLI_NAMES.indexOf(x.reviewer) - CLI_NAMES.indexOf(y.reviewer));
  }
}

/** A finding stands unless more reviewers dispute it than report or confirm it (and still do). */
export function stands(f: MergedFinding): boolean {
  const disputed = new Set(f.disputedBy);
  const support = new Set([...f.reportedBy, ...f.confirmedBy].filter((r) => !disputed.has(r)));
  return disputed.size <= support.size;
}

export function countBySeverity(findings: MergedFinding[]): SeverityCounts {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as SeverityCounts;
  for (const f of findings) counts[f.severity]++;
  return counts;
}

/** changes_requested when a standing finding is critical, high or medium; else approve. */
export function overallVerdict(findings: MergedFinding[]): "approve" | "changes_requested" {
  return findings.some((f) => stands(f) && BLOCKING.has(f.severity))
    ? "changes_requested"
    : "approve";
}

function sameIssue(a: Finding, b: Finding): boolean {
  if (a.file !== b.file) return false;
  const whole = a.startLine === 0 || b.startLine === 0;
  if (!whole && (a.startLine > b.endLine || b.startLine > a.endLine)) return false;
  const shared = wordOverlap(a.title, b.title);
  return shared >= 0.8 || (a.category === b.category && shared >= 0.5);
}

/** Shared words over the shorter title's words (words of 3+ letters, no stop words). */
function wordOverlap(a: string, b: string): number {
  const words = (t: string) =>
    new Set(
      t
        .toLowerCase()
        .split(/[^a-z0-9]+/)
        .filter((w) => w.length >= 3 && !STOP_WORDS.has(w)),
    );
  const [x, y] = [words(a), words(b)];
  if (!x.size || !y.size) return a.trim().toLowerCase() === b.trim().toLowerCase() ? 1 : 0;
  let shared = 0;
  for (const w of x) if (y.has(w)) shared++;
  return shared / Math.min(x.size, y.size);
}

/** "./src/a.ts" and diff-style "b/src/a.ts" name the same file as "src/a.ts". */
function normalizePath(file: string, known: string[]): string {
  let path = file.trim().replace(/^\.\//, "");
  if (!known.includes(path) && /^[ab]\//.test(path) && known.includes(path.slice(2)))
    path = path.slice(2);
  return path;
}
