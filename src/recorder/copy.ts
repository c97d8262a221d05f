import type { SqliteDb, SqlDb, SqlValue } from "../store/sql.js";
import { SearchIndexer } from "./search-index.js";

/**
 * The one-shot copy of an existing logs.db into PostgreSQL's `recorder` schema (migrated, with no
 * calls yet): every row of instances, calls (their ids kept) and usage_daily, in one transaction,
 * then the search index built for every ended call. The usage totals are copied, not recounted:
 * logs.db keeps the totals of calls it pruned for size. Instances come without a lease, so calls
 * a stopped gateway left `started` end `interrupted` at the next gateway's check (instances.ts).
 * Gateways should not be writing to the target meanwhile: the copy refuses a schema with calls.
 */

/** Rows per INSERT, and at most this many bytes of text in one (long prompts and answers). */
const BATCH_ROWS = 200;
const BATCH_BYTES = 8 * 1024 * 1024;

/** Copies `from` into `to`; returns the rows copied per table (calls_fts: calls indexed). */
export function copyRecorderToPostgres(from: SqliteDb, to: SqlDb): Record<string, number> {
  if (to.dialect !== "postgres") throw new Error("the copy's target must be PostgreSQL");
  const tables = ["instances", "calls", "usage_daily"];
  for (const table of tables)
    if (columnsOf(from, table).length === 0)
      throw new Error(`the source is not a flight recorder database (no ${table} table)`);
  return to.transaction(() => {
    if (to.prepare(`SELECT 1 AS one FROM calls LIMIT 1`).get())
      throw new Error(
        "the PostgreSQL flight recorder (schema recorder) already has calls: the copy runs once, into an empty schema; nothing was copied",
      );
    const copied: Record<string, number> = {};
    copied.instances = copyTable(from, to, "instances", "id");
    copied.calls = copyTable(from, to, "calls", "id");
    // The insert trigger counted the copied calls into usage_daily: the source's totals replace
    // them (they include calls pruned from logs.db since).
    to.exec(`DELETE FROM usage_daily`);
    copied.usage_daily = copyTable(from, to, "usage_daily", "day, cli, model");
    to.exec(
      `SELECT setval(pg_get_serial_sequence('calls', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM calls), false)`,
    );
    const indexer = new SearchIndexer(to, (err) => {
      throw err;
    });
    let indexed = 0;
    for (let n = indexer.indexPending(); n > 0; n = indexer.indexPending()) indexed += n;
    copied.calls_fts = indexed;
    return copied;
  });
}

function columnsOf(db: SqlDb, table: string): string[] {
  return (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map(
    (c) => c.name,
  );
}

/** Copies the columns both sides have, in batches; returns the rows copied. */
function copyTable(from: SqliteDb, to: SqlDb, table: string, order: string): number {
  const target = new Set(
    (
      to
        .prepare(
          `SELECT column_name AS name FROM information_schema.columns
           WHERE table_schema = current_schema() AND table_name = ?`,
        )
        .all(table) as { name: string }[]
    ).map((c) => c.name),
  );
  const source = columnsOf(from, table);
  const unknown = source.filter((c) => !target.has(c));
  if (unknown.length)
    throw new Error(
      `${table} has columns the PostgreSQL schema lacks (${unknown.join(", ")}): a gateway newer than this one wrote that logs.db`,
    );
  const rowSql = `(${source.map(() => "?").join(", ")})`;
  let batch: SqlValue[][] = [];
  let bytes = 0;
  let count = 0;
  const flush = () => {
    if (batch.length === 0) return;
    to.prepare(
      `INSERT INTO ${table} (${source.join(", ")}) VALUES ${batch.map(() => rowSql).join(", ")}`,
    ).run(...batch.flat());
    count += batch.length;
    batch = [];
    bytes = 0;
  };
  const rows = from.handle.prepare(`SELECT ${source.join(", ")} FROM ${table} ORDER BY ${order}`);
  for (const row of rows.raw().iterate() as Iterable<SqlValue[]>) {
    batch.push(row);
    for (const value of row) if (typeof value === "string") bytes += value.length;
    if (batch.length >= BATCH_ROWS || bytes >= BATCH_BYTES) flush();
  }
  flush();
  return count;
}
