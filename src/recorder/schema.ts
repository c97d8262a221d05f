import type { Db, Migration } from "../store/db.js";

/**
 * logs.db's schema: tables, indexes, triggers and views. docs/SCHEMA.md documents every column.
 * Never edit a migration that has shipped: add another (docs/SCHEMA.md follows them).
 */

/** Adds one ended call (the trigger's `new` row) to its day's totals. */
const usageUpsert = `
        INSERT INTO usage_daily (day, cli, model, calls, completed, failed, interrupted, canceled,
          rejected, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
          reasoning_tokens, cost_usd, estimated_cost_calls, duration_ms, max_duration_ms)
        VALUES (substr(new.started_at, 1, 10), new.cli, coalesce(new.model, ''), 1,
          new.status = 'completed', new.status = 'failed', new.status = 'interrupted',
          new.status = 'canceled', new.status = 'rejected',
          coalesce(new.input_tokens, 0), coalesce(new.output_tokens, 0),
          coalesce(new.cache_read_tokens, 0), coalesce(new.cache_write_tokens, 0),
          coalesce(new.reasoning_tokens, 0), coalesce(new.cost_usd, 0), new.cost_estimated,
          coalesce(new.duration_ms, 0), coalesce(new.duration_ms, 0))
        ON CONFLICT (day, cli, model) DO UPDATE SET
          calls = calls + 1,
          completed = completed + excluded.completed,
          failed = failed + excluded.failed,
          interrupted = interrupted + excluded.interrupted,
          canceled = canceled + excluded.canceled,
          rejected = rejected + excluded.rejected,
          input_tokens = input_tokens + excluded.input_tokens,
          output_tokens = output_tokens + excluded.output_tokens,
          cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
          cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
          reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
          cost_usd = cost_usd + excluded.cost_usd,
          estimated_cost_calls = estimated_cost_calls + excluded.estimated_cost_calls,
          duration_ms = duration_ms + excluded.duration_ms,
          max_duration_ms = max(max_duration_ms, excluded.max_duration_ms);`;

export const RECORDER_MIGRATIONS: readonly Migration[] = [
  (db) =>
    db.exec(`
      CREATE TABLE instances (
        id TEXT PRIMARY KEY,
        pid INTEGER NOT NULL,
        process_start TEXT,
        hostname TEXT NOT NULL,
        gateway_version TEXT,
        started_at TEXT NOT NULL
      );

      -- Small columns first, long texts last: a query that reads tokens or costs then never has
      -- to walk a long prompt's overflow pages.
      CREATE TABLE calls (
        id INTEGER PRIMARY KEY,
        correlation_id TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        duration_ms INTEGER,
        status TEXT NOT NULL,
        cli TEXT NOT NULL,
        model TEXT,
        error_category TEXT,
        exit_code INTEGER,
        input_tokens INTEGER,
        output_tokens INTEGER,
        cache_read_tokens INTEGER,
        cache_write_tokens INTEGER,
        reasoning_tokens INTEGER,
        cost_usd REAL,
        cost_estimated INTEGER NOT NULL DEFAULT 0,
        retry_count INTEGER,
        breaker_state TEXT,
        gateway_session_id TEXT,
        native_session_id TEXT,
        job_id TEXT,
        prompt_chars INTEGER,
        response_chars INTEGER,
        instance_id TEXT,
        cwd TEXT,
        error_message TEXT,
        approval_decision TEXT,
        optimization TEXT,
        prompt TEXT,
        response TEXT,
        original_prompt TEXT,
        thinking TEXT
      );
      CREATE INDEX calls_started_at ON calls (started_at);
      CREATE INDEX calls_correlation_id ON calls (correlation_id);
      CREATE INDEX calls_cli ON calls (cli);
      CREATE INDEX calls_model ON calls (model);
      CREATE INDEX calls_status ON calls (status);
      CREATE INDEX calls_cli_status ON calls (cli, status);
      CREATE INDEX calls_duration_ms ON calls (duration_ms);
      CREATE INDEX calls_gateway_session_id ON calls (gateway_session_id);
      CREATE INDEX calls_native_session_id ON calls (native_session_id);
      CREATE INDEX calls_job_id ON calls (job_id);

      -- Full-text search over prompts and responses: an external-content FTS5 table, named and
      -- written the way sqlite-utils and Datasette (old and new) detect it: <table>_fts,
      -- content="<table>". A call is indexed once, after it ends: the triggers put its id in
      -- fts_pending and the recorder indexes pending calls in the background, in batches, off
      -- the request's path (tokenizing a long answer is most of the cost of recording a call).
      -- Ids left pending by a gateway that stopped are indexed by the next one. The triggers
      -- remove a row from the index only if the index holds it (its calls_fts_docsize entry), so a
      -- 'rebuild' (sqlite-utils rebuild-fts) is safe at any time.
      CREATE VIRTUAL TABLE calls_fts USING fts5 (prompt, response, content="calls", content_rowid="id");
      CREATE TABLE fts_pending (id INTEGER PRIMARY KEY);
      CREATE TRIGGER calls_ai AFTER INSERT ON calls WHEN new.status != 'started' BEGIN
        INSERT OR IGNORE INTO fts_pending (id) VALUES (new.id);
      END;
      CREATE TRIGGER calls_ad AFTER DELETE ON calls BEGIN
        INSERT INTO calls_fts (calls_fts, rowid, prompt, response)
        SELECT 'delete', old.id, old.prompt, old.response
        WHERE EXISTS (SELECT 1 FROM calls_fts_docsize WHERE id = old.id);
        DELETE FROM fts_pending WHERE id = old.id;
      END;
      CREATE TRIGGER calls_au AFTER UPDATE OF prompt, response, status ON calls BEGIN
        INSERT INTO calls_fts (calls_fts, rowid, prompt, response)
        SELECT 'delete', old.id, old.prompt, old.response
        WHERE EXISTS (SELECT 1 FROM calls_fts_docsize WHERE id = old.id);
        INSERT OR IGNORE INTO fts_pending (id) SELECT new.id WHERE new.status != 'started';
      END;

      -- Totals per UTC day, CLI and model, counted by triggers when a call ends (or is rejected),
      -- so that usage questions stay instant on any number of calls. Size pruning leaves it alone
      -- (it keeps the totals of pruned calls); the age limit applies to it too. model is '' when
      -- the CLI's default model was used (the primary key needs a value).
      CREATE TABLE usage_daily (
        day TEXT NOT NULL,
        cli TEXT NOT NULL,
        model TEXT NOT NULL,
        calls INTEGER NOT NULL DEFAULT 0,
        completed INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        interrupted INTEGER NOT NULL DEFAULT 0,
        canceled INTEGER NOT NULL DEFAULT 0,
        rejected INTEGER NOT NULL DEFAULT 0,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cache_read_tokens INTEGER NOT NULL DEFAULT 0,
        cache_write_tokens INTEGER NOT NULL DEFAULT 0,
        reasoning_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0,
        estimated_cost_calls INTEGER NOT NULL DEFAULT 0,
        duration_ms INTEGER NOT NULL DEFAULT 0,
        max_duration_ms INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (day, cli, model)
      );
      CREATE TRIGGER calls_usage_ai AFTER INSERT ON calls WHEN new.status != 'started' BEGIN
        ${usageUpsert}
      END;
      CREATE TRIGGER calls_usage_au AFTER UPDATE OF status ON calls
      WHEN old.status = 'started' AND new.status != 'started' BEGIN
        ${usageUpsert}
      END;

      CREATE VIEW usage_by_day AS
      SELECT day, cli, nullif(model, '') AS model, calls, completed, failed + interrupted AS failed,
        canceled, rejected, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
        reasoning_tokens, round(cost_usd, 6) AS cost_usd, estimated_cost_calls,
        cast(round(1.0 * duration_ms / nullif(calls - rejected, 0)) AS INTEGER) AS avg_duration_ms,
        max_duration_ms
      FROM usage_daily
      ORDER BY day DESC, cli, model;

      CREATE VIEW error_rates AS
      SELECT cli, nullif(model, '') AS model,
        sum(calls) AS calls, sum(completed) AS completed, sum(failed) AS failed,
        sum(interrupted) AS interrupted, sum(canceled) AS canceled, sum(rejected) AS rejected,
        round(1.0 * sum(failed + interrupted) / nullif(sum(completed + failed + interrupted), 0), 4)
          AS failure_rate,
        min(day) AS since_day
      FROM usage_daily
      GROUP BY cli, model
      ORDER BY failure_rate DESC, calls DESC;

      CREATE VIEW errors_by_category AS
      SELECT cli, model, coalesce(error_category, status) AS category,
        count(*) AS errors,
        min(started_at) AS first_seen,
        max(started_at) AS last_seen,
        substr(error_message, 1, 300) AS last_message
      FROM calls
      WHERE status IN ('failed', 'interrupted', 'canceled', 'rejected')
      GROUP BY cli, model, category
      ORDER BY errors DESC;

      CREATE VIEW slowest_calls AS
      SELECT id, started_at, duration_ms, cli, model, status, input_tokens, output_tokens,
        reasoning_tokens, cost_usd, retry_count, correlation_id, substr(prompt, 1, 200) AS prompt_start
      FROM calls
      WHERE duration_ms IS NOT NULL
      ORDER BY duration_ms DESC;

      CREATE VIEW recent_calls AS
      SELECT id, started_at, cli, model, status, duration_ms, input_tokens, output_tokens, cost_usd,
        cost_estimated, error_category, correlation_id, gateway_session_id, job_id,
        substr(prompt, 1, 200) AS prompt_start, substr(response, 1, 200) AS response_start
      FROM calls ORDER BY id DESC;
    `),
  // consult and review: the CLI calls of one consultation share its id.
  (db) =>
    db.exec(`
      ALTER TABLE calls ADD COLUMN consultation_id TEXT;
      CREATE INDEX calls_consultation_id ON calls (consultation_id) WHERE consultation_id IS NOT NULL;
    `),
  // Who asked: the HTTP client's token name (NULL over stdio).
  (db) => db.exec(`ALTER TABLE calls ADD COLUMN client_token TEXT;`),
];

/**
 * New databases use auto_vacuum = INCREMENTAL, so pruned pages can be given back to the file
 * system. It can only be switched on before any data is stored (here: just after the migrations
 * created the empty schema), and VACUUM cannot run inside the migration's transaction.
 */
export function useIncrementalVacuum(db: Db): void {
  if (db.pragma("auto_vacuum", { simple: true }) !== 0) return;
  if (db.prepare(`SELECT 1 FROM calls LIMIT 1`).get()) return;
  db.pragma("auto_vacuum = INCREMENTAL");
  db.exec("VACUUM");
}
