/**
 * `logs search` queries. SQLite searches with FTS5; PostgreSQL with a tsquery over the same words
 * (pg-schema.ts: runs of letters and digits, case-folded). The FTS5 syntax `--raw` takes is
 * translated for PostgreSQL: words, "phrases", prefix*, AND, OR, NOT and parentheses; column
 * filters (prompt:), NEAR() and ^ are FTS5's alone and refused there.
 */

/** Plain words become an AND of quoted terms, so punctuation never reads as FTS5 syntax. */
export function ftsQuery(text: string): string {
  return text
    .split(/\s+/)
    .filter(Boolean)
    .map((t) => `"${t.replace(/"/g, '""')}"`)
    .join(" ");
}

/** The words FTS5's unicode61 tokenizer (and search_words in PostgreSQL) finds in a text. */
const words = (text: string) =>
  text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);

type Token =
  | { kind: "op"; op: "AND" | "OR" | "NOT" | "(" | ")" }
  | { kind: "term"; words: string[]; prefix: boolean };

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const ch = query[i]!;
    if (/\s/.test(ch)) i++;
    else if (ch === "(" || ch === ")") {
      tokens.push({ kind: "op", op: ch });
      i++;
    } else if (ch === '"') {
      let text = "";
      for (i++; ; i++) {
        if (i >= query.length) throw new Error(`unterminated string in ${JSON.stringify(query)}`);
        if (query[i] === '"') {
          if (query[i + 1] !== '"') break;
          i++;
        }
        text += query[i];
      }
      i++;
      const prefix = query[i] === "*";
      if (prefix) i++;
      tokens.push({ kind: "term", words: words(text), prefix });
    } else {
      let bare = "";
      while (i < query.length && !/[\s()"]/.test(query[i]!)) bare += query[i++];
      if (bare === "AND" || bare === "OR" || bare === "NOT") tokens.push({ kind: "op", op: bare });
      else if (/[:^]/.test(bare) || (bare === "NEAR" && query[i] === "("))
        throw new Error(`"${bare}": column filters, NEAR and ^ are not supported on PostgreSQL`);
      else {
        const prefix = bare.endsWith("*");
        tokens.push({ kind: "term", words: words(prefix ? bare.slice(0, -1) : bare), prefix });
      }
    }
  }
  return tokens;
}

/**
 * An FTS5 query as PostgreSQL tsquery text (for to_tsquery('simple', ...)); null when it holds no
 * word at all (nothing matches). Adjacent terms are ANDed, as in FTS5; `a NOT b` is `a & !b`.
 * The precedence is FTS5's: NOT, then AND, then OR.
 */
export function pgTsQuery(query: string): string | null {
  const out: string[] = [];
  let operand = false; // the last thing written can be ANDed to
  for (const t of tokenize(query)) {
    if (t.kind === "term") {
      if (t.words.length === 0) continue;
      const phrase = t.words.map((w) => `'${w}'`);
      if (t.prefix) phrase[phrase.length - 1] += ":*";
      if (operand) out.push("&");
      out.push(phrase.length > 1 ? `(${phrase.join(" <-> ")})` : phrase[0]!);
      operand = true;
    } else if (t.op === "(") {
      if (operand) out.push("&");
      out.push("(");
      operand = false;
    } else if (t.op === ")") {
      out.push(")");
      operand = true;
    } else {
      out.push(t.op === "AND" ? "&" : t.op === "OR" ? "|" : "& !");
      operand = false;
    }
  }
  const text = out.join(" ");
  return text.includes("'") ? text : null;
}
