import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { Usage } from "../providers/types.js";
import { CLI_NAMES, type CliName } from "../providers/types.js";
import type { SqlDb, SqlStatement } from "./sql.js";

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
  /** The machine where the CLI created the session's files (its first run); null before. */
  host: string | null;
}

export interface RunRecord {
  /** The CLI's own session id, as the run reported it. */
  nativeSessionId?: string;
  cwd: string;
  model?: string;
  usage: Usage;
  costUsd?: number;
}

export { SESSION_MIGRATIONS, SESSIONS_ANY_CLI_MIGRATION } from "./session-schema.js";

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
  host?: string | null;
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
  host: r.host ?? null,
});

const defaultDescription = (cli: CliName) => `${cli[0]!.toUpperCase()}${cli.slice(1)} Session`;

/** Gateway sessions in SQLite. Every write is one statement or one transaction: safe across processes. */
export class SessionStore {
  private readonly sql: (text: string) => SqlStatement;

  /**
   * `clientOf`: the HTTP client whose request is being handled. With one, every read and write
   * sees only that client's sessions (and its own active sessions); without one (stdio), all.
   */
  constructor(
    private readonly db: SqlDb,
    private readonly clientOf: () => string | undefined = () => undefined,
  ) {
    this.sql = (text) => db.prepare(text);
  }

  /** The SQL condition (after WHERE ...) and parameter limiting a query to the caller's sessions. */
  private scoped(column = "owner"): [string, string[]] {
    const client = this.clientOf();
    return client === undefined ? ["", []] : [` AND ${column} = ?`, [client]];
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
    const client = this.clientOf();
    // Over stdio the statement predates the owner column (a store over older migrations works).
    this.sql(
      client === undefined
        ? `INSERT INTO sessions (id, cli, native_id, started, cwd, model, description, created_at, last_used_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
        : `INSERT INTO sessions (id, cli, native_id, started, cwd, model, description, created_at, last_used_at, owner)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
      ...(client === undefined ? [] : [client]),
    );
    return this.get(id)!;
  }

  get(id: string): SessionRecord | undefined {
    const [mine, client] = this.scoped();
    const row = this.sql(`SELECT * FROM sessions WHERE id = ?${mine}`).get(id, ...client) as
      Row | undefined;
    return row && toRecord(row);
  }

  /** A session by the gateway's id or by the CLI's own id. */
  find(cli: CliName, id: string): SessionRecord | undefined {
    const [mine, client] = this.scoped();
    const row = this.sql(
      `SELECT * FROM sessions WHERE (id = ? OR (cli = ? AND native_id = ?))${mine} ORDER BY id = ? DESC LIMIT 1`,
    ).get(id, cli, id, ...client, id) as Row | undefined;
    return row && toRecord(row);
  }

  wasDeleted(id: string): boolean {
    const [mine, client] = this.scoped();
    return (
      this.sql(`SELECT 1 FROM deleted_sessions WHERE id = ?${mine}`).get(id, ...client) !==
      undefined
    );
  }

  list(cli?: CliName): SessionRecord[] {
    const [mine, client] = this.scoped();
    const rows = cli
      ? this.sql(`SELECT * FROM sessions WHERE cli = ?${mine} ORDER BY last_used_at DESC`).all(
          cli,
          ...client,
        )
      : this.sql(`SELECT * FROM sessions WHERE TRUE${mine} ORDER BY last_used_at DESC`).all(
          ...client,
        );
    return (rows as Row[]).map(toRecord);
  }

  /** Where the active sessions are: per HTTP client, or the one set stdio has always had. */
  private activeTable(): [string, string, string[]] {
    const client = this.clientOf();
    return client === undefined
      ? ["active_sessions", "", []]
      : ["owner_active_sessions", " AND a.owner = ?", [client]];
  }

  active(cli: CliName): SessionRecord | undefined {
    const [table, mine, client] = this.activeTable();
    const row = this.sql(
      `SELECT s.* FROM ${table} a JOIN sessions s ON s.id = a.session_id WHERE a.cli = ?${mine}`,
    ).get(cli, ...client) as Row | undefined;
    return row && toRecord(row);
  }

  activeIds(): Record<CliName, string | null> {
    const [table, mine, client] = this.activeTable();
    const rows = this.sql(`SELECT cli, session_id FROM ${table} a WHERE TRUE${mine}`).all(
      ...client,
    ) as {
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
    const client = this.clientOf();
    if (client !== undefined) {
      if (id === null)
        this.sql(`DELETE FROM owner_active_sessions WHERE owner = ? AND cli = ?`).run(client, cli);
      else
        this.sql(
          `INSERT INTO owner_active_sessions (owner, cli, session_id) VALUES (?, ?, ?) ON CONFLICT (owner, cli) DO UPDATE SET session_id = excluded.session_id`,
        ).run(client, cli, id);
      return;
    }
    if (id === null) this.sql(`DELETE FROM active_sessions WHERE cli = ?`).run(cli);
    else
      this.sql(
        `INSERT INTO active_sessions (cli, session_id) VALUES (?, ?) ON CONFLICT (cli) DO UPDATE SET session_id = excluded.session_id`,
      ).run(cli, id);
  }

  delete(id: string): boolean {
    return this.db.transaction(() => {
      const [mine, client] = this.scoped();
      const row = this.sql(`DELETE FROM sessions WHERE id = ?${mine} RETURNING cli`).get(
        id,
        ...client,
      ) as { cli: string } | undefined;
      if (row) this.remember(id, row.cli, new Date().toISOString());
      return row !== undefined;
    });
  }

  clearAll(cli?: CliName): number {
    return this.db.transaction(() => {
      const [mine, client] = this.scoped();
      const rows = (
        cli
          ? this.sql(`DELETE FROM sessions WHERE cli = ?${mine} RETURNING id, cli`).all(
              cli,
              ...client,
            )
          : this.sql(`DELETE FROM sessions WHERE TRUE${mine} RETURNING id, cli`).all(...client)
      ) as { id: string; cli: string }[];
      const now = new Date().toISOString();
      for (const r of rows) this.remember(r.id, r.cli, now);
      return rows.length;
    });
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
    return this.db.transaction(() => {
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
             native_id = COALESCE(native_id, ?), started = CASE WHEN ? = 1 THEN 1 ELSE started END, cwd = COALESCE(cwd, ?), model = COALESCE(?, model),
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
    });
  }

  /** A deleted session, so that using it says so; an HTTP client's, under its name. */
  private remember(id: string, cli: string, at: string): void {
    const client = this.clientOf();
    if (client === undefined)
      this.sql(
        `INSERT INTO deleted_sessions (id, cli, deleted_at) VALUES (?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET cli = excluded.cli, deleted_at = excluded.deleted_at, owner = NULL`,
      ).run(id, cli, at);
    else
      this.sql(
        `INSERT INTO deleted_sessions (id, cli, deleted_at, owner) VALUES (?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET cli = excluded.cli, deleted_at = excluded.deleted_at, owner = excluded.owner`,
      ).run(id, cli, at, client);
  }

  /** The native id itself, unless a deleted session had it (then a fresh one). */
  private freeId(nativeId: string): string {
    // Any client's: ids are unique across clients.
    const taken = this.sql(
      `SELECT 1 FROM sessions WHERE id = ? UNION ALL SELECT 1 FROM deleted_sessions WHERE id = ?`,
    ).get(nativeId, nativeId);
    return taken ? randomUUID() : nativeId;
  }

  /**
   * Imports a ~/.llm-cli-gateway/sessions.json written by earlier gateways, once. Those did not
   * record the CLI's own session ids, so an imported session's first request starts a new CLI
   * conversation, which the session then keeps.
   */
  importLegacyJson(path: string): number {
    if (!existsSync(path)) return 0;
    return this.db.transaction(() => {
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
        `INSERT INTO sessions (id, cli, description, created_at, last_used_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
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
    });
  }

  /** Records the machine where a session's CLI files were made, once (its first run). */
  recordHost(id: string, host: string): void {
    this.sql(`UPDATE sessions SET host = ? WHERE id = ? AND host IS NULL`).run(host, id);
  }
}

interface LegacySession {
  id: string;
  cli: string;
  description?: string;
  createdAt?: string;
  lastUsedAt?: string;
}
