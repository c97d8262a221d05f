/**
 * The rules. Each takes text whose protected spans are placeholders (see mask.ts) and returns the
 * new text; the pipeline in index.ts records the name of every rule that changed something.
 */

import { holdsExactText, type Masker } from "./mask.js";
import {
  PROMPT_ASIDES,
  PROMPT_CLOSERS,
  PROMPT_FRAMES,
  PROMPT_OPENERS,
  RESPONSE_CLOSERS,
  RESPONSE_OPENERS,
  RESPONSE_SURE_HERE,
} from "./phrases.js";

// Terminal control sequences: CSI (colours, cursor moves, erase), OSC (titles, hyperlinks) and
// two-character escapes. Only real ESC bytes: a bare "[31m" may be text.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

export function stripAnsi(text: string): string {
  return text.includes("\x1b") ? text.replace(ANSI, "") : text;
}

export function normalizeLineEndings(text: string): string {
  return text.includes("\r\n") ? text.replace(/\r\n/g, "\n") : text;
}

export function trimTrailingWhitespace(text: string): string {
  if (!/[ \t](?:\n|$)/.test(text)) return text;
  return text
    .split("\n")
    .map((line) => (line.endsWith(" ") || line.endsWith("\t") ? line.replace(/[ \t]+$/, "") : line))
    .join("\n");
}

export function collapseBlankLines(text: string): string {
  return text.replace(/\n{3,}/g, "\n\n");
}

/** Leading blank lines and trailing whitespace of the whole text (indentation of line 1 stays). */
export function trimEnds(text: string): string {
  return text.replace(/^(?:[ \t]*\n)+/, "").trimEnd();
}

const isTableRow = (line: string) => /^[ \t]*\|/.test(line);
const TABLE_DELIMITER_ROW = /^[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|)+(?:[ \t]*:?-+:?[ \t]*)?$/;

/** Runs of 2+ spaces (or any tab) between the words of a line: how "columnar" a line looks. */
function internalGaps(line: string): number {
  if (!line.includes("  ") && !line.includes("\t")) return 0;
  const body = line.trim();
  return (body.match(/ {2,}|\t/g) ?? []).length;
}

/**
 * Runs of spaces inside a line become one space. Leading indentation is kept (code and nested
 * lists), and so is the indentation after a gutter (diff markers, line numbers); tabs are kept
 * (they may separate columns), and aligned tables are kept: consecutive lines that all have gaps,
 * one of them two or more, because there an empty cell is only visible as a wider gap.
 */
export function collapseSpaceRuns(text: string): string {
  if (!text.includes("  ")) return text;
  const lines = text.split("\n");
  const gaps = lines.map(internalGaps);
  const columnar = new Array<boolean>(lines.length).fill(false);
  for (let i = 0; i < lines.length;) {
    let j = i;
    let most = 0;
    while (j < lines.length && (gaps[j] ?? 0) > 0) most = Math.max(most, gaps[j++] ?? 0);
    if (j - i >= 2 && most >= 2) columnar.fill(true, i, j);
    i = Math.max(j, i + 1);
  }
  return lines
    .map((line, i) => {
      if (isTableRow(line) || gaps[i] === 0 || columnar[i]) return line;
      let start = (/^[ \t]*/.exec(line)?.[0] ?? "").length;
      // A gutter before the first gap ("+    return x" in a diff, "41 |     const" in a code
      // frame, "│   ├── src" in a tree) is followed by indentation: keep that gap too. A gutter
      // holds no letters.
      const firstGap = line.indexOf("  ", start);
      if (firstGap > start && !/[A-Za-z]/.test(line.slice(start, firstGap))) {
        start = firstGap;
        while (line[start] === " ") start++;
      }
      return line.slice(0, start) + line.slice(start).replace(/ {2,}/g, " ");
    })
    .join("\n");
}

/** Markdown tables: cell padding and long delimiter rows (`|:-------|` → `|:---|`). */
export function compactTables(text: string): string {
  if (!text.includes("|") || !/(?:^|\n)[ \t]*\|/.test(text)) return text;
  return text
    .split("\n")
    .map((line) => {
      if (!isTableRow(line)) return line;
      const indent = /^[ \t]*/.exec(line)?.[0] ?? "";
      let body = line.slice(indent.length);
      if (TABLE_DELIMITER_ROW.test(line)) body = body.replace(/-{4,}/g, "---");
      return indent + body.replace(/ {2,}/g, " ");
    })
    .join("\n");
}

/**
 * Consecutive identical lines become one line and a note of how many copies were dropped, when
 * that is shorter. Blank lines, table rows and code blocks are never merged.
 */
export function collapseRepeatedLines(text: string, m: Masker): string {
  const lines = text.split("\n");
  const out: string[] = [];
  for (let i = 0; i < lines.length;) {
    const line = lines[i] as string;
    let j = i + 1;
    while (j < lines.length && lines[j] === line) j++;
    const copies = j - i - 1;
    if (copies > 0 && line.trim() !== "" && !isTableRow(line)) {
      const note = `[previous line repeated ${copies} time${copies === 1 ? "" : "s"}]`;
      if (copies * (m.restore(line).length + 1) > note.length + 1) {
        out.push(line, note);
        i = j;
        continue;
      }
    }
    for (let k = i; k < j; k++) out.push(line);
    i = j;
  }
  return out.join("\n");
}

// ---- phrases -------------------------------------------------------------------------------

const alt = (sources: string[]) => sources.map((s) => `(?:${s})`).join("|");

// Where a sentence may begin: the start of the text or a line, or after a sentence's end.
const SENTENCE_START = "(?<=^|\\n[ \\t]*|[.!?][ \\t]+)";

const OPENER_PROMPT = new RegExp(
  `^[ \\t]*(?:${alt(PROMPT_OPENERS)})(?![ \\t]*world\\b)(?=\\s|$)[ \\t]*`,
  "i",
);
const CLOSER_PROMPT = new RegExp(
  `(^|\\n[ \\t]*|[.!?:][ \\t]+)(?:${alt(PROMPT_CLOSERS)})\\s*$`,
  "i",
);
const OPENER_RESPONSE = new RegExp(`^[ \\t]*(?:${alt(RESPONSE_OPENERS)})(?=\\s|$)[ \\t]*`, "i");
const CLOSER_RESPONSE = new RegExp(
  `(^|\\n[ \\t]*|[.!?:][ \\t]+)(?:${alt(RESPONSE_CLOSERS)})\\s*$`,
  "i",
);
// The look-ahead on the first letter lets the engine skip most positions cheaply.
const FRAME = new RegExp(`(?=[cwi])${SENTENCE_START}(?:${alt(PROMPT_FRAMES)})(?=[ \\t])`, "gi");
// Cheap tests that skip the sentence-start scans when no phrase can match.
const FRAME_HINT = /\b(?:you (?:please|kindly|be so)|wondering|appreciate it)\b/i;
const ASIDE_HINT = /question,? but /i;
const ASIDE = new RegExp(`(?=[stm])${SENTENCE_START}(?:${alt(PROMPT_ASIDES)})`, "gi");

/** Remove sentences matching `opener` from the start and `closer` from the end, repeatedly. */
function trimSentences(text: string, opener: RegExp, closer: RegExp): string {
  let t = text;
  for (;;) {
    const lead = /^\s*/.exec(t)?.[0] ?? "";
    const body = t.slice(lead.length);
    const o = opener.exec(body);
    // Never remove everything: a prompt that is only "Thanks!" is the whole message.
    if (o && o[0].trim() !== "" && !holdsExactText(o[0]) && body.slice(o[0].length).trim()) {
      t = lead + body.slice(o[0].length);
      continue;
    }
    const c = closer.exec(t);
    if (c && !holdsExactText(c[0])) {
      const keep = c.index + (c[1] ?? "").length;
      if (keep < t.length && t.slice(0, keep).trim()) {
        t = t.slice(0, keep);
        continue;
      }
    }
    return t;
  }
}

/** Prompt filler: greetings, thanks, apologies for asking, "could you please" frames. */
export function removePromptFiller(text: string): string {
  let t = trimSentences(text, OPENER_PROMPT, CLOSER_PROMPT);
  if (FRAME_HINT.test(t)) {
    t = t.replace(FRAME, (frame) => (frame[0] === frame[0]?.toUpperCase() ? "Please" : "please"));
  }
  if (ASIDE_HINT.test(t)) t = t.replace(ASIDE, "");
  return t;
}

export function removeResponsePreamble(text: string): string {
  let t = text;
  for (;;) {
    const lead = /^\s*/.exec(t)?.[0] ?? "";
    const body = t.slice(lead.length);
    const o = OPENER_RESPONSE.exec(body);
    if (o && o[0].trim() !== "" && !holdsExactText(o[0]) && body.slice(o[0].length).trim()) {
      t = lead + body.slice(o[0].length);
      continue;
    }
    const s = RESPONSE_SURE_HERE.exec(body);
    if (s) {
      const rest = body.slice(s[0].length);
      t = lead + rest.charAt(0).toUpperCase() + rest.slice(1);
      continue;
    }
    return t;
  }
}

export function removeResponseCloser(text: string): string {
  return trimSentences(text, /(?!)/, CLOSER_RESPONSE);
}
