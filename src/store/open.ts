import { join } from "node:path";
import { openDatabase } from "./db.js";
import type { PostgresSettings } from "./database-config.js";
import { GATEWAY_PG_MIGRATIONS } from "./pg-schema.js";
import { openPostgres } from "./postgres.js";
import { GATEWAY_MIGRATIONS } from "./schema.js";
import { SqliteDb, type SqlDb } from "./sql.js";

/** Where gateway.db's tables live: a SQLite file, or the `gateway` schema of a PostgreSQL database. */
export type GatewayLocation = { sqlite: string } | { postgres: PostgresSettings };

export const GATEWAY_SCHEMA = "gateway";

/** PostgreSQL when LLM_GATEWAY_DATABASE_URL is set, else gateway.db in the state directory. */
export function gatewayLocation(config: {
  home: string;
  postgres: PostgresSettings | null;
}): GatewayLocation {
  return config.postgres
    ? { postgres: config.postgres }
    : { sqlite: join(config.home, "gateway.db") };
}

/**
 * Opens the sessions, jobs and tokens store and brings it to the latest migration. `main`: the
 * connection that answers MCP calls (SQLite: it leaves checkpoints to the output thread).
 */
export function openGatewayStore(where: GatewayLocation, role = "main"): SqlDb {
  if ("postgres" in where)
    return openPostgres(
      { ...where.postgres, schema: GATEWAY_SCHEMA, applicationName: `llm-cli-gateway ${role}` },
      GATEWAY_PG_MIGRATIONS,
    );
  const db = openDatabase(where.sqlite, GATEWAY_MIGRATIONS);
  // Checkpoints copy the WAL into the database: the output thread, which writes most, does them
  // (SQLite's default, every 1,000 pages); the main thread only as a backstop, off the MCP path.
  if (role === "main") db.pragma("wal_autocheckpoint = 16000");
  // Pruned job output is overwritten, not left in free pages.
  db.pragma("secure_delete = ON");
  return new SqliteDb(db);
}
