/**
 * Protected spans. Fenced code blocks, inline code, quoted strings ("…", '…', “…”) and URLs are
 * replaced by placeholders before a rule runs, and put back afterwards. A placeholder is made only
 * of Private Use Area characters (U+E000 … U+EEFF): no rule's pattern can match inside one (they
 * are not letters, digits, whitespace, quotes or punctuation), so a rule can move or drop a whole
 * placeholder, never change what is in it.
 *
 * Words that carry exact content (numbers, paths, identifiers, flags, versions: see
 * `isTechnical`) are protected without placeholders, which would cost a map entry per word: they
 * contain no whitespace, and the layout rules change only whitespace (and the dashes of markdown
 * table delimiter rows, which hold no words). The phrase rules, the only rules that remove words,
 * refuse any removal that would take a placeholder or such a word with it (`holdsExactText`).
 */

const OPEN = "\uE000";
const CLOSE = "\uE001";
const DIGIT0 = 0xe100;
const RADIX = 0xe00; // digits U+E100 … U+EEFF

const PLACEHOLDER = /\uE000[\uE100-\uEEFF]+\uE001/g;

/** Text that already holds these characters is left alone (its placeholders would be ambiguous). */
export const RESERVED = /[\uE000-\uEEFF]/;

/** Does `text` hold a protected span or a word that carries exact content? */
export function holdsExactText(text: string): boolean {
  if (RESERVED.test(text)) return true;
  for (const m of text.matchAll(TECHNICAL_WORD)) if (isTechnical(m[0])) return true;
  return false;
}

function encodeId(n: number): string {
  let s = "";
  do {
    s = String.fromCharCode(DIGIT0 + (n % RADIX)) + s;
    n = Math.floor(n / RADIX);
  } while (n > 0);
  return s;
}

function decodeId(digits: string): number {
  let n = 0;
  for (const ch of digits) n = n * RADIX + (ch.charCodeAt(0) - DIGIT0);
  return n;
}

export class Masker {
  private readonly spans: string[] = [];
  private readonly ids = new Map<string, string>();

  /**
   * The placeholder of `content`. Equal contents share a placeholder (so two log lines that differ
   * only inside protected spans still compare unequal, and equal ones compare equal), unless
   * `unique` (fenced code blocks: never merged with anything).
   */
  mask(content: string, unique = false): string {
    if (!unique) {
      const known = this.ids.get(content);
      if (known !== undefined) return known;
    }
    const placeholder = OPEN + encodeId(this.spans.length) + CLOSE;
    this.spans.push(content);
    if (!unique) this.ids.set(content, placeholder);
    return placeholder;
  }

  /** Mask every match of `re` (which must be global). */
  maskMatches(text: string, re: RegExp): string {
    return text.replace(re, (m) => this.mask(m));
  }

  /** Put every placeholder back, including placeholders nested inside protected spans. */
  restore(text: string): string {
    if (!text.includes(OPEN)) return text;
    // replace() collects all matches before calling back, so the recursion may share the regex.
    return text.replace(PLACEHOLDER, (p) =>
      this.restore(this.spans[decodeId(p.slice(1, -1))] ?? ""),
    );
  }
}

/**
 * Fenced code blocks (``` or ~~~, any indentation, so fences inside list items count): from the
 * opening line to the matching closing line, or to the end of the text when never closed.
 */
export function maskFences(text: string, m: Masker): string {
  if (!text.includes("```") && !text.includes("~~~")) return text;
  const opening = /^[ \t]*(`{3,}|~{3,})([^\n]*)$/gm; // [^\n]: the line may end in \r
  let out = "";
  let done = 0;
  let open: RegExpExecArray | null;
  while ((open = opening.exec(text))) {
    const fence = open[1] as string;
    if (fence[0] === "`" && (open[2] ?? "").includes("`")) continue; // ```js `x` is inline code
    const closing = new RegExp(`^[ \\t]*${fence[0]}{${fence.length},}[ \\t]*\\r?$`, "gm");
    closing.lastIndex = open.index + open[0].length; // from the next line on
    const close = closing.exec(text);
    const end = close ? close.index + close[0].length : text.length;
    out += text.slice(done, open.index) + m.mask(text.slice(open.index, end), true);
    done = end;
    opening.lastIndex = end;
  }
  return out + text.slice(done);
}

/**
 * Inline code: a run of N backticks up to the next run of exactly N backticks, within one
 * paragraph (CommonMark's rule). An unmatched run is ordinary text.
 */
const closers = new Map<number, RegExp>();
function closerOf(n: number): RegExp {
  let re = closers.get(n);
  if (!re) closers.set(n, (re = new RegExp(`(?<!\`)\`{${n}}(?!\`)`, "g")));
  return re;
}

export function maskInlineCode(text: string, m: Masker): string {
  if (!text.includes("`")) return text;
  const runs = /`+/g;
  let out = "";
  let done = 0;
  let run: RegExpExecArray | null;
  while ((run = runs.exec(text))) {
    const n = run[0].length;
    const from = run.index + n;
    const closer = closerOf(n);
    closer.lastIndex = from;
    const c = closer.exec(text);
    if (!c || /\n[ \t]*\r?\n/.test(text.slice(from, c.index))) continue;
    const end = c.index + n;
    out += text.slice(done, run.index) + m.mask(text.slice(run.index, end));
    done = end;
    runs.lastIndex = end;
  }
  return out + text.slice(done);
}

const DOUBLE_QUOTED = /"(?:[^"\\\n]|\\.)*"/g;
const CURLY_QUOTED = /“[^”\n]*”/g;
// 'x' but not the apostrophes of don't / users' (an opener follows no letter, a closer precedes none).
const SINGLE_QUOTED = /(?<![\w'])'(?=[^\s'])[^'\n]*?(?<=[^\s'])'(?![\w'])/g;
const URL = /\b[a-z][a-z0-9+.-]*:\/\/[^\s<>"'`\uE000-\uEEFF]+/gi;
// A "word" in the wide sense: letters, digits and the punctuation of paths, flags and names.
const TECHNICAL_WORD = /[\w./\\~@:+#$%=-]+/g;

/** Does this word carry something exact: a number, path, identifier, flag, version, address? */
export function isTechnical(word: string): boolean {
  if (/^[A-Za-z]+$/.test(word)) return /[a-z][A-Z]|[A-Z]{2}[a-z]/.test(word); // most prose words
  if (!/[A-Za-z0-9]/.test(word)) return false; // ---, ..., ~/ : punctuation only
  return (
    /\d/.test(word) || // numbers, versions, times, hashes, line:col
    word.includes("_") || // snake_case, SCREAMING_CASE, __dunder__
    /[a-z][A-Z]/.test(word) || // camelCase, PascalCase with a hump
    /[A-Z]{2}[a-z]/.test(word) || // HTTPServer
    /\w[./\\:@]\w/.test(word) || // dotted names, paths, host:port, user@host, C:\
    /^[-$@~/\\.#%]./.test(word) // --flags, $VARS, @scope, ~/x, /abs, ./rel, #123, %PATH%
  );
}

function maskUrls(text: string, m: Masker): string {
  return text.replace(URL, (url) => {
    let exact = url.replace(/[.,;:!?]+$/, "");
    // A closing parenthesis belongs to the URL only if it opened one: (see https://x.y/z)
    while (exact.endsWith(")") && count(exact, "(") < count(exact, ")")) exact = exact.slice(0, -1);
    return m.mask(exact) + url.slice(exact.length);
  });
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

/**
 * Quoted strings and URLs inside prose. Runs on text whose fences and inline code are already
 * masked. Quoted strings first (they may hold URLs).
 */
export function maskQuotesAndUrls(text: string, m: Masker): string {
  let t = text;
  if (t.includes('"')) t = m.maskMatches(t, DOUBLE_QUOTED);
  if (t.includes("“")) t = m.maskMatches(t, CURLY_QUOTED);
  if (t.includes("'")) t = m.maskMatches(t, SINGLE_QUOTED);
  if (t.includes("://")) t = maskUrls(t, m);
  return t;
}
