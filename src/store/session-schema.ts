import type { Migration } from "./db.js";

// gateway.db's sessions tables, as they shipped (append only; store/schema.ts orders them).
export const SESSION_MIGRATIONS: readonly Migration[] = [
  (db) =>
    db.exec(`
      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        cli TEXT NOT NULL CHECK (cli IN ('claude', 'codex', 'gemini')),
        native_id TEXT,
        started INTEGER NOT NULL DEFAULT 0,
        cwd TEXT,
        model TEXT,
        description TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_used_at TEXT NOT NULL,
        request_count INTEGER NOT NULL DEFAULT 0,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cache_read_tokens INTEGER NOT NULL DEFAULT 0,
        cache_write_tokens INTEGER NOT NULL DEFAULT 0,
        reasoning_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0
      );
      CREATE UNIQUE INDEX sessions_native ON sessions (cli, native_id);
      CREATE TABLE active_sessions (
        cli TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE
      );
      -- Remembered so that using a deleted session says so, instead of "unknown".
      CREATE TABLE deleted_sessions (id TEXT PRIMARY KEY, cli TEXT NOT NULL, deleted_at TEXT NOT NULL);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `),
];

/**
 * The first migration let `sessions.cli` hold only the first three CLIs; which CLIs exist is the
 * provider table's to say. SQLite cannot drop a CHECK: the table is rebuilt, with active_sessions
 * (whose foreign key would otherwise cascade the drop) saved and restored around it.
 */
export const SESSIONS_ANY_CLI_MIGRATION: Migration = (db) =>
  db.exec(`
    CREATE TEMP TABLE active_saved AS SELECT * FROM active_sessions;
    DROP TABLE active_sessions;
    CREATE TABLE sessions_any (
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
      input_tokens INTEGER NOT NULL DEFAULT 0,
      output_tokens INTEGER NOT NULL DEFAULT 0,
      cache_read_tokens INTEGER NOT NULL DEFAULT 0,
      cache_write_tokens INTEGER NOT NULL DEFAULT 0,
      reasoning_tokens INTEGER NOT NULL DEFAULT 0,
      cost_usd REAL NOT NULL DEFAULT 0
    );
    INSERT INTO sessions_any SELECT * FROM sessions;
    DROP TABLE sessions;
    ALTER TABLE sessions_any RENAME TO sessions;
    CREATE UNIQUE INDEX sessions_native ON sessions (cli, native_id);
    CREATE TABLE active_sessions (
      cli TEXT PRIMARY KEY,
      session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE
    );
    INSERT INTO active_sessions SELECT * FROM active_saved;
    DROP TABLE active_saved;
  `);
