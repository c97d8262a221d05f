import type { SqlDb, SqlStatement } from "../store/sql.js";

/**
 * Feeds the full-text index (calls_fts) from fts_pending, where the triggers queue every call that
 * ends: in the background, in batches, off the request's path (tokenizing a long answer is most of
 * the cost of recording a call). Ids any gateway process left pending are indexed too. SQLite: an
 * FTS5 table; PostgreSQL: a tsvector per call (pg-schema.ts's search_document).
 */

/** Ended calls are indexed this long after the first of a batch ends, at most INDEX_BATCH at a time. */
const INDEX_DELAY_MS = 50;
export const INDEX_BATCH = 200;

export class SearchIndexer {
  private readonly pendingUpto: SqlStatement;
  private readonly insert: SqlStatement;
  private readonly clearPending: SqlStatement;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly db: SqlDb,
    private readonly onError: (error: unknown) => void,
  ) {
    this.pendingUpto = db.prepare(
      `SELECT max(id) AS upto FROM (SELECT id FROM fts_pending ORDER BY id LIMIT ?) p`,
    );
    this.insert = db.prepare(
      db.dialect === "sqlite"
        ? `INSERT INTO calls_fts (rowid, prompt, response)
           SELECT c.id, c.prompt, c.response FROM fts_pending p JOIN calls c ON c.id = p.id
           WHERE p.id <= ? AND NOT EXISTS (SELECT 1 FROM calls_fts_docsize d WHERE d.id = p.id)`
        : `INSERT INTO calls_fts (id, document)
           SELECT c.id, search_document(c.prompt, c.response)
           FROM fts_pending p JOIN calls c ON c.id = p.id
           WHERE p.id <= ? AND c.status != 'started'
           ON CONFLICT (id) DO NOTHING`,
    );
    this.clearPending = db.prepare(`DELETE FROM fts_pending WHERE id <= ?`);
  }

  /** Indexes pending calls soon, in one batch for calls that end close together. */
  schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      try {
        if (this.indexPending() === INDEX_BATCH) this.schedule();
      } catch (err) {
        this.onError(err);
      }
    }, INDEX_DELAY_MS);
    this.timer.unref();
  }

  /** Indexes at most `limit` pending calls in one transaction; returns how many ids it took. */
  indexPending(limit = INDEX_BATCH): number {
    return this.db.transaction(() => {
      const { upto } = this.pendingUpto.get(limit) as { upto: number | null };
      if (upto === null) return 0;
      this.insert.run(upto);
      return this.clearPending.run(upto).changes;
    });
  }

  /** No more background batches (the database is about to close). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
