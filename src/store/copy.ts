import type { SqlDb, SqliteDb, SqlValue } from "./sql.js";

/**
 * The tables a one-shot copy of gateway.db takes, parents before children (job_output references
 * jobs, the active-session tables reference sessions). `instances` is left out: a lease belongs
 * to a live process on the old host, not to the store.
 */
export const COPIED_GATEWAY_TABLES = [
  "sessions",
  "active_sessions",
  "owner_active_sessions",
  "deleted_sessions",
  "meta",
  "jobs",
  "job_output",
  "tokens",
] as const;

/** Rows per INSERT: a few round trips per thousand rows, far below PostgreSQL's 65,535 parameters. */
const BATCH_ROWS = 200;

/**
 * Copies every row of an existing gateway.db into the migrated PostgreSQL gateway schema, in one
 * transaction: all of it or nothing. Returns the rows copied per table. Refuses a target that
 * already holds rows (other than `meta`, which the source's values overwrite): merging two
 * stores' sessions and jobs is not a copy. Jobs keep their insertion order: `seq` is numbered
 * in SQLite's rowid order and the sequence moved past it.
 */
export function copyGatewayToPostgres(from: SqliteDb, to: SqlDb): Record<string, number> {
  if (to.dialect !== "postgres")
    throw new Error("copyGatewayToPostgres: the target is not PostgreSQL");
  return to.transaction(() => {
    const occupied = COPIED_GATEWAY_TABLES.filter((t) => t !== "meta")
      .map((t) => [t, count(to, t)] as const)
      .filter(([, n]) => n > 0);
    if (occupied.length)
      throw new Error(
        `the PostgreSQL gateway schema already holds ${occupied.map(([t, n]) => `${n} ${t}`).join(", ")}: ` +
          "copy gateway.db only into an empty one (a new database, or DROP SCHEMA gateway CASCADE first)",
      );
    const copied: Record<string, number> = {};
    for (const table of COPIED_GATEWAY_TABLES) copied[table] = copyTable(from, to, table);
    if (copied.jobs)
      to.prepare(
        `SELECT setval(pg_get_serial_sequence('jobs', 'seq'), (SELECT max(seq) FROM jobs))`,
      ).get();
    return copied;
  });
}

function count(db: SqlDb, table: string): number {
  return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}

/** The target's columns that the source has too (the source may predate a column). */
function sharedColumns(from: SqliteDb, to: SqlDb, table: string): string[] {
  const source = new Set(
    (
      from.handle.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]
    ).map((c) => c.name),
  );
  if (!source.size) return [];
  const target = to
    .prepare(
      `SELECT column_name AS name FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`,
    )
    .all(table) as { name: string }[];
  return target.map((c) => c.name).filter((c) => source.has(c) && c !== "seq");
}

function copyTable(from: SqliteDb, to: SqlDb, table: string): number {
  const columns = sharedColumns(from, to, table);
  if (!columns.length) return 0; // a gateway.db from before this table
  const isJobs = table === "jobs";
  const targetColumns = isJobs ? [...columns, "seq"] : columns;
  const quoted = targetColumns.map((c) => `"${c}"`).join(", ");
  const conflict =
    table === "meta" ? " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value" : "";
  const rows = from.handle
    .prepare(`SELECT ${columns.map((c) => `"${c}"`).join(", ")} FROM ${table} ORDER BY rowid`)
    .raw()
    .iterate() as IterableIterator<SqlValue[]>;
  let batch: SqlValue[][] = [];
  let copied = 0;
  const flush = () => {
    if (!batch.length) return;
    const one = `(${targetColumns.map(() => "?").join(", ")})`;
    to.prepare(
      `INSERT INTO ${table} (${quoted}) VALUES ${batch.map(() => one).join(", ")}${conflict}`,
    ).run(...batch.flat());
    batch = [];
  };
  for (const row of rows) {
    copied++;
    batch.push(isJobs ? [...row, copied] : row);
    if (batch.length === BATCH_ROWS) flush();
  }
  flush();
  return copied;
}
