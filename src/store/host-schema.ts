import type { Migration } from "./db.js";

/**
 * Several hosts on one database (docs/POSTGRES.md): each instance row says on which machine (and
 * boot) its process runs and how long its lease lasts; each session, on which machine its CLI
 * keeps the session's files; open jobs with a cancel request are found by their owner at a glance.
 * The same statements serve SQLite (GATEWAY_MIGRATIONS) and PostgreSQL (GATEWAY_PG_MIGRATIONS).
 */
export const HOSTS_SQL = `
  ALTER TABLE instances ADD COLUMN hostname TEXT;
  ALTER TABLE instances ADD COLUMN boot_id TEXT;
  ALTER TABLE instances ADD COLUMN lease_ms INTEGER;
  ALTER TABLE sessions ADD COLUMN host TEXT;
  CREATE INDEX jobs_cancel_requested ON jobs (owner)
    WHERE cancel_requested = 1 AND status IN ('queued', 'running');
`;

export const HOSTS_MIGRATION: Migration = (db) => db.exec(HOSTS_SQL);
