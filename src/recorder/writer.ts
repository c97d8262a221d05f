import { randomUUID } from "node:crypto";
import { DEFAULT_PRICES } from "../store/prices.js";
import type { SqlDb, SqlStatement, SqlValue } from "../store/sql.js";
import { CallRows, INSERT_COLUMNS, isoOf, type OpenCall } from "./call-row.js";
import {
  DEFAULT_MAX_AGE_DAYS,
  DEFAULT_MAX_MB,
  MB,
  recorderLocation,
  type RecorderConfig,
  type RecorderLocation,
} from "./config.js";
import { DEFAULT_LEASE_MS, Instances } from "./instances.js";
import { Retention, type PruneResult } from "./retention.js";
import { INDEX_BATCH, SearchIndexer } from "./search-index.js";
import { openRecorderDb } from "./store.js";
import type { CallId, CallOutcome, CallStart } from "./types.js";

/**
 * The flight recorder's writer: one row per CLI request in `logs.db` (or PostgreSQL's `recorder`
 * schema), written when the request starts and completed when it ends. docs/SCHEMA.md documents
 * the tables, views, redaction and retention (docs/POSTGRES.md what differs on PostgreSQL);
 * schema.ts and pg-schema.ts hold the migrations, retention.ts the pruning, search-index.ts the
 * full-text indexing, instances.ts which gateway processes are gone, read-model.ts the queries.
 *
 * Every text is redacted (src/store/redact.ts) before it is written. Writes never throw: a failed
 * write is reported to `onError` and the request goes on.
 */

export type { CallId, CallOutcome, CallStart, CallStatus, EndStatus } from "./types.js";
export type { PruneResult } from "./retention.js";

export interface RecorderOptions extends Partial<Omit<RecorderConfig, "path" | "postgres">> {
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
  /** PostgreSQL: this process's lease in `instances` (default 30 s; see instances.ts). */
  leaseMs?: number;
}

/**
 * The flight recorder. `Recorder.open(null)` gives a disabled recorder whose methods do nothing
 * (and which creates no file).
 */
export class Recorder {
  private readonly db: SqlDb | null;
  private readonly instanceId: string;
  private readonly rows: CallRows;
  private readonly onError: (error: unknown) => void;
  private readonly open = new Map<CallId, OpenCall>();
  private readonly stmts: Statements | undefined;
  private readonly retention: Retention | undefined;
  private readonly index: SearchIndexer | undefined;
  private readonly instances: Instances | undefined;
  private closed = false;

  private constructor(db: SqlDb | null, options: RecorderOptions) {
    this.db = db;
    this.instanceId = options.instanceId ?? randomUUID();
    this.rows = new CallRows({
      maxTextChars: options.maxTextChars ?? 1_000_000,
      instanceId: this.instanceId,
      prices: options.prices ?? DEFAULT_PRICES,
    });
    this.onError =
      options.onError ??
      ((err) =>
        process.stderr.write(
          `[WARN] ${new Date().toISOString()} - flight recorder: ${err instanceof Error ? err.message : String(err)}\n`,
        ));
    if (db) {
      this.stmts = prepare(db);
      this.retention = new Retention(db, {
        maxAgeDays: options.maxAgeDays ?? DEFAULT_MAX_AGE_DAYS,
        maxBytes: options.maxBytes ?? DEFAULT_MAX_MB * MB,
        pruneEvery: Math.max(1, options.pruneEvery ?? 500),
        instanceId: this.instanceId,
        onError: this.onError,
      });
      const index = (this.index = new SearchIndexer(db, this.onError));
      this.instances = new Instances(db, {
        instanceId: this.instanceId,
        gatewayVersion: options.gatewayVersion ?? null,
        leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
        onError: this.onError,
        onMarked: () => index.schedule(),
      });
      this.instances.register();
    }
  }

  /**
   * Opens (creating and migrating) the recorder's tables: a logs.db path (a string) or a
   * location; `null` gives a disabled recorder. Throws when the database cannot be opened; the
   * gateway may then log it and go on with `Recorder.open(null)`.
   */
  static open(where: string | RecorderLocation | null, options: RecorderOptions = {}): Recorder {
    if (where === null) return new Recorder(null, options);
    const db = openRecorderDb(typeof where === "string" ? { sqlite: where } : where);
    try {
      const recorder = new Recorder(db, options);
      if (options.maintenance !== false) {
        recorder.markInterrupted();
        recorder.index!.schedule();
        recorder.retention!.schedule(0);
      }
      return recorder;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Opens the recorder a RecorderConfig describes. */
  static fromConfig(config: RecorderConfig, options: RecorderOptions = {}): Recorder {
    return Recorder.open(recorderLocation(config), { ...config, ...options });
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
      const id = this.insert(
        this.rows.inserted(call, "started", startedAt, {
          ended_at: null,
          duration_ms: null,
          error_category: null,
          error_message: null,
        }),
      );
      this.open.set(id, { cli: call.cli, model, startedMs: Date.parse(startedAt) });
      this.retention!.counted();
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
      const { values, set } = this.rows.finished(id, known, outcome);
      const info = this.finishStatement(set).run(
        ...[...FINISH_COLUMNS, ...set, "id"].map((c) => values[c] as SqlValue),
      );
      this.index!.schedule();
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
      const id = this.insert(
        this.rows.inserted(call, "rejected", at, {
          ended_at: at,
          duration_ms: 0,
          error_category: error.category,
          error_message: this.rows.text(error.message),
        }),
      );
      this.retention!.counted();
      this.index!.schedule();
      return id;
    } catch (err) {
      this.onError(err);
      return 0;
    }
  }

  /**
   * Marks `started` rows whose gateway process is gone as `interrupted`: a crash or kill left
   * them. SQLite: a process counts as alive when its pid exists and (where /proc says) started at
   * the recorded time, so a reused pid does not keep a dead process's rows open; rows of processes
   * on another host are left alone. PostgreSQL: an instance is gone when its lease has lapsed
   * (instances.ts). Returns the number of rows marked.
   */
  markInterrupted(): number {
    if (!this.enabled) return 0;
    try {
      const marked = this.instances!.markGone();
      if (marked > 0) this.index!.schedule();
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
    if (!this.enabled) return { deletedByAge: 0, deletedBySize: 0, bytesBefore: 0, bytesAfter: 0 };
    return this.retention!.prune();
  }

  /** The bytes the record uses (SQLite: pages minus free pages; PostgreSQL: see retention.ts). */
  usedBytes(): number {
    return this.enabled ? this.retention!.usedBytes() : 0;
  }

  /**
   * Adds ended calls waiting in fts_pending (from any gateway process) to the full-text index,
   * at most `limit` of them, in one transaction. Returns how many ids it took from the queue.
   * The recorder calls it in the background shortly after calls end.
   */
  indexPending(limit = INDEX_BATCH): number {
    return this.enabled ? this.index!.indexPending(limit) : 0;
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
    this.retention!.stop();
    this.index!.stop();
    try {
      this.instances!.interruptOwn();
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

  /** Inserts a call's row; returns its id (RETURNING: both engines have it). */
  private insert(row: Record<string, unknown>): CallId {
    const values = INSERT_COLUMNS.map((c) => (row[c] ?? null) as SqlValue);
    return Number((this.stmts!.insert.get(...values) as { id: number | bigint }).id);
  }

  /** The UPDATE for finish(), with these optional columns in its SET list; prepared once each. */
  private finishStatement(optional: string[]): SqlStatement {
    const set = [...FINISH_COLUMNS, ...optional].map((c) => `${c} = ?`).join(", ");
    return this.db!.prepare(`UPDATE calls SET ${set} WHERE id = ? AND status = 'started'`);
  }

  private lookup(id: CallId): OpenCall | undefined {
    const row = this.stmts!.lookup.get(id) as
      { cli: string; model: string | null; started_at: string; status: string } | undefined;
    if (!row || row.status !== "started") return undefined;
    return { cli: row.cli, model: row.model, startedMs: Date.parse(row.started_at) };
  }
}

/** What finish() always sets, in the order of its statement. */
const FINISH_COLUMNS = [
  "status",
  "ended_at",
  "duration_ms",
  "response",
  "response_chars",
  "error_category",
  "error_message",
  "exit_code",
  "input_tokens",
  "output_tokens",
  "cache_read_tokens",
  "cache_write_tokens",
  "reasoning_tokens",
  "cost_usd",
  "cost_estimated",
  "thinking",
];

interface Statements {
  insert: SqlStatement;
  lookup: SqlStatement;
}

function prepare(db: SqlDb): Statements {
  return {
    insert: db.prepare(
      `INSERT INTO calls (${INSERT_COLUMNS.join(", ")}) VALUES (${INSERT_COLUMNS.map(() => "?").join(", ")}) RETURNING id`,
    ),
    lookup: db.prepare(`SELECT cli, model, started_at, status FROM calls WHERE id = ?`),
  };
}
