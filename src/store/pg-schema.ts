import type { PgMigration } from "./postgres.js";

/**
 * The `gateway` schema's migrations on PostgreSQL (sessions, jobs, job output, tokens), in the
 * order they shipped. Append only. Version 1 is gateway.db's schema as of its migration 11.
 */
export const GATEWAY_PG_MIGRATIONS: readonly PgMigration[] = [];
