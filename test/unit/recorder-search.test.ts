import { describe, expect, it } from "vitest";
import { ftsQuery, pgTsQuery } from "../../src/recorder/search-query.js";

describe("logs search queries on PostgreSQL", () => {
  it("plain words: each term a phrase of its letter-and-digit runs, all of them required", () => {
    expect(pgTsQuery(ftsQuery("tokenizer"))).toBe("'tokenizer'");
    expect(pgTsQuery(ftsQuery("Split lexer.ts"))).toBe("'split' & ('lexer' <-> 'ts')");
    expect(pgTsQuery(ftsQuery(`it's "quoted" foo-bar`))).toBe(
      "('it' <-> 's') & 'quoted' & ('foo' <-> 'bar')",
    );
    expect(pgTsQuery(ftsQuery("Café ÜBER 42"))).toBe("'café' & 'über' & '42'");
    // Nothing searchable at all: no query (nothing matches), not an error.
    expect(pgTsQuery(ftsQuery("--- ..."))).toBeNull();
  });

  it("FTS5 syntax (--raw) keeps its meaning and precedence", () => {
    expect(pgTsQuery("tokenizer OR flaky")).toBe("'tokenizer' | 'flaky'");
    expect(pgTsQuery("the NOT flaky")).toBe("'the' & ! 'flaky'");
    expect(pgTsQuery('"flaky test" OR (ancient NOT lexer)')).toBe(
      "('flaky' <-> 'test') | ( 'ancient' & ! 'lexer' )",
    );
    expect(pgTsQuery("tok* AND lex")).toBe("'tok':* & 'lex'");
    expect(pgTsQuery('"lexer.t"*')).toBe("('lexer' <-> 't':*)");
    expect(pgTsQuery("a (b OR c)")).toBe("'a' & ( 'b' | 'c' )");
  });

  it("refuses what only FTS5 has, and unbalanced quotes", () => {
    expect(() => pgTsQuery('unbalanced "quote')).toThrow(/unterminated string/);
    expect(() => pgTsQuery("prompt:tokenizer")).toThrow(/column filters, NEAR and \^/);
    expect(() => pgTsQuery("NEAR(a b)")).toThrow(/not supported on PostgreSQL/);
    expect(() => pgTsQuery("^start")).toThrow(/not supported on PostgreSQL/);
    expect(pgTsQuery("NEAR miss")).toBe("'near' & 'miss'");
  });
});
