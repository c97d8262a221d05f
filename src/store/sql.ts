import type { Db } from "./db.js";

/**
 * The one store interface the stores are written against, with two implementations: SQLite
 * (better-sqlite3, the embedded default) and PostgreSQL (`postgres.ts`, when
 * LLM_GATEWAY_DATABASE_URL is set). Both are synchronous, as better-sqlite3 is, so the stores and
 * everything above them do not know which one they have. Stores write `?` placeholders; where the
 * engines' SQL differs they ask `dialect`.
 */
export type Dialect = "sqlite" | "postgres";

export type SqlValue = string | number | bigint | null | Buffer;

export interface SqlStatement {
  /** `changes`: rows inserted, updated or deleted. */
  run(...params: SqlValue[]): { changes: number };
  get(...params: SqlValue[]): unknown;
  all(...params: SqlValue[]): unknown[];
}

export interface SqlDb {
  readonly dialect: Dialect;
  /** The statement for this text, prepared once on first use. */
  prepare(sql: string): SqlStatement;
  /** Runs statements without parameters (migrations, maintenance). */
  exec(sql: string): void;
  /**
   * Runs `fn` in one write transaction: all of it or none. Writers are serialized as SQLite's
   * IMMEDIATE transactions are (PostgreSQL: an advisory lock per schema), so read-then-write
   * inside `fn` is safe across processes and hosts. Nested calls join the outer transaction.
   */
  transaction<T>(fn: () => T): T;
  close(): void;
}

/** SQLite through better-sqlite3; `handle` for what only SQLite has (pragmas, page counts). */
export class SqliteDb implements SqlDb {
  readonly dialect = "sqlite" as const;
  private readonly statements = new Map<string, SqlStatement>();

  constructor(readonly handle: Db) {}

  prepare(sql: string): SqlStatement {
    let statement = this.statements.get(sql);
    if (!statement)
      this.statements.set(sql, (statement = this.handle.prepare(sql) as SqlStatement));
    return statement;
  }

  exec(sql: string): void {
    this.handle.exec(sql);
  }

  transaction<T>(fn: () => T): T {
    if (this.handle.inTransaction) return fn();
    return this.handle.transaction(fn).immediate();
  }

  close(): void {
    this.handle.close();
  }
}

/** `?` placeholders as PostgreSQL's `$1, $2, ...` (none of ours sit inside quotes or comments). */
export function positional(sql: string): string {
  let n = 0;
  let out = "";
  let quote: string | null = null;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === "?") {
      out += `$${++n}`;
      continue;
    }
    out += ch;
  }
  return out;
}
