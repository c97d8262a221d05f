import type { Migration } from "./db.js";

// gateway.db's jobs tables, as they shipped (append only; store/schema.ts orders them).
export const JOB_MIGRATIONS: readonly Migration[] = [
  (db) =>
    db.exec(`
      -- One row per running gateway process; jobs are owned by one.
      CREATE TABLE instances (
        id TEXT PRIMARY KEY,
        pid INTEGER NOT NULL,
        pid_start TEXT,
        started_at TEXT NOT NULL,
        heartbeat_at INTEGER NOT NULL
      );
      CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
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
        stdout_chars INTEGER NOT NULL DEFAULT 0,
        stderr_chars INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX jobs_open ON jobs (status, owner);
      CREATE INDEX jobs_ended ON jobs (ended_at);
      -- Output is appended in chunks, never rewritten; [start, end) in UTF-16 code units.
      CREATE TABLE job_output (
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        stream TEXT NOT NULL,
        start INTEGER NOT NULL,
        end INTEGER NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY (job_id, stream, start)
      ) WITHOUT ROWID;
    `),
  // Chunks are up to 64 K characters: a rowid table stores such rows faster than WITHOUT ROWID.
  (db) =>
    db.exec(`
      CREATE TABLE job_output_v2 (
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        stream TEXT NOT NULL,
        start INTEGER NOT NULL,
        end INTEGER NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY (job_id, stream, start)
      );
      INSERT INTO job_output_v2 SELECT job_id, stream, start, end, text FROM job_output;
      DROP TABLE job_output;
      ALTER TABLE job_output_v2 RENAME TO job_output;
    `),
];

/** consult and review: a parent job (cli "consult"/"review") whose CLI jobs point to it. */
export const PARENT_JOB_MIGRATION: Migration = (db) =>
  db.exec(`
    ALTER TABLE jobs ADD COLUMN parent_id TEXT;
    CREATE INDEX jobs_parent ON jobs (parent_id) WHERE parent_id IS NOT NULL;
  `);
