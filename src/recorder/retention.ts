import type { SqlDb, SqlStatement } from "../store/sql.js";
import { storageUpkeep, type StorageUpkeep } from "./upkeep.js";

/**
 * The flight record's retention: rows past the age limit, then the oldest rows past the size
 * limit, then (SQLite) the full-text index merged once enough rows are gone and freed pages given
 * back to the file system (upkeep.ts: what each engine measures and tidies).
 * In the background one bounded step per timer tick, so a request never waits behind a long prune.
 * Rows still `started` are never pruned by size.
 */

export interface PruneResult {
  deletedByAge: number;
  deletedBySize: number;
  /** Bytes in use before and after (SQLite: pages minus free pages; see upkeep.ts). */
  bytesBefore: number;
  bytesAfter: number;
}

export interface RetentionOptions {
  /** Rows older than this are pruned; 0 keeps them forever. */
  maxAgeDays: number;
  /** Pruned (oldest rows first) to stay under this size; 0 means no limit. */
  maxBytes: number;
  /** Check retention every this many recorded calls. */
  pruneEvery: number;
  /** This process's row in `instances`, never pruned. */
  instanceId: string;
  onError: (error: unknown) => void;
}

/** Rows deleted per step: small in the background, larger when prune() is called. */
const BACKGROUND_BATCH = 100;
const SYNC_BATCH = 1000;
/** Merge the full-text index once this share of the rows has been deleted since the last merge. */
const MERGE_SHARE = 0.1;
/** A size prune brings the database down to this share of maxBytes. */
const SIZE_TARGET = 0.8;
const PRUNE_PAUSE_MS = 20;

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

export class Retention {
  private readonly stmts: Statements;
  private readonly upkeep: StorageUpkeep;
  private sincePrune = 0;
  /** Where the current retention round is. */
  private pruning = newRound();
  /** Rows deleted since the full-text index was last merged. */
  private deletedSinceMerge = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    db: SqlDb,
    private readonly o: RetentionOptions,
  ) {
    this.stmts = prepare(db);
    this.upkeep = storageUpkeep(db);
  }

  /** One more recorded call: every `pruneEvery` of them, a background prune. */
  counted(): void {
    if (++this.sincePrune >= this.o.pruneEvery) {
      this.sincePrune = 0;
      this.schedule(0);
    }
  }

  /** Prunes in the background, step by step, starting in `delayMs`. */
  schedule(delayMs: number): void {
    if (this.timer || this.stopped || (!this.o.maxAgeDays && !this.o.maxBytes)) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      try {
        if (!this.step(BACKGROUND_BATCH).done) this.schedule(PRUNE_PAUSE_MS);
      } catch (err) {
        this.o.onError(err);
      }
    }, delayMs);
    this.timer.unref();
  }

  /**
   * Applies retention now, completely: deletes rows older than maxAgeDays, then the oldest rows
   * until the database is under maxBytes (to 80% of it, so that it does not prune on every call).
   */
  prune(): PruneResult {
    const result: PruneResult = {
      deletedByAge: 0,
      deletedBySize: 0,
      bytesBefore: 0,
      bytesAfter: 0,
    };
    try {
      result.bytesBefore = this.usedBytes();
      for (;;) {
        const step = this.step(SYNC_BATCH);
        result.deletedByAge += step.byAge;
        result.deletedBySize += step.bySize;
        if (step.done) break;
      }
      result.bytesAfter = this.usedBytes();
    } catch (err) {
      this.o.onError(err);
    }
    return result;
  }

  /** The bytes the record uses (upkeep.ts). */
  usedBytes(): number {
    return this.upkeep.usedBytes();
  }

  /** No more background steps (the database is about to close). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
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
  private step(batch: number): { byAge: number; bySize: number; done: boolean } {
    const s = this.stmts;
    const p = this.pruning;
    if (this.o.maxAgeDays > 0 && !p.ageDone) {
      const cutoff = new Date(Date.now() - this.o.maxAgeDays * 86_400_000).toISOString();
      const byAge = s.deleteOlder.run(cutoff, batch).changes;
      p.deleted += byAge;
      if (byAge > 0) return { byAge, bySize: 0, done: false };
      s.deleteOldInstances.run(cutoff, this.o.instanceId);
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
      if (this.upkeep.mergeStep()) return { byAge: 0, bySize: 0, done: false };
      p.merging = false;
      this.deletedSinceMerge = 0;
    }
    if (this.upkeep.vacuumStep()) return { byAge: 0, bySize: 0, done: false };
    this.pruning = newRound();
    return { byAge: 0, bySize: 0, done: true };
  }

  /** Rows in the table, from the id span (cheap, and exact but for ids pruned out of the middle). */
  private rowCount(): number {
    const span = this.stmts.idSpan.get() as { lo: number | null; hi: number | null };
    return span.lo === null ? 0 : span.hi! - span.lo + 1;
  }

  /** How many of the oldest rows to delete to bring the database to 80% of maxBytes. */
  private rowsOverSize(): number {
    if (this.o.maxBytes <= 0) return 0;
    const used = this.usedBytes();
    if (used <= this.o.maxBytes) return 0;
    return Math.ceil((this.rowCount() * (used - this.o.maxBytes * SIZE_TARGET)) / used);
  }
}

interface Statements {
  deleteOlder: SqlStatement;
  deleteOldest: SqlStatement;
  deleteOldInstances: SqlStatement;
  deleteOldUsage: SqlStatement;
  idSpan: SqlStatement;
}

function prepare(db: SqlDb): Statements {
  // PostgreSQL: an instance row goes only once its lease has lapsed (a live host's row is kept).
  const lapsed =
    db.dialect === "postgres"
      ? ` AND (lease_until IS NULL OR lease_until < (extract(epoch FROM clock_timestamp()) * 1000)::bigint)`
      : "";
  return {
    deleteOlder: db.prepare(
      `DELETE FROM calls WHERE id IN (SELECT id FROM calls WHERE started_at < ? ORDER BY started_at LIMIT ?)`,
    ),
    deleteOldest: db.prepare(
      `DELETE FROM calls WHERE id IN (SELECT id FROM calls WHERE status != 'started' ORDER BY id LIMIT ?)`,
    ),
    deleteOldInstances: db.prepare(
      `DELETE FROM instances WHERE started_at < ? AND id != ?${lapsed} AND id NOT IN (SELECT instance_id FROM calls WHERE status = 'started' AND instance_id IS NOT NULL)`,
    ),
    deleteOldUsage: db.prepare(`DELETE FROM usage_daily WHERE day < ?`),
    idSpan: db.prepare(`SELECT min(id) AS lo, max(id) AS hi FROM calls`),
  };
}
