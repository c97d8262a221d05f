/**
 * optimizePrompt / optimizeResponse: shorten text sent to or received from a CLI with
 * transformations that are safe by construction.
 *
 * The text is first split into protected spans and free prose. Protected, and never changed:
 * fenced code blocks, inline code, quoted strings ("…", '…', “…”), URLs, and every word that
 * carries something exact (numbers, paths, identifiers such as camelCase, snake_case and dotted
 * names, --flags, $VARS, versions, hashes). Only the prose between them is rewritten:
 *
 *   ansi-codes            terminal colour and control sequences (ESC bytes) removed
 *   line-endings          CRLF → LF
 *   json-compaction       pretty-printed JSON objects/arrays in prose → compact (whitespace only)
 *   filler-phrases        prompts: greetings, thanks, "could you please" → "please", …
 *   chatty-preamble       responses: "Sure! Here's …" → "Here's …", "I'd be happy to help."
 *   chatty-closer         responses: "I hope this helps!", "Let me know if …"
 *   trailing-whitespace   spaces and tabs at line ends
 *   space-runs            runs of spaces inside a line (not indentation, not aligned columns)
 *   table-padding         markdown table cell padding and long delimiter rows
 *   repeated-lines        consecutive identical lines → one line + "[previous line repeated N times]"
 *   blank-lines           2+ blank lines → 1
 *   trim-ends             blank lines at the start, whitespace at the end
 *
 * Pure functions without I/O. Sizes are counted in UTF-16 code units (String#length), the unit
 * the gateway's 100,000-character prompt limit uses; tokens are counted only by the benchmark.
 */

import { compactJsonBlobs } from "./json.js";
import { Masker, RESERVED, maskFences, maskInlineCode, maskQuotesAndUrls } from "./mask.js";
import {
  collapseBlankLines,
  collapseRepeatedLines,
  collapseSpaceRuns,
  compactTables,
  normalizeLineEndings,
  removePromptFiller,
  removeResponseCloser,
  removeResponsePreamble,
  stripAnsi,
  trimEnds,
  trimTrailingWhitespace,
} from "./rules.js";

export interface OptimizeResult {
  text: string;
  originalChars: number;
  optimizedChars: number;
  /** Names of the rules that changed something, in the order they ran. */
  transformations: string[];
}

export interface OptimizeResponseOptions {
  /** The caller asked for JSON: the response is returned unchanged. */
  json?: boolean;
}

type Rule = [name: string, apply: (text: string, m: Masker) => string];

// Rules that need only code masked (they read quotes and numbers themselves).
const CODE_LEVEL: Rule[] = [
  ["ansi-codes", stripAnsi],
  ["line-endings", normalizeLineEndings],
  ["json-compaction", compactJsonBlobs],
];

// Repeated lines are merged before space-runs looks at neighbouring lines (merging changes which
// lines are neighbours), and again after it (collapsing spaces can make lines equal). This order
// makes one pass enough: optimizing an optimized text changes nothing.
const REPEATED: Rule = ["repeated-lines", collapseRepeatedLines];
const LAYOUT: Rule[] = [
  ["trailing-whitespace", trimTrailingWhitespace],
  REPEATED,
  ["space-runs", collapseSpaceRuns],
  ["table-padding", compactTables],
  REPEATED,
  ["blank-lines", collapseBlankLines],
  ["trim-ends", trimEnds],
];

const PROMPT_PHRASES: Rule[] = [["filler-phrases", removePromptFiller]];
const RESPONSE_PHRASES: Rule[] = [
  ["chatty-preamble", removeResponsePreamble],
  ["chatty-closer", removeResponseCloser],
];

function unchanged(text: string): OptimizeResult {
  return {
    text,
    originalChars: text.length,
    optimizedChars: text.length,
    transformations: [],
  };
}

function run(text: string, phraseRules: Rule[]): OptimizeResult {
  // Text that already holds our placeholder characters cannot be masked unambiguously.
  if (RESERVED.test(text)) return unchanged(text);
  const m = new Masker();
  const applied: string[] = [];
  const apply = (t: string, [name, rule]: Rule) => {
    const next = rule(t, m);
    if (next !== t && !applied.includes(name)) applied.push(name);
    return next;
  };
  let t = maskInlineCode(maskFences(text, m), m);
  for (const rule of CODE_LEVEL) t = apply(t, rule);
  t = maskQuotesAndUrls(t, m);
  for (const rule of phraseRules) t = apply(t, rule);
  for (const rule of LAYOUT) t = apply(t, rule);
  const out = m.restore(t);
  if (out === "" && text !== "") return unchanged(text); // never turn a message into nothing
  return {
    text: out,
    originalChars: text.length,
    optimizedChars: out.length,
    transformations: out === text ? [] : applied,
  };
}

/** Shorten a prompt before it is sent to a CLI. */
export function optimizePrompt(text: string): OptimizeResult {
  return run(text, PROMPT_PHRASES);
}

/**
 * Shorten a CLI's response. With `{ json: true }`, or when the whole response is a JSON value,
 * the text is returned unchanged.
 */
export function optimizeResponse(
  text: string,
  options: OptimizeResponseOptions = {},
): OptimizeResult {
  if (options.json || isJson(text)) return unchanged(text);
  return run(text, RESPONSE_PHRASES);
}

function isJson(text: string): boolean {
  const t = text.trim();
  if (!/^[{["]/.test(t)) return false;
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}
