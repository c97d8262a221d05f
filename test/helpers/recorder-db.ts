import Database from "better-sqlite3";
import type { RecorderLocation } from "../../src/recorder/config.js";
import { ftsQuery, pgTsQuery } from "../../src/recorder/search-query.js";
import { RECORDER_SCHEMA } from "../../src/recorder/store.js";
import { PostgresDb } from "../../src/store/postgres.js";
import type { SqlValue } from "../../src/store/sql.js";
import { freshPgDatabase, type Backend } from "./postgres.js";

/**
 * The flight record on one backend, for tests: where a Recorder opens it, and the test's own
 * connection to look at it (or to plant rows) with SQL both engines read alike.
 */
export interface RecordDb {
  backend: Backend;
  /** What Recorder.open takes: the logs.db path, or the PostgreSQL location. */
  where: string | RecorderLocation;
  /** The env that points the gateway and `logs` at it. */
  env: Record<string, string>;
  rows(sql?: string, ...params: SqlValue[]): Record<string, any>[];
  run(sql: string, ...params: SqlValue[]): void;
  /** Ids of the indexed calls whose prompt or response hold these words, in id order. */
  match(words: string): number[];
  close(): void;
}

export const PG_TIMEOUTS = { statementTimeoutMs: 10_000, connectTimeoutMs: 5_000 };

/** The record at `sqlitePath`, or in a fresh PostgreSQL database. */
export async function recordDb(backend: Backend, sqlitePath: string): Promise<RecordDb> {
  if (backend === "sqlite") {
    const use = <T>(readonly: boolean, fn: (db: Database.Database) => T): T => {
      const db = new Database(sqlitePath, { readonly });
      try {
        return fn(db);
      } finally {
        db.close();
      }
    };
    return {
      backend,
      where: sqlitePath,
      env: { LLM_GATEWAY_LOGS_DB: sqlitePath },
      rows: (sql = "SELECT * FROM calls ORDER BY id", ...params) =>
        use(true, (db) => db.prepare(sql).all(...params) as Record<string, any>[]),
      run: (sql, ...params) => use(false, (db) => void db.prepare(sql).run(...params)),
      match: (words) =>
        use(true, (db) =>
          (
            db
              .prepare(`SELECT rowid AS id FROM calls_fts WHERE calls_fts MATCH ? ORDER BY rowid`)
              .all(ftsQuery(words)) as { id: number }[]
          ).map((r) => r.id),
        ),
      close: () => {},
    };
  }
  const url = await freshPgDatabase();
  let db: PostgresDb | undefined;
  const conn = () =>
    (db ??= new PostgresDb({
      url,
      schema: RECORDER_SCHEMA,
      applicationName: "recorder test",
      ...PG_TIMEOUTS,
    }));
  return {
    backend,
    where: { postgres: { url, ...PG_TIMEOUTS } },
    env: { LLM_GATEWAY_DATABASE_URL: url },
    rows: (sql = "SELECT * FROM calls ORDER BY id", ...params) =>
      conn()
        .prepare(sql)
        .all(...params) as Record<string, any>[],
    run: (sql, ...params) =>
      void conn()
        .prepare(sql)
        .run(...params),
    match: (words) =>
      (
        conn()
          .prepare(`SELECT id FROM calls_fts WHERE document @@ to_tsquery('simple', ?) ORDER BY id`)
          .all(pgTsQuery(ftsQuery(words))) as { id: number }[]
      ).map((r) => r.id),
    close: () => db?.close(),
  };
}
