import type { Db } from "../store/db.js";
import type { SqlDb } from "../store/sql.js";
import { SqliteDb } from "../store/sql.js";

/**
 * What retention measures and tidies, which differs by engine.
 *
 * SQLite: the bytes in use are the file's pages minus its free pages; the FTS5 index is merged
 * (it records deletions as markers only a merge reclaims) and free pages go back to the file
 * system (incremental vacuum). PostgreSQL gives a deleted row's space back to the table, not to
 * the file system (autovacuum makes it reusable), so the tables' size (pg_total_relation_size)
 * would stay over the limit after any prune: the bytes in use are the calls' rows as the triggers
 * count them (pg-schema.ts's stored_bytes), and there is nothing to merge or vacuum by hand.
 */
export interface StorageUpkeep {
  usedBytes(): number;
  /** One bounded merge step of the search index; true when it did work (more may follow). */
  mergeStep(): boolean;
  /** Gives some free pages back to the file system; true when there were some. */
  vacuumStep(): boolean;
}

/** Pages of the full-text index merged per step (a few tens of ms at most). */
const MERGE_PAGES = 64;
/** Pages given back to the file system per step (8 MB of 4 KB pages). */
const VACUUM_PAGES = 2000;

export function storageUpkeep(db: SqlDb): StorageUpkeep {
  if (db instanceof SqliteDb) return new SqliteUpkeep(db.handle);
  const used = db.prepare(`SELECT calls FROM stored_bytes`);
  return {
    usedBytes: () => (used.get() as { calls: number } | undefined)?.calls ?? 0,
    mergeStep: () => false,
    vacuumStep: () => false,
  };
}

class SqliteUpkeep implements StorageUpkeep {
  private readonly pageCount;
  private readonly freelist;
  private readonly pageSize;
  private readonly totalChanges;
  private readonly ftsMerge;

  constructor(private readonly db: Db) {
    this.pageCount = db.prepare(`PRAGMA page_count`).pluck();
    this.freelist = db.prepare(`PRAGMA freelist_count`).pluck();
    this.pageSize = db.prepare(`PRAGMA page_size`).pluck();
    this.totalChanges = db.prepare(`SELECT total_changes()`).pluck();
    this.ftsMerge = db.prepare(
      `INSERT INTO calls_fts (calls_fts, rank) VALUES ('merge', -${MERGE_PAGES})`,
    );
  }

  usedBytes(): number {
    const pages = (this.pageCount.get() as number) - (this.freelist.get() as number);
    return pages * (this.pageSize.get() as number);
  }

  mergeStep(): boolean {
    const before = this.totalChanges.get() as number;
    this.ftsMerge.run();
    return (this.totalChanges.get() as number) - before >= 2;
  }

  vacuumStep(): boolean {
    if ((this.freelist.get() as number) === 0) return false;
    // exec, not a prepared statement: a statement's run() frees one page per call.
    this.db.exec(`PRAGMA incremental_vacuum(${VACUUM_PAGES})`);
    return true;
  }
}
