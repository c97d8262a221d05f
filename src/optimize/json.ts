/**
 * Compacting pretty-printed JSON pasted into prose. Only the whitespace between JSON tokens is
 * removed: every string and number keeps its exact text (no re-serialisation, so `1.0`, `1e5`,
 * `"\u00e9"` and 20-digit ids stay as written), and the result must parse to the same value.
 */

import { RESERVED } from "./mask.js";

// An object or array opened at the end of a line, the way JSON.stringify(v, null, 2), jq and
// most tools print it. `{` must be followed by a key or `}`; `[` by a value or `]`.
const CANDIDATE = /(^|[ \t:=(])([{[])[ \t]*\r?\n[ \t\r\n]*(["}\]{[\-0-9tfn])/gm;

/** End (exclusive) of the JSON value opened at `start`, by a lexical scan; -1 if it never closes. */
function scanEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      else if (c === "\n") return -1; // JSON strings hold no raw newline
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** Drop whitespace outside strings. */
function minify(json: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i] as string;
    if (inString) {
      out += c;
      if (c === "\\") out += json[++i] ?? "";
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c !== " " && c !== "\t" && c !== "\n" && c !== "\r") {
      out += c;
    }
  }
  return out;
}

function parse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Compact every multi-line JSON object or array found in `text`. */
export function compactJsonBlobs(text: string): string {
  if (!text.includes("{") && !text.includes("[")) return text;
  let out = "";
  let done = 0;
  CANDIDATE.lastIndex = 0;
  let hit: RegExpExecArray | null;
  while ((hit = CANDIDATE.exec(text))) {
    const start = hit.index + (hit[1] ?? "").length;
    const end = start < done ? -1 : scanEnd(text, start);
    if (end < 0) {
      CANDIDATE.lastIndex = start + 1;
      continue;
    }
    const blob = text.slice(start, end);
    const parsed = RESERVED.test(blob) ? { ok: false as const } : parse(blob);
    if (parsed.ok) {
      const compact = minify(blob);
      const again = parse(compact);
      if (again.ok && JSON.stringify(again.value) === JSON.stringify(parsed.value)) {
        out += text.slice(done, start) + compact;
        done = end;
        CANDIDATE.lastIndex = end;
        continue;
      }
    }
    CANDIDATE.lastIndex = start + 1;
  }
  return done === 0 ? text : out + text.slice(done);
}
