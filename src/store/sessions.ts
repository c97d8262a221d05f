import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { Usage } from "../providers/types.js";
import { CLI_NAMES, type CliName } from "../providers/types.js";
import { preparedOnce, type Db, type Migration, type Statement } from "./db.js";

export interface SessionRecord {
  /** The gateway's id. Equal to nativeId except for codex sessions made by session_create and imported ones. */
  id: string;
  cli: CliName;
  /** The CLI's own session id, once the CLI has reported it. */
  nativeId: string | null;
  /** True once the CLI has created its session: later requests resume it. */
  started: boolean;
  /** The directory the session started in (claude and gemini look sessions up by directory). */
  cwd: string | null;
  model: string | null;
  description: string;
  createdAt: string;
  lastUsedAt: string;
  requestCount: number;
  usage: Required<Usage>;
  costUsd: number;
}

export interface RunRecord {
  /** The CLI's own session id, as the run reported it. */
  nativeSessionId?: string;
  cwd: string;
  model?: string;
  usage: Usage;
  costUsd?: number;
}

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

interface Row {
  id: string;
  cli: CliName;
  native_id: string | null;
  started: number;
  cwd: string | null;
  model: string | null;
  description: string;
  created_at: string;
  last_used_at: string;
  request_count: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
}

const toRecord = (r: Row): SessionRecord => ({
  id: r.id,
  cli: r.cli,
  nativeId: r.native_id,
  started: r.started === 1,
  cwd: r.cwd,
  model: r.model,
  description: r.description,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  requestCount: r.request_count,
  usage: {
    inputTokens: r.input_tokens,
    outputTokens: r.output_tokens,
    cacheReadTokens: r.cache_read_tokens,
    cacheWriteTokens: r.cache_write_tokens,
    reasoningTokens: r.reasoning_tokens,
  },
  costUsd: r.cost_usd,
});

const defaultDescription = (cli: CliName) => `${cli[0]!.toUpperCase()}${cli.slice(1)} Session`;

/** Gateway sessions in SQLite. Every write is one statement or one transaction: safe across processes. */
export class SessionStore {
  private readonly sql: (text: string) => Statement;

  constructor(private readonly db: Db) {
    this.sql = preparedOnce(db);
  }

  create(input: {
    cli: CliName;
    description?: string;
    id?: string;
    nativeId?: string;
    started?: boolean;
    cwd?: string;
    model?: string;
  }): SessionRecord {
    const now = new Date().toISOString();
    const id = input.id ?? randomUUID();
    this.sql(
      `INSERT INTO sessions (id, cli, native_id, started, cwd, model, description, created_at, last_used_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      id,
      input.cli,
      input.nativeId ?? null,
      input.started ? 1 : 0,
      input.cwd ?? null,
      input.model ?? null,
      input.description ?? defaultDescription(input.cli),
      now,
      now,
    );
    return this.get(id)!;
  }

  get(id: string): SessionRecord | undefined {
    const row = this.sql(`SELECT * FROM sessions WHERE id = ?`).get(id) as Row | undefined;
    return row && toRecord(row);
  }

  /** A session by the gateway's id or by the CLI's own id. */
  find(cli: CliName, id: string): SessionRecord | undefined {
    const row = this.sql(
      `SELECT * FROM sessions WHERE id = ? OR (cli = ? AND native_id = ?) ORDER BY id = ? DESC LIMIT 1`,
    ).get(id, cli, id, id) as Row | undefined;
    return row && toRecord(row);
  }

  wasDeleted(id: string): boolean {
    return this.sql(`SELECT 1 FROM deleted_sessions WHERE id = ?`).get(id) !== undefined;
  }

  list(cli?: CliName): SessionRecord[] {
    const rows = cli
      ? this.sql(`SELECT * FROM sessions WHERE cli = ? ORDER BY last_used_at DESC`).all(cli)
      : this.sql(`SELECT * FROM sessions ORDER BY last_used_at DESC`).all();
    return (rows as Row[]).map(toRecord);
  }

  active(cli: CliName): SessionRecord | undefined {
    const row = this.sql(
      `SELECT s.* FROM active_sessions a JOIN sessions s ON s.id = a.session_id WHERE a.cli = ?`,
    ).get(cli) as Row | undefined;
    return row && toRecord(row);
  }

  activeIds(): Record<CliName, string | null> {
    const rows = this.sql(`SELECT cli, session_id FROM active_sessions`).all() as {
      cli: CliName;
      session_id: string;
    }[];
    const ids = Object.fromEntries(CLI_NAMES.map((c) => [c, null])) as Record<
      CliName,
      string | null
    >;
    for (const r of rows) ids[r.cli] = r.session_id;
    return ids;
  }

  setActive(cli: CliName, id: string | null): void {
    if (id === null) this.sql(`DELETE FROM active_sessions WHERE cli = ?`).run(cli);
    else
      this.sql(
        `INSERT INTO active_sessions (cli, session_id) VALUES (?, ?) ON CONFLICT (cli) DO UPDATE SET session_id = excluded.session_id`,
      ).run(cli, id);
  }

  delete(id: string): boolean {
    return this.db
      .transaction(() => {
        const row = this.sql(`DELETE FROM sessions WHERE id = ? RETURNING cli`).get(id) as
          { cli: string } | undefined;
        if (row)
          this.sql(`INSERT OR REPLACE INTO deleted_sessions VALUES (?, ?, ?)`).run(
            id,
            row.cli,
            new Date().toISOString(),
          );
        return row !== undefined;
      })
      .immediate();
  }

  clearAll(cli?: CliName): number {
    return this.db
      .transaction(() => {
        const rows = (
          cli
            ? this.sql(`DELETE FROM sessions WHERE cli = ? RETURNING id, cli`).all(cli)
            : this.sql(`DELETE FROM sessions RETURNING id, cli`).all()
        ) as { id: string; cli: string }[];
        const now = new Date().toISOString();
        const remember = this.sql(`INSERT OR REPLACE INTO deleted_sessions VALUES (?, ?, ?)`);
        for (const r of rows) remember.run(r.id, r.cli, now);
        return rows.length;
      })
      .immediate();
  }

  /**
   * Counts a finished run against its session: atomically, so concurrent gateways lose no update.
   * Without a session id, the run's native session is found or recorded (every id the gateway
   * hands out must be one it can resume).
   */
  recordRun(
    cli: CliName,
    gatewaySessionId: string | undefined,
    run: RunRecord,
  ): SessionRecord | undefined {
    return this.db
      .transaction(() => {
        let id = gatewaySessionId;
        if (!id) {
          if (!run.nativeSessionId) return undefined;
          id = this.find(cli, run.nativeSessionId)?.id;
          if (!id)
            id = this.create({
              cli,
              id: this.freeId(run.nativeSessionId),
              nativeId: run.nativeSessionId,
              started: true,
              cwd: run.cwd,
              model: run.model,
            }).id;
        }
        const u = run.usage;
        this.sql(
          `UPDATE sessions SET
             native_id = COALESCE(native_id, ?), started = started OR ?, cwd = COALESCE(cwd, ?), model = COALESCE(?, model),
             last_used_at = ?, request_count = request_count + 1,
             input_tokens = input_tokens + ?, output_tokens = output_tokens + ?, cache_read_tokens = cache_read_tokens + ?,
             cache_write_tokens = cache_write_tokens + ?, reasoning_tokens = reasoning_tokens + ?, cost_usd = cost_usd + ?
           WHERE id = ?`,
        ).run(
          run.nativeSessionId ?? null,
          run.nativeSessionId ? 1 : 0,
          run.cwd,
          run.model ?? null,
          new Date().toISOString(),
          u.inputTokens ?? 0,
          u.outputTokens ?? 0,
          u.cacheReadTokens ?? 0,
          u.cacheWriteTokens ?? 0,
          u.reasoningTokens ?? 0,
          run.costUsd ?? 0,
          id,
        );
        return this.get(id);
      })
      .immediate();
  }

  /** The native id itself, unless a deleted session had it (then a fresh one). */
  private freeId(nativeId: string): string {
    return this.wasDeleted(nativeId) || this.get(nativeId) ? randomUUID() : nativeId;
  }

  /**
   * Imports a ~/.llm-cli-gateway/sessions.json written by earlier gateways, once. Those did not
   * record the CLI's own session ids, so an imported session's first request starts a new CLI
   * conversation, which the session then keeps.
   */
  importLegacyJson(path: string): number {
    if (!existsSync(path)) return 0;
    return this.db
      .transaction(() => {
        if (this.sql(`SELECT 1 FROM meta WHERE key = 'sessions_json_imported'`).get()) return 0;
        this.sql(`INSERT INTO meta VALUES ('sessions_json_imported', ?)`).run(
          new Date().toISOString(),
        );
        let data: {
          sessions?: Record<string, LegacySession>;
          activeSession?: Record<string, string | null>;
        };
        try {
          data = JSON.parse(readFileSync(path, "utf8"));
        } catch {
          return 0;
        }
        const insert = this.sql(
          `INSERT OR IGNORE INTO sessions (id, cli, description, created_at, last_used_at) VALUES (?, ?, ?, ?, ?)`,
        );
        let count = 0;
        for (const s of Object.values(data.sessions ?? {})) {
          if (!s?.id || !(CLI_NAMES as readonly string[]).includes(s.cli)) continue;
          const created = s.createdAt ?? new Date().toISOString();
          count += insert.run(
            s.id,
            s.cli,
            s.description ?? defaultDescription(s.cli as CliName),
            created,
            s.lastUsedAt ?? created,
          ).changes;
        }
        for (const [cli, id] of Object.entries(data.activeSession ?? {})) {
          if (id && (CLI_NAMES as readonly string[]).includes(cli) && this.get(id)?.cli === cli)
            this.setActive(cli as CliName, id);
        }
        return count;
      })
      .immediate();
  }
}

interface LegacySession {
  id: string;
  cli: string;
  description?: string;
  createdAt?: string;
  lastUsedAt?: string;
}
