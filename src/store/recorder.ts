import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import type { Statement } from "better-sqlite3";
import { isSameProcessAlive, processStartTime } from "../process/liveness.js";
import type { Usage } from "../providers/types.js";
import { openDatabase, type Db, type Migration } from "./db.js";
import { DEFAULT_PRICES, estimateCost, loadPriceFile, type PriceTable } from "./prices.js";
import { redactJson, redactSecrets } from "./redact.js";

/**
 * The flight recorder: one row per CLI request in `logs.db`, written when the request starts and
 * completed when it ends. docs/SCHEMA.md documents the tables, views, redaction and retention.
 *
 * Every text is redacted (src/store/redact.ts) before it is written. Writes never throw: a failed
 * write is reported to `onError` and the request goes on.
 */

export type CallStatus =
  "started" | "completed" | "failed" | "canceled" | "interrupted" | "rejected";
/** How a started call can end. */
export type EndStatus = "completed" | "failed" | "canceled" | "interrupted";
/** The row id of a recorded call (0 when recording is disabled). */
export type CallId = number;

/** What is known when a request starts (or is rejected). */
export interface CallStart {
  correlationId: string;
  cli: string;
  /** The model requested (resolved alias), if any. */
  model?: string | null;
  /** The prompt as sent to the CLI (after optimization, if any). */
  prompt: string;
  /** The caller's prompt when an optimizer changed it; omit otherwise. */
  originalPrompt?: string | null;
  gatewaySessionId?: string | null;
  nativeSessionId?: string | null;
  jobId?: string | null;
  /** The consult/review call this CLI call is part of (every call of it shares the id). */
  consultationId?: string | null;
  cwd?: string | null;
  /** Circuit breaker state for this CLI when the call started ("closed", "open", "half_open"). */
  breakerState?: string | null;
  /** The approval decision record (stored as JSON). */
  approvalDecision?: unknown;
  /** Optimization savings (stored as JSON), e.g. { promptCharsBefore, promptCharsAfter, ... }. */
  optimization?: unknown;
  /** The HTTP client's token name that asked; null/absent over stdio. */
  clientToken?: string | null;
  /** Default: now. */
  startedAt?: Date | string;
}

/** What is known when it ends. Fields left out keep what start() recorded. */
export interface CallOutcome {
  /** Default: "failed" with an error, "canceled" when errorCategory is "canceled", else "completed". */
  status?: EndStatus;
  responseText?: string | null;
  /** The model the CLI reports it used. */
  model?: string | null;
  gatewaySessionId?: string | null;
  nativeSessionId?: string | null;
  jobId?: string | null;
  exitCode?: number | null;
  errorCategory?: string | null;
  errorMessage?: string | null;
  /** Default: the time from startedAt to endedAt. */
  durationMs?: number | null;
  usage?: Usage;
  /** The cost the CLI reported. Without it the recorder estimates one from the price table. */
  costUsd?: number | null;
  retryCount?: number | null;
  breakerState?: string | null;
  approvalDecision?: unknown;
  optimization?: unknown;
  /** Thinking or reasoning blocks the CLI emitted, in order (stored as a JSON array). */
  thinking?: readonly string[] | null;
  /** Default: now. */
  endedAt?: Date | string;
}

/** Where and how much to record: `recorderConfigFromEnv` reads it from the environment. */
export interface RecorderConfig {
  /** The database file; null when recording is disabled. */
  path: string | null;
  /** Rows older than this are pruned; 0 keeps them forever. */
  maxAgeDays: number;
  /** The database is pruned (oldest rows first) to stay under this size; 0 means no limit. */
  maxBytes: number;
  /** Price table for cost estimates: the defaults, overridden by LLM_GATEWAY_PRICES. */
  prices: PriceTable;
}

export interface RecorderOptions extends Partial<Omit<RecorderConfig, "path">> {
  /** Called with every failed write or maintenance step. Default: a line on stderr. */
  onError?: (error: unknown) => void;
  /** Check retention every this many recorded calls (default 500). */
  pruneEvery?: number;
  /** Longer texts are cut to this many characters, with a marker (default 1,000,000). */
  maxTextChars?: number;
  /** Run markInterrupted() and a prune pass on open (default true). */
  maintenance?: boolean;
  /** Recorded with the process in `instances`. */
  gatewayVersion?: string;
  /** This process's id in `instances` (default: a new UUID); the gateway may pass its own. */
  instanceId?: string;
}

export const DEFAULT_MAX_AGE_DAYS = 90;
export const DEFAULT_MAX_MB = 500;
const MB = 1024 * 1024;

/**
 * Reads the recorder's settings:
 * - `LLM_GATEWAY_LOGS_DB`: the database path (default `<home>/logs.db`; `~/` expanded); an empty
 *   value or `none` disables recording.
 * - `LLM_GATEWAY_LOGS_MAX_AGE_DAYS`: default 90; 0 keeps rows forever.
 * - `LLM_GATEWAY_LOGS_MAX_MB`: default 500; 0 means no size limit.
 * - `LLM_GATEWAY_PRICES`: a JSON price file merged over the default price table.
 *
 * `home` is the gateway's state directory (`LLM_GATEWAY_HOME`, default `~/.llm-cli-gateway`).
 */
export function recorderConfigFromEnv(env: NodeJS.ProcessEnv, home: string): RecorderConfig {
  const raw = env.LLM_GATEWAY_LOGS_DB;
  let path: string | null;
  if (raw === undefined) path = join(home, "logs.db");
  else if (raw.trim() === "" || raw.trim().toLowerCase() === "none") path = null;
  else path = expandPath(raw.trim(), env);
  const pricesPath = env.LLM_GATEWAY_PRICES?.trim();
  return {
    path,
    maxAgeDays: nonNegative(env, "LLM_GATEWAY_LOGS_MAX_AGE_DAYS") ?? DEFAULT_MAX_AGE_DAYS,
    maxBytes: Math.round((nonNegative(env, "LLM_GATEWAY_LOGS_MAX_MB") ?? DEFAULT_MAX_MB) * MB),
    prices: pricesPath
      ? { ...DEFAULT_PRICES, ...loadPriceFile(expandPath(pricesPath, env)) }
      : DEFAULT_PRICES,
  };
}

function expandPath(p: string, env: NodeJS.ProcessEnv): string {
  if ((p === "~" || p.startsWith("~/")) && env.HOME) p = join(env.HOME, p.slice(1));
  return isAbsolute(p) ? p : resolve(p);
}

function nonNegative(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Schema. Never edit a migration that has shipped: add another (docs/SCHEMA.md follows them).

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

// ---------------------------------------------------------------------------------------------

const INTERRUPTED_MESSAGE =
  "The gateway process ended before the call finished (crash, kill or shutdown)";
const SHUTDOWN_MESSAGE = "The gateway shut down before the call finished";

export interface PruneResult {
  deletedByAge: number;
  deletedBySize: number;
  /** Bytes in use (pages minus free pages) before and after. */
  bytesBefore: number;
  bytesAfter: number;
}

interface OpenCall {
  cli: string;
  model: string | null;
  startedMs: number;
}

/**
 * The flight recorder. `Recorder.open(null)` gives a disabled recorder whose methods do nothing
 * (and which creates no file).
 */
export class Recorder {
  private readonly db: Db | null;
  private readonly instanceId: string;
  private readonly maxAgeDays: number;
  private readonly maxBytes: number;
  private readonly prices: PriceTable;
  private readonly pruneEvery: number;
  private readonly maxTextChars: number;
  private readonly onError: (error: unknown) => void;
  private readonly open = new Map<CallId, OpenCall>();
  private readonly finishStatements = new Map<string, Statement>();
  private readonly stmts: Statements | undefined;
  private sincePrune = 0;
  /** Where the current retention round is. */
  private pruning = newRound();
  /** Rows deleted since the full-text index was last merged. */
  private deletedSinceMerge = 0;
  private pruneTimer: NodeJS.Timeout | undefined;
  private indexTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(db: Db | null, options: RecorderOptions) {
    this.db = db;
    this.instanceId = options.instanceId ?? randomUUID();
    this.maxAgeDays = options.maxAgeDays ?? DEFAULT_MAX_AGE_DAYS;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_MB * MB;
    this.prices = options.prices ?? DEFAULT_PRICES;
    this.pruneEvery = Math.max(1, options.pruneEvery ?? 500);
    this.maxTextChars = options.maxTextChars ?? 1_000_000;
    this.onError =
      options.onError ??
      ((err) =>
        process.stderr.write(
          `[WARN] ${new Date().toISOString()} - flight recorder: ${err instanceof Error ? err.message : String(err)}\n`,
        ));
    if (db) {
      this.stmts = prepare(db);
      this.stmts.registerInstance.run(
        this.instanceId,
        process.pid,
        processStartTime(process.pid) ?? null,
        hostname(),
        options.gatewayVersion ?? null,
        new Date().toISOString(),
      );
    }
  }

  /**
   * Opens (creating and migrating) the database at `path`, or returns a disabled recorder when
   * `path` is null. Throws when the file cannot be opened; the gateway may then log it and go on
   * with `Recorder.open(null)`.
   */
  static open(path: string | null, options: RecorderOptions = {}): Recorder {
    if (path === null) return new Recorder(null, options);
    const db = openDatabase(path, RECORDER_MIGRATIONS);
    try {
      // Bounds the WAL file after checkpoints (the setting is per connection).
      db.pragma("journal_size_limit = 67108864");
      useIncrementalVacuum(db);
      const recorder = new Recorder(db, options);
      if (options.maintenance !== false) {
        recorder.markInterrupted();
        recorder.scheduleIndex();
        recorder.schedulePrune(0);
      }
      return recorder;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Opens the recorder a RecorderConfig describes. */
  static fromConfig(config: RecorderConfig, options: RecorderOptions = {}): Recorder {
    return Recorder.open(config.path, { ...config, ...options });
  }

  get enabled(): boolean {
    return this.db !== null && !this.closed;
  }

  /** This process's id in the `instances` table. */
  get instance(): string {
    return this.instanceId;
  }

  /** Records a request that is about to run: one row with status `started`. */
  start(call: CallStart): CallId {
    if (!this.enabled) return 0;
    try {
      const startedAt = isoOf(call.startedAt);
      const model = call.model ?? null;
      const info = this.stmts!.insert.run(
        this.row(call, "started", startedAt, {
          ended_at: null,
          duration_ms: null,
          error_category: null,
          error_message: null,
        }),
      );
      const id = Number(info.lastInsertRowid);
      this.open.set(id, { cli: call.cli, model, startedMs: Date.parse(startedAt) });
      this.countInsert();
      return id;
    } catch (err) {
      this.onError(err);
      return 0;
    }
  }

  /**
   * Completes a started row. Returns false when nothing was updated (disabled, unknown id, or the
   * row is no longer `started`).
   */
  finish(id: CallId, outcome: CallOutcome): boolean {
    if (!this.enabled || !id) return false;
    try {
      const known = this.open.get(id) ?? this.lookup(id);
      if (!known) return false;
      this.open.delete(id);
      const endedAt = isoOf(outcome.endedAt);
      const status = outcome.status ?? statusOf(outcome);
      const model = outcome.model ?? known.model;
      let cost = outcome.costUsd ?? null;
      let estimated = 0;
      if (cost === null) {
        const estimate = estimateCost(this.prices, known.cli, model, outcome.usage);
        if (estimate !== undefined) [cost, estimated] = [estimate, 1];
      }
      const u = outcome.usage ?? {};
      const response = outcome.responseText ?? null;
      const values: Record<string, unknown> = {
        id,
        status,
        ended_at: endedAt,
        duration_ms:
          outcome.durationMs ?? Math.max(0, Math.round(Date.parse(endedAt) - known.startedMs)),
        response: this.text(response),
        response_chars: response === null ? null : response.length,
        error_category: outcome.errorCategory ?? null,
        error_message: this.text(outcome.errorMessage),
        exit_code: outcome.exitCode ?? null,
        input_tokens: u.inputTokens ?? null,
        output_tokens: u.outputTokens ?? null,
        cache_read_tokens: u.cacheReadTokens ?? null,
        cache_write_tokens: u.cacheWriteTokens ?? null,
        reasoning_tokens: u.reasoningTokens ?? null,
        cost_usd: cost,
        cost_estimated: estimated,
        thinking: this.thinking(outcome.thinking),
      };
      // Columns start() may have set are updated only when the outcome brings a value (and an
      // indexed column left out of the SET list costs no index update).
      const optional: [string, unknown][] = [
        ["model", outcome.model],
        ["retry_count", outcome.retryCount],
        ["breaker_state", outcome.breakerState],
        ["gateway_session_id", outcome.gatewaySessionId],
        ["native_session_id", outcome.nativeSessionId],
        ["job_id", outcome.jobId],
        ["approval_decision", this.json(outcome.approvalDecision)],
        ["optimization", this.json(outcome.optimization)],
      ];
      const set: string[] = [];
      for (const [column, value] of optional)
        if (value !== undefined && value !== null) {
          set.push(column);
          values[column] = value;
        }
      const info = this.finishStatement(set).run(values);
      this.scheduleIndex();
      return info.changes === 1;
    } catch (err) {
      this.onError(err);
      return false;
    }
  }

  /** Records a request refused before any process started: one row with status `rejected`. */
  rejected(call: CallStart, error: { category: string; message: string }): CallId {
    if (!this.enabled) return 0;
    try {
      const at = isoOf(call.startedAt);
      const info = this.stmts!.insert.run(
        this.row(call, "rejected", at, {
          ended_at: at,
          duration_ms: 0,
          error_category: error.category,
          error_message: this.text(error.message),
        }),
      );
      this.countInsert();
      this.scheduleIndex();
      return Number(info.lastInsertRowid);
    } catch (err) {
      this.onError(err);
      return 0;
    }
  }

  /**
   * Marks `started` rows whose gateway process is gone as `interrupted`: a crash or kill left
   * them. A process counts as alive when its pid exists and (where /proc says) started at the
   * recorded time, so a reused pid does not keep a dead process's rows open. Rows of processes on
   * another host are left alone. Returns the number of rows marked.
   */
  markInterrupted(): number {
    if (!this.enabled) return 0;
    try {
      const host = hostname();
      const owners = this.stmts!.startedOwners.all() as {
        instance_id: string | null;
        pid: number | null;
        process_start: string | null;
        hostname: string | null;
      }[];
      let marked = 0;
      const now = new Date().toISOString();
      for (const o of owners) {
        if (o.instance_id === this.instanceId) continue;
        if (o.pid !== null && o.hostname !== host) continue;
        if (o.pid !== null && isSameProcessAlive(o.pid, o.process_start)) continue;
        marked += this.stmts!.interruptInstance.run({
          now,
          message: INTERRUPTED_MESSAGE,
          instance: o.instance_id,
          measured: 0,
        }).changes;
      }
      if (marked > 0) this.scheduleIndex();
      return marked;
    } catch (err) {
      this.onError(err);
      return 0;
    }
  }

  /**
   * Applies retention now, completely: deletes rows older than maxAgeDays, then the oldest rows
   * until the database is under maxBytes (to 80% of it, so that it does not prune on every call).
   * Rows still `started` are kept. Freed pages go back to the file system.
   */
  prune(): PruneResult {
    const result: PruneResult = {
      deletedByAge: 0,
      deletedBySize: 0,
      bytesBefore: 0,
      bytesAfter: 0,
    };
    if (!this.enabled) return result;
    try {
      result.bytesBefore = this.usedBytes();
      for (;;) {
        const step = this.pruneStep(SYNC_BATCH);
        result.deletedByAge += step.byAge;
        result.deletedBySize += step.bySize;
        if (step.done) break;
      }
      result.bytesAfter = this.usedBytes();
    } catch (err) {
      this.onError(err);
    }
    return result;
  }

  /** The bytes the database uses (its pages minus its free pages). */
  usedBytes(): number {
    if (!this.enabled) return 0;
    const s = this.stmts!;
    const pages = (s.pageCount.pluck().get() as number) - (s.freelist.pluck().get() as number);
    return pages * (s.pageSize.pluck().get() as number);
  }

  /**
   * Adds ended calls waiting in fts_pending (from any gateway process) to the full-text index,
   * at most `limit` of them, in one transaction. Returns how many ids it took from the queue.
   * The recorder calls it in the background shortly after calls end.
   */
  indexPending(limit = INDEX_BATCH): number {
    if (!this.enabled) return 0;
    const s = this.stmts!;
    return this.db!.transaction(() => {
      const upto = s.pendingUpto.pluck().get(limit) as number | null;
      if (upto === null) return 0;
      s.indexPending.run(upto);
      return s.clearPending.run(upto).changes;
    }).immediate();
  }

  /** Indexes every pending call now (tests, shutdown). Returns how many there were. */
  flushIndex(): number {
    let total = 0;
    for (let n = this.indexPending(); n > 0; n = this.indexPending()) total += n;
    return total;
  }

  /**
   * Stops recording: this process's calls still `started` become `interrupted` (the gateway is
   * shutting down), and the database is closed. Later calls to the recorder do nothing.
   */
  close(): void {
    if (!this.db || this.closed) return;
    if (this.pruneTimer) clearTimeout(this.pruneTimer);
    if (this.indexTimer) clearTimeout(this.indexTimer);
    try {
      this.stmts!.interruptInstance.run({
        now: new Date().toISOString(),
        message: SHUTDOWN_MESSAGE,
        instance: this.instanceId,
        measured: 1,
      });
      this.flushIndex();
    } catch (err) {
      this.onError(err);
    }
    this.closed = true;
    this.open.clear();
    try {
      this.db.close();
    } catch (err) {
      this.onError(err);
    }
  }

  // -------------------------------------------------------------------------------------------

  private row(
    call: CallStart,
    status: CallStatus,
    startedAt: string,
    rest: Record<string, unknown>,
  ): Record<string, unknown> {
    const original =
      call.originalPrompt !== undefined && call.originalPrompt !== call.prompt
        ? call.originalPrompt
        : null;
    return {
      correlation_id: call.correlationId,
      started_at: startedAt,
      status,
      cli: call.cli,
      model: call.model ?? null,
      prompt: this.text(call.prompt),
      prompt_chars: call.prompt.length,
      original_prompt: this.text(original),
      breaker_state: call.breakerState ?? null,
      gateway_session_id: call.gatewaySessionId ?? null,
      native_session_id: call.nativeSessionId ?? null,
      job_id: call.jobId ?? null,
      consultation_id: call.consultationId ?? null,
      cwd: this.text(call.cwd),
      approval_decision: this.json(call.approvalDecision),
      optimization: this.json(call.optimization),
      instance_id: this.instanceId,
      client_token: call.clientToken ?? null,
      ...rest,
    };
  }

  /** Redacted, and cut to maxTextChars with a marker saying how much was cut. */
  private text(value: string | null | undefined): string | null {
    if (value === null || value === undefined) return null;
    if (value.length > this.maxTextChars) {
      const cut = value.length - this.maxTextChars;
      return `${redactSecrets(value.slice(0, this.maxTextChars))}\n[… ${cut} more characters not recorded]`;
    }
    return redactSecrets(value);
  }

  private json(value: unknown): string | null {
    if (value === undefined || value === null) return null;
    return JSON.stringify(redactJson(value)) ?? null;
  }

  private thinking(blocks: readonly string[] | null | undefined): string | null {
    if (!blocks || blocks.length === 0) return null;
    return JSON.stringify(blocks.map((b) => this.text(b)));
  }

  /** The UPDATE for finish(), with these optional columns in its SET list; prepared once each. */
  private finishStatement(optional: string[]): Statement {
    const key = optional.join(",");
    let statement = this.finishStatements.get(key);
    if (!statement) {
      statement = this.db!.prepare(`
        UPDATE calls SET
          status = @status, ended_at = @ended_at, duration_ms = @duration_ms,
          response = @response, response_chars = @response_chars,
          error_category = @error_category, error_message = @error_message, exit_code = @exit_code,
          input_tokens = @input_tokens, output_tokens = @output_tokens,
          cache_read_tokens = @cache_read_tokens, cache_write_tokens = @cache_write_tokens,
          reasoning_tokens = @reasoning_tokens, cost_usd = @cost_usd, cost_estimated = @cost_estimated,
          thinking = @thinking${optional.map((c) => `, ${c} = @${c}`).join("")}
        WHERE id = @id AND status = 'started'`);
      this.finishStatements.set(key, statement);
    }
    return statement;
  }

  private lookup(id: CallId): OpenCall | undefined {
    const row = this.stmts!.lookup.get(id) as
      { cli: string; model: string | null; started_at: string; status: string } | undefined;
    if (!row || row.status !== "started") return undefined;
    return { cli: row.cli, model: row.model, startedMs: Date.parse(row.started_at) };
  }

  /** Indexes pending calls soon, in one batch for calls that end close together. */
  private scheduleIndex(): void {
    if (this.indexTimer || !this.enabled) return;
    this.indexTimer = setTimeout(() => {
      this.indexTimer = undefined;
      if (!this.enabled) return;
      try {
        if (this.indexPending() === INDEX_BATCH) this.scheduleIndex();
      } catch (err) {
        this.onError(err);
      }
    }, INDEX_DELAY_MS);
    this.indexTimer.unref();
  }

  private countInsert(): void {
    if (++this.sincePrune >= this.pruneEvery) {
      this.sincePrune = 0;
      this.schedulePrune(0);
    }
  }

  /**
   * Prunes in the background: one bounded step per timer tick (a batch of rows, a slice of the
   * full-text index merge, or a few MB of pages back to the file system), so a request never waits
   * behind a long prune.
   */
  private schedulePrune(delayMs: number): void {
    if (this.pruneTimer || !this.enabled || (!this.maxAgeDays && !this.maxBytes)) return;
    this.pruneTimer = setTimeout(() => {
      this.pruneTimer = undefined;
      if (!this.enabled) return;
      try {
        if (!this.pruneStep(BACKGROUND_BATCH).done) this.schedulePrune(PRUNE_PAUSE_MS);
      } catch (err) {
        this.onError(err);
      }
    }, delayMs);
    this.pruneTimer.unref();
  }

  /**
   * One bounded step of retention, in this order: rows past the age limit; the oldest rows, as
   * many as the size check found due; merging the full-text index, once enough rows were deleted
   * (FTS5 records deletions as markers that only a merge reclaims); freed pages back to the file
   * system. `done` when nothing more is due.
   *
   * The size check measures once per round and deletes that many rows: deleting adds delete
   * markers to the index, so measuring again before the merge would overcount.
   */
  private pruneStep(batch: number): { byAge: number; bySize: number; done: boolean } {
    const s = this.stmts!;
    const p = this.pruning;
    if (this.maxAgeDays > 0 && !p.ageDone) {
      const cutoff = new Date(Date.now() - this.maxAgeDays * 86_400_000).toISOString();
      const byAge = s.deleteOlder.run(cutoff, batch).changes;
      p.deleted += byAge;
      if (byAge > 0) return { byAge, bySize: 0, done: false };
      s.deleteOldInstances.run(cutoff, this.instanceId);
      s.deleteOldUsage.run(cutoff.slice(0, 10));
      p.ageDone = true;
    }
    p.sizeDue ??= this.rowsOverSize();
    if (p.sizeDue > 0) {
      const bySize = s.deleteOldest.run(Math.min(batch, p.sizeDue)).changes;
      p.sizeDue = bySize === 0 ? 0 : p.sizeDue - bySize;
      p.deleted += bySize;
      p.sizePruned ||= bySize > 0;
      if (bySize > 0) return { byAge: 0, bySize, done: false };
    }
    if (!p.merging && p.deleted > 0) {
      this.deletedSinceMerge += p.deleted;
      p.deleted = 0;
      p.merging = p.sizePruned || this.deletedSinceMerge >= MERGE_SHARE * this.rowCount();
    }
    if (p.merging) {
      const before = s.totalChanges.pluck().get() as number;
      s.ftsMerge.run();
      if ((s.totalChanges.pluck().get() as number) - before >= 2)
        return { byAge: 0, bySize: 0, done: false };
      p.merging = false;
      this.deletedSinceMerge = 0;
    }
    if ((s.freelist.pluck().get() as number) > 0) {
      // exec, not a prepared statement: a statement's run() frees one page per call.
      this.db!.exec(`PRAGMA incremental_vacuum(${VACUUM_PAGES})`);
      return { byAge: 0, bySize: 0, done: false };
    }
    this.pruning = newRound();
    return { byAge: 0, bySize: 0, done: true };
  }

  /** Rows in the table, from the id span (cheap, and exact but for ids pruned out of the middle). */
  private rowCount(): number {
    const span = this.stmts!.idSpan.get() as { lo: number | null; hi: number | null };
    return span.lo === null ? 0 : span.hi! - span.lo + 1;
  }

  /** How many of the oldest rows to delete to bring the database to 80% of maxBytes. */
  private rowsOverSize(): number {
    if (this.maxBytes <= 0) return 0;
    const used = this.usedBytes();
    if (used <= this.maxBytes) return 0;
    return Math.ceil((this.rowCount() * (used - this.maxBytes * SIZE_TARGET)) / used);
  }
}

/** Rows deleted per step: small in the background, larger when prune() is called. */
const BACKGROUND_BATCH = 100;
const SYNC_BATCH = 1000;
/** Pages of the full-text index merged per step (a few tens of ms at most). */
const MERGE_PAGES = 64;
/** Merge the full-text index once this share of the rows has been deleted since the last merge. */
const MERGE_SHARE = 0.1;

interface PruneRound {
  ageDone: boolean;
  sizeDue: number | undefined;
  sizePruned: boolean;
  deleted: number;
  merging: boolean;
}

const newRound = (): PruneRound => ({
  ageDone: false,
  sizeDue: undefined,
  sizePruned: false,
  deleted: 0,
  merging: false,
});
/** Pages given back to the file system per step (8 MB of 4 KB pages). */
const VACUUM_PAGES = 2000;
/** A size prune brings the database down to this share of maxBytes. */
const SIZE_TARGET = 0.8;
const PRUNE_PAUSE_MS = 20;
/** Ended calls are indexed for search this long after the first of a batch ends, at most INDEX_BATCH at a time. */
const INDEX_DELAY_MS = 50;
const INDEX_BATCH = 200;

interface Statements {
  insert: Statement;
  lookup: Statement;
  registerInstance: Statement;
  startedOwners: Statement;
  interruptInstance: Statement;
  deleteOlder: Statement;
  deleteOldest: Statement;
  deleteOldInstances: Statement;
  deleteOldUsage: Statement;
  idSpan: Statement;
  totalChanges: Statement;
  pendingUpto: Statement;
  indexPending: Statement;
  clearPending: Statement;
  ftsMerge: Statement;
  pageCount: Statement;
  freelist: Statement;
  pageSize: Statement;
}

const INSERT_COLUMNS = [
  "correlation_id",
  "started_at",
  "ended_at",
  "duration_ms",
  "status",
  "cli",
  "model",
  "prompt",
  "prompt_chars",
  "original_prompt",
  "error_category",
  "error_message",
  "breaker_state",
  "gateway_session_id",
  "native_session_id",
  "job_id",
  "consultation_id",
  "cwd",
  "approval_decision",
  "optimization",
  "instance_id",
  "client_token",
];

function prepare(db: Db): Statements {
  return {
    insert: db.prepare(
      `INSERT INTO calls (${INSERT_COLUMNS.join(", ")}) VALUES (${INSERT_COLUMNS.map((c) => `@${c}`).join(", ")})`,
    ),
    lookup: db.prepare(`SELECT cli, model, started_at, status FROM calls WHERE id = ?`),
    registerInstance: db.prepare(
      `INSERT INTO instances (id, pid, process_start, hostname, gateway_version, started_at) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    startedOwners: db.prepare(`
      SELECT o.instance_id, i.pid, i.process_start, i.hostname
      FROM (SELECT DISTINCT instance_id FROM calls WHERE status = 'started') o
      LEFT JOIN instances i ON i.id = o.instance_id`),
    interruptInstance: db.prepare(`
      UPDATE calls SET status = 'interrupted', ended_at = @now, error_message = @message,
        duration_ms = CASE WHEN @measured THEN
          cast(round((julianday(@now) - julianday(started_at)) * 86400000) AS INTEGER) END
      WHERE status = 'started' AND instance_id IS @instance`),
    deleteOlder: db.prepare(
      `DELETE FROM calls WHERE id IN (SELECT id FROM calls WHERE started_at < ? ORDER BY started_at LIMIT ?)`,
    ),
    deleteOldest: db.prepare(
      `DELETE FROM calls WHERE id IN (SELECT id FROM calls WHERE status != 'started' ORDER BY id LIMIT ?)`,
    ),
    deleteOldInstances: db.prepare(
      `DELETE FROM instances WHERE started_at < ? AND id != ? AND id NOT IN (SELECT instance_id FROM calls WHERE status = 'started' AND instance_id IS NOT NULL)`,
    ),
    deleteOldUsage: db.prepare(`DELETE FROM usage_daily WHERE day < ?`),
    totalChanges: db.prepare(`SELECT total_changes()`),
    pendingUpto: db.prepare(`SELECT max(id) FROM (SELECT id FROM fts_pending ORDER BY id LIMIT ?)`),
    indexPending: db.prepare(`
      INSERT INTO calls_fts (rowid, prompt, response)
      SELECT c.id, c.prompt, c.response FROM fts_pending p JOIN calls c ON c.id = p.id
      WHERE p.id <= ? AND NOT EXISTS (SELECT 1 FROM calls_fts_docsize d WHERE d.id = p.id)`),
    clearPending: db.prepare(`DELETE FROM fts_pending WHERE id <= ?`),
    ftsMerge: db.prepare(
      `INSERT INTO calls_fts (calls_fts, rank) VALUES ('merge', -${MERGE_PAGES})`,
    ),
    idSpan: db.prepare(`SELECT min(id) AS lo, max(id) AS hi FROM calls`),
    pageCount: db.prepare(`PRAGMA page_count`),
    freelist: db.prepare(`PRAGMA freelist_count`),
    pageSize: db.prepare(`PRAGMA page_size`),
  };
}

/**
 * New databases use auto_vacuum = INCREMENTAL, so pruned pages can be given back to the file
 * system. It can only be switched on before any data is stored (here: just after the migrations
 * created the empty schema), and VACUUM cannot run inside the migration's transaction.
 */
function useIncrementalVacuum(db: Db): void {
  if (db.pragma("auto_vacuum", { simple: true }) !== 0) return;
  if (db.prepare(`SELECT 1 FROM calls LIMIT 1`).get()) return;
  db.pragma("auto_vacuum = INCREMENTAL");
  db.exec("VACUUM");
}

function statusOf(outcome: CallOutcome): EndStatus {
  if (outcome.errorCategory === "canceled") return "canceled";
  return outcome.errorCategory || outcome.errorMessage ? "failed" : "completed";
}

function isoOf(value: Date | string | undefined): string {
  if (value === undefined) return new Date().toISOString();
  return typeof value === "string" ? new Date(value).toISOString() : value.toISOString();
}
