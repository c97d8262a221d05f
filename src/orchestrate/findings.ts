import { z } from "zod";

/** The one findings schema every reviewer answers in, and how an answer is read and checked. */

export const SEVERITIES = ["critical", "high", "medium", "low", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];
export const CATEGORIES = [
  "security",
  "correctness",
  "tests",
  "performance",
  "maintainability",
  "style",
  "docs",
  "other",
] as const;

// Every field is required (nullable where it may be empty): codex sends the schema to the model
// API in strict mode, which accepts no optional properties.
const finding = z
  .strictObject({
    file: z.string().min(1).max(500).describe("Path relative to the repository root"),
    startLine: z.number().int().min(0).describe("First line in the new version (0: whole file)"),
    endLine: z.number().int().min(0),
    severity: z.enum(SEVERITIES),
    category: z.enum(CATEGORIES),
    title: z.string().min(1).max(200),
    explanation: z.string().max(4000),
    suggestedFix: z.string().max(4000).nullable(),
  })
  .refine((f) => f.endLine >= f.startLine, {
    message: "endLine must not be before startLine",
    path: ["endLine"],
  });
export type Finding = z.infer<typeof finding>;

const verdict = z.enum(["approve", "changes_requested"]);

/** Round 1: the reviewer's own findings and verdict. */
export const reviewAnswer = z.strictObject({
  verdict,
  summary: z.string().max(2000),
  findings: z.array(finding).max(100),
});

/** Later rounds: the reviewer's view of each merged finding of the round before. */
export const roundAnswer = z.strictObject({
  verdict,
  summary: z.string().max(2000),
  assessments: z
    .array(
      z.strictObject({
        id: z.string().describe("The finding's id, e.g. F1"),
        assessment: z.enum(["confirmed", "disputed"]),
        reason: z.string().max(2000),
      }),
    )
    .max(200),
});
export type RoundAnswer = z.infer<typeof roundAnswer>;

/** Dropped from the schema the CLIs get: strict structured-output modes reject some of them. */
const SIZE_KEYWORDS = new Set(["$schema", "minLength", "maxLength", "maxItems", "minimum"]);

/** The JSON Schema text handed to the CLIs (claude --json-schema, codex --output-schema, prompts). */
export function schemaText(schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { target: "draft-7", io: "output" });
  return JSON.stringify(json, (key, value) => (SIZE_KEYWORDS.has(key) ? undefined : value));
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * A reviewer's answer: the structured output the CLI returned, else the JSON in its text (the
 * whole text, the last fenced block, or the outermost braces), validated against the schema.
 * Nothing is guessed: what does not validate is reported with the validation error.
 */
export function parseAnswer<T>(
  schema: z.ZodType<T>,
  text: string,
  structured?: unknown,
): Parsed<T> {
  const candidate = structured !== undefined ? { value: structured } : extractJson(text);
  if ("error" in candidate) return { ok: false, error: candidate.error };
  const checked = schema.safeParse(candidate.value);
  if (checked.success) return { ok: true, value: checked.data };
  const issues = checked.error.issues
    .slice(0, 10)
    .map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message));
  return { ok: false, error: `the JSON does not match the schema: ${issues.join("; ")}` };
}

const FENCED = /```(?:json)?[ \t]*\n([\s\S]*?)\n?```/g;

function extractJson(text: string): { value: unknown } | { error: string } {
  const trimmed = text.trim();
  if (!trimmed) return { error: "the answer was empty" };
  const attempts = [trimmed];
  const fenced = [...trimmed.matchAll(FENCED)].map((m) => m[1]!.trim());
  attempts.push(...fenced.reverse());
  const first = trimmed.indexOf("{");
  const last = trimmed.lastIndexOf("}");
  if (first !== -1 && last > first) attempts.push(trimmed.slice(first, last + 1));
  for (const attempt of attempts) {
    try {
      return { value: JSON.parse(attempt) };
    } catch {
      // try the next candidate
    }
  }
  return { error: "the answer contains no JSON object" };
}
