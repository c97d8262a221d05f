import { openDatabase } from "../store/db.js";
import { openPostgres } from "../store/postgres.js";
import { SqliteDb, type SqlDb } from "../store/sql.js";
import type { RecorderLocation } from "./config.js";
import { RECORDER_PG_MIGRATIONS } from "./pg-schema.js";
import { RECORDER_MIGRATIONS, useIncrementalVacuum } from "./schema.js";

/** The PostgreSQL schema of the flight recorder's tables (the gateway store's is `gateway`). */
export const RECORDER_SCHEMA = "recorder";

/** Opens the recorder's tables where `where` says and brings them to the latest migration. */
export function openRecorderDb(where: RecorderLocation): SqlDb {
  if ("postgres" in where)
    return openPostgres(
      {
        ...where.postgres,
        schema: RECORDER_SCHEMA,
        applicationName: "llm-cli-gateway recorder",
      },
      RECORDER_PG_MIGRATIONS,
    );
  const db = openDatabase(where.sqlite, RECORDER_MIGRATIONS);
  try {
    // Bounds the WAL file after checkpoints (the setting is per connection).
    db.pragma("journal_size_limit = 67108864");
    useIncrementalVacuum(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return new SqliteDb(db);
}
