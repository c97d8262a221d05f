import Database from "better-sqlite3";
import type { PostgresSettings } from "../store/database-config.js";
import { PostgresDb } from "../store/postgres.js";
import { narrowIfPresent } from "../store/private-files.js";
import { SqliteDb, type SqlDb, type SqlValue } from "../store/sql.js";
import { ftsQuery, pgTsQuery } from "./search-query.js";
import { RECORDER_SCHEMA } from "./store.js";

export { ftsQuery } from "./search-query.js";

/**
 * The flight recorder's read model: the questions `logs` (and any later reader: `logs datasette`,
 * an HTTP endpoint) asks of the record, answered from its tables and views, on SQLite (logs.db)
 * or PostgreSQL (the `recorder` schema) alike. Never writes: opened read-only.
 */

/** Which calls: every field given must match (`session`: the gateway's or the CLI's session id). */
export interface CallFilters {
  cli?: string;
  model?: string;
  session?: string;
  status?: string;
  job?: string;
}

/** One call in a list: its small columns and the start of its prompt (or, searched, a snippet). */
export interface CallSummary {
  id: number;
  correlation_id: string;
  started_at: string;
  duration_ms: number | null;
  status: string;
  cli: string;
  model: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
  cost_estimated: number;
  error_category: string | null;
  gateway_session_id: string | null;
  native_session_id: string | null;
  job_id: string | null;
  prompt_start: string | null;
  snippet?: string;
}

/** One call in full: every column, its JSON columns parsed. */
export type CallRecord = Record<string, unknown>;

/** Totals of one CLI and model (and, by day, one UTC day). */
export interface UsageRow {
  day?: string;
  cli: string;
  model: string | null;
  calls: number;
  completed: number;
  failed: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
  estimated_cost_calls: number;
  avg_duration_ms: number | null;
}

export interface UsageQuery {
  /** The last this many UTC days, today included. */
  days: number;
  /** One row per day, CLI and model (else per CLI and model). */
  byDay: boolean;
  cli?: string;
  model?: string;
}

export interface LogsReadModel {
  /** The most recent calls, newest first. */
  list(filters: CallFilters, limit: number): CallSummary[];
  /**
   * Ended calls whose prompt or response match, newest first: every word of `text` (each
   * whitespace-separated term a phrase), or with `raw` an FTS5 query (search-query.ts).
   */
  search(text: string, raw: boolean, filters: CallFilters, limit: number): CallSummary[];
  /** What reads a search query, for messages: "SQLite FTS5" or "PostgreSQL full-text search". */
  readonly searchEngine: string;
  /** Every row of a correlation id, else every call of a consultation, else the row with that id. */
  show(key: string): CallRecord[];
  /** Calls, tokens and cost per CLI and model, most expensive first (by day: newest day first). */
  usage(query: UsageQuery): UsageRow[];
  close(): void;
}

const SUMMARY = `calls.id, calls.correlation_id, calls.started_at, calls.duration_ms, calls.status,
  calls.cli, calls.model, calls.input_tokens, calls.output_tokens, calls.cost_usd,
  calls.cost_estimated, calls.error_category, calls.gateway_session_id, calls.native_session_id,
  calls.job_id, substr(calls.prompt, 1, 300) AS prompt_start`;

/** ts_headline's options: FTS5's snippet(…, '[', ']', '…', 12) as near as it goes. */
const HEADLINE = `'StartSel=[, StopSel=], MaxWords=12, MinWords=6, ShortWord=0, MaxFragments=1, FragmentDelimiter=…'`;
/** Long texts are cut before a snippet is made of them (ts_headline reads the whole text). */
const HEADLINE_CHARS = 20_000;

/** The record on either engine (`open…` below); the SQL they differ in asks `db.dialect`. */
export class LogsReader implements LogsReadModel {
  readonly searchEngine: string;

  constructor(private readonly db: SqlDb) {
    this.searchEngine = db.dialect === "sqlite" ? "SQLite FTS5" : "PostgreSQL full-text search";
  }

  list(f: CallFilters, limit: number): CallSummary[] {
    const w = where(f);
    return this.db
      .prepare(`SELECT ${SUMMARY} FROM calls WHERE ${w.sql} ORDER BY calls.id DESC LIMIT ?`)
      .all(...w.params, limit) as CallSummary[];
  }

  search(text: string, raw: boolean, f: CallFilters, limit: number): CallSummary[] {
    const w = where(f);
    const query = raw ? text : ftsQuery(text);
    if (this.db.dialect === "sqlite")
      return this.db
        .prepare(
          `SELECT ${SUMMARY}, snippet(calls_fts, -1, '[', ']', '…', 12) AS snippet
           FROM calls_fts JOIN calls ON calls.id = calls_fts.rowid
           WHERE calls_fts MATCH ? AND ${w.sql}
           ORDER BY calls_fts.rowid DESC LIMIT ?`,
        )
        .all(query, ...w.params, limit) as CallSummary[];
    const tsquery = pgTsQuery(query);
    if (tsquery === null) return [];
    const headline = (column: string) =>
      `ts_headline('simple', left(coalesce(calls.${column}, ''), ${HEADLINE_CHARS}), q.q, ${HEADLINE})`;
    return this.db
      .prepare(
        `WITH q AS (SELECT to_tsquery('simple', ?) AS q)
         SELECT ${SUMMARY},
           CASE WHEN to_tsvector('simple', search_words(calls.prompt)) @@ q.q
             THEN ${headline("prompt")} ELSE ${headline("response")} END AS snippet
         FROM q, calls_fts JOIN calls ON calls.id = calls_fts.id
         WHERE calls_fts.document @@ q.q AND ${w.sql}
         ORDER BY calls.id DESC LIMIT ?`,
      )
      .all(tsquery, ...w.params, limit) as CallSummary[];
  }

  show(key: string): CallRecord[] {
    const db = this.db;
    let rows = db
      .prepare(`SELECT * FROM calls WHERE correlation_id = ? ORDER BY id DESC`)
      .all(key) as CallRecord[];
    // A consult/review: all its calls, in the order they started (older logs.db lack the column).
    if (rows.length === 0 && this.hasConsultations())
      rows = db
        .prepare(`SELECT * FROM calls WHERE consultation_id = ? ORDER BY id`)
        .all(key) as CallRecord[];
    if (rows.length === 0 && /^\d+$/.test(key) && Number.isSafeInteger(Number(key)))
      rows = db.prepare(`SELECT * FROM calls WHERE id = ?`).all(Number(key)) as CallRecord[];
    for (const row of rows)
      for (const col of ["thinking", "approval_decision", "optimization"])
        if (typeof row[col] === "string") {
          try {
            row[col] = JSON.parse(row[col] as string);
          } catch {
            /* keep the text */
          }
        }
    return rows;
  }

  /**
   * From the totals the recorder's triggers keep per day, CLI and model (usage_daily): instant on
   * any number of calls. It counts calls that have ended (or were rejected).
   *
   * The columns are usage_by_day's (failed includes interrupted; the average leaves rejected calls
   * out), summed here rather than read from the view: the view rounds each day's cost and average
   * time, a sum of rounded values is not the rounded sum, and ordering by a rounded cost would
   * reorder rows that differ below a micro-dollar.
   */
  usage(q: UsageQuery): UsageRow[] {
    const since = new Date(Date.now() - (q.days - 1) * 86_400_000).toISOString().slice(0, 10);
    const params: SqlValue[] = [since];
    let filter = "";
    if (q.cli) {
      filter += " AND cli = ?";
      params.push(q.cli);
    }
    if (q.model) {
      filter += " AND model = ?";
      params.push(q.model);
    }
    const group = q.byDay ? "day, cli, model" : "cli, model";
    // PostgreSQL rounds to places only numeric values; its model order puts '' (NULL) first too.
    const cost = this.db.dialect === "postgres" ? "sum(cost_usd)::numeric" : "sum(cost_usd)";
    return this.db
      .prepare(
        `SELECT ${q.byDay ? "day," : ""} cli, nullif(model, '') AS model,
          sum(calls) AS calls,
          sum(completed) AS completed,
          sum(failed + interrupted) AS failed,
          sum(input_tokens) AS input_tokens,
          sum(output_tokens) AS output_tokens,
          sum(cache_read_tokens) AS cache_read_tokens,
          sum(cache_write_tokens) AS cache_write_tokens,
          sum(reasoning_tokens) AS reasoning_tokens,
          round(${cost}, 6) AS cost_usd,
          sum(estimated_cost_calls) AS estimated_cost_calls,
          cast(round(1.0 * sum(duration_ms) / nullif(sum(calls - rejected), 0)) AS INTEGER)
            AS avg_duration_ms
         FROM usage_daily WHERE day >= ?${filter}
         GROUP BY ${group} ORDER BY ${q.byDay ? "day DESC, " : ""}sum(cost_usd) DESC, sum(calls) DESC, cli, usage_daily.model`,
      )
      .all(...params) as UsageRow[];
  }

  close(): void {
    this.db.close();
  }

  private hasConsultations(): boolean {
    if (this.db.dialect === "postgres") return true;
    return (
      this.db.prepare(`SELECT name FROM pragma_table_info('calls')`).all() as { name: string }[]
    ).some((c) => c.name === "consultation_id");
  }
}

/** logs.db, read-only; where the WAL index cannot be opened read-only, a query-only connection. */
export function openSqliteLogs(path: string): LogsReader {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.prepare("SELECT 1 FROM sqlite_master LIMIT 1").get();
  } catch {
    db = new Database(path, { fileMustExist: true });
    db.pragma("query_only = ON");
  }
  db.pragma("busy_timeout = 5000");
  // Opening may create the -wal and -shm files: owner-only, like the database (they hold its pages).
  for (const file of [path, `${path}-wal`, `${path}-shm`]) narrowIfPresent(file);
  const isRecorder = db
    .prepare(
      `SELECT count(*) FROM sqlite_master WHERE name IN ('calls', 'usage_daily', 'calls_fts')`,
    )
    .pluck()
    .get();
  if (isRecorder !== 3) {
    db.close();
    throw new Error(`${path} is not a flight recorder database (no calls table)`);
  }
  return new LogsReader(new SqliteDb(db));
}

/**
 * The `recorder` schema of a PostgreSQL database, in read-only transactions (never migrated from
 * here); null when no gateway has recorded there yet.
 */
export function openPostgresLogs(settings: PostgresSettings): LogsReader | null {
  const db = new PostgresDb({
    ...settings,
    schema: RECORDER_SCHEMA,
    applicationName: "llm-cli-gateway logs",
  });
  try {
    db.exec(`SET default_transaction_read_only = on`);
    const { calls } = db.prepare(`SELECT to_regclass('calls')::text AS calls`).get() as {
      calls: string | null;
    };
    if (calls === null) {
      db.close();
      return null;
    }
    return new LogsReader(db);
  } catch (err) {
    db.close();
    throw err;
  }
}

function where(f: CallFilters, alias = "calls"): { sql: string; params: SqlValue[] } {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  const eq = (column: string, value: string | undefined) => {
    if (!value) return;
    parts.push(`${alias}.${column} = ?`);
    params.push(value);
  };
  eq("cli", f.cli);
  eq("model", f.model);
  eq("status", f.status);
  eq("job_id", f.job);
  if (f.session) {
    // Each id from its index, no table lookups: fast even for a session of thousands of calls.
    parts.push(
      `${alias}.id IN (SELECT id FROM calls WHERE gateway_session_id = ? UNION ALL SELECT id FROM calls WHERE native_session_id = ?)`,
    );
    params.push(f.session, f.session);
  }
  return { sql: parts.length ? parts.join(" AND ") : "1 = 1", params };
}
