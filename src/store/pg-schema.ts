import { HOSTS_SQL } from "./host-schema.js";
import type { PgMigration } from "./postgres.js";

/**
 * The `gateway` schema's migrations on PostgreSQL (sessions, jobs, job output, tokens), in the
 * order they shipped. Append only. Version 1 is gateway.db's schema as of its migration 11, with
 * PostgreSQL's types: BIGINT for epoch milliseconds and character counts, flags kept as 0/1
 * integers so that the stores' SQL reads the same on both engines, and `seq` where SQLite's rowid
 * gives an insertion order.
 */
export const GATEWAY_PG_MIGRATIONS: readonly PgMigration[] = [
  `
  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    cli TEXT NOT NULL,
    native_id TEXT,
    started INTEGER NOT NULL DEFAULT 0,
    cwd TEXT,
    model TEXT,
    description TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT NOT NULL,
    request_count INTEGER NOT NULL DEFAULT 0,
    input_tokens BIGINT NOT NULL DEFAULT 0,
    output_tokens BIGINT NOT NULL DEFAULT 0,
    cache_read_tokens BIGINT NOT NULL DEFAULT 0,
    cache_write_tokens BIGINT NOT NULL DEFAULT 0,
    reasoning_tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
    owner TEXT
  );
  CREATE UNIQUE INDEX sessions_native ON sessions (cli, native_id);
  CREATE TABLE active_sessions (
    cli TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE
  );
  CREATE TABLE owner_active_sessions (
    owner TEXT NOT NULL,
    cli TEXT NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    PRIMARY KEY (owner, cli)
  );
  CREATE TABLE deleted_sessions (
    id TEXT PRIMARY KEY,
    cli TEXT NOT NULL,
    deleted_at TEXT NOT NULL,
    owner TEXT
  );
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    pid_start TEXT,
    started_at TEXT NOT NULL,
    heartbeat_at BIGINT NOT NULL
  );
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    seq BIGSERIAL,
    cli TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    pid INTEGER,
    pid_start TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    started_at TEXT,
    ended_at TEXT,
    result TEXT,
    error_category TEXT,
    error_message TEXT,
    stdout_chars BIGINT NOT NULL DEFAULT 0,
    stderr_chars BIGINT NOT NULL DEFAULT 0,
    parent_id TEXT,
    client_token TEXT
  );
  CREATE INDEX jobs_open ON jobs (status, owner);
  CREATE INDEX jobs_ended ON jobs (ended_at);
  CREATE INDEX jobs_parent ON jobs (parent_id) WHERE parent_id IS NOT NULL;
  CREATE INDEX jobs_client_token ON jobs (client_token, status) WHERE client_token IS NOT NULL;
  CREATE TABLE job_output (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    stream TEXT NOT NULL,
    start BIGINT NOT NULL,
    "end" BIGINT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (job_id, stream, start)
  );

  CREATE TABLE tokens (
    name TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    clis TEXT,
    max_policy TEXT,
    concurrency INTEGER,
    created_at TEXT NOT NULL
  );
  `,
  // 2: several hosts (store/host-schema.ts).
  HOSTS_SQL,
];
