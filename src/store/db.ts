import { dirname } from "node:path";
import Database from "better-sqlite3";
import { narrowIfPresent, privateDir, privateFile } from "./private-files.js";

export type Db = Database.Database;
export type Statement = Database.Statement;

/** Versioned migrations, applied in order, each once. Never edit one that has shipped: add another. */
export type Migration = (db: Db) => void;

/** Each connection's SQLite page cache, in KiB. */
export const PAGE_CACHE_KIB = 2048;

/**
 * Opens a SQLite file shared by several gateway processes (one per client window): WAL so readers
 * never block the writer, a busy timeout so writers wait for each other instead of failing, and
 * owner-only modes on the directory and the files.
 */
export function openDatabase(path: string, migrations: readonly Migration[]): Db {
  privateDir(dirname(path));
  // Made 0600 before SQLite opens it, so that its -wal and -shm files (which take the database
  // file's mode) are never readable by others either, not even for a moment.
  privateFile(path);
  const db = new Database(path);
  db.pragma("busy_timeout = 10000");
  enableWal(db);
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  // better-sqlite3 builds SQLite with a 16 MB page cache per connection; each of ours fills it
  // (job output, the recorder), and it stays in RSS. 2 MB (SQLite's own default) costs no
  // measurable speed for appends and paged reads (docs/PERFORMANCE.md, output cap).
  db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  migrate(db, migrations);
  for (const suffix of ["-wal", "-shm"]) narrowIfPresent(path + suffix);
  return db;
}

/**
 * Switching a new file to WAL takes a lock that SQLite does not wait for with the busy timeout:
 * two processes opening the same new database at once can get SQLITE_BUSY here. Wait and retry.
 */
function enableWal(db: Db): void {
  for (let attempt = 1; ; attempt++) {
    try {
      db.pragma("journal_mode = WAL");
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== "SQLITE_BUSY" || attempt >= 200) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
    }
  }
}

/** `sql(text)`: the statement for that text, prepared once on first use (preparing costs more than most queries here). */
export function preparedOnce(db: Db): (text: string) => Statement {
  const statements = new Map<string, Statement>();
  return (text) => {
    let statement = statements.get(text);
    if (!statement) statements.set(text, (statement = db.prepare(text)));
    return statement;
  };
}

function migrate(db: Db, migrations: readonly Migration[]): void {
  // IMMEDIATE takes the write lock first, so two processes starting together migrate once.
  db.transaction(() => {
    const version = db.pragma("user_version", { simple: true }) as number;
    for (let v = version; v < migrations.length; v++) migrations[v]!(db);
    if (version < migrations.length) db.pragma(`user_version = ${migrations.length}`);
  }).immediate();
}
