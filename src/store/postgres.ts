import { createRequire } from "node:module";
import {
  MessageChannel,
  receiveMessageOnPort,
  Worker,
  type MessagePort,
} from "node:worker_threads";
import { GatewayError } from "../errors.js";
import { positional, type SqlDb, type SqlStatement, type SqlValue } from "./sql.js";

/**
 * PostgreSQL behind the synchronous store interface. The standard driver (`pg`) is asynchronous:
 * it runs on its own thread with one connection, and each statement is handed over and waited for
 * with Atomics.wait, as better-sqlite3 blocks for SQLite. A statement costs a loopback round trip
 * (docs/POSTGRES.md has the figures); statement_timeout bounds how long any one can block.
 */
export interface PostgresOptions {
  /** postgres://... ; empty: the libpq PG* variables (PGHOST, PGUSER, ...) as pg reads them. */
  url: string;
  /** The schema this connection's tables live in (gateway / recorder). */
  schema: string;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  applicationName: string;
}

/** The migrations of one schema, in the order they shipped: SQL text each. Append only. */
export type PgMigration = string;

interface Request {
  /** Echoed in the reply: a reply is matched to its request, never taken for the next one's. */
  id?: number;
  sql: string;
  params?: SqlValue[];
  /** Several statements, no parameters (simple query protocol). */
  script?: boolean;
  /**
   * Inside a transaction: the connection it began on. Never a new one: statements after a drop
   * would otherwise run outside the transaction, half its writes committed.
   */
  connection?: number;
}
type Reply = { id?: number } & (
  | { rows: unknown[]; changes: number; connection: number }
  | { error: string; code?: string; lost: boolean }
);

/**
 * The driver's thread, written as a function and started from its own text (`eval`), so it runs
 * the same from src/ under vitest and from dist/; it takes the driver's resolved path.
 */
function driverThread(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { workerData } = require("node:worker_threads");
  const { pgPath, options, port, flag } = workerData;
  const pg = require(pgPath);
  /* eslint-enable @typescript-eslint/no-require-imports */
  // count(*) and BIGINT columns (int8) and sums (numeric) as numbers, as SQLite gives them.
  pg.types.setTypeParser(20, Number);
  pg.types.setTypeParser(1700, Number);
  const signal = new Int32Array(flag);
  let client: {
    query: (...a: unknown[]) => Promise<{ rows: unknown[]; rowCount: number }>;
  } | null = null;
  const lostCodes = /^(08|57P0[123])/; // connection exceptions, admin/crash shutdown
  let connections = 0;
  async function connect() {
    const c = new pg.Client({
      connectionString: options.url || undefined,
      connectionTimeoutMillis: options.connectTimeoutMs,
      statement_timeout: options.statementTimeoutMs,
      application_name: options.applicationName,
      options: `-c search_path=${options.schema}`,
    });
    c.on("error", () => {
      if (client === c) client = null;
    });
    await c.connect();
    connections++;
    return c;
  }
  port.on("message", async (req: Request) => {
    let reply: Reply;
    try {
      if (req.connection !== undefined && (client === null || req.connection !== connections))
        throw Object.assign(new Error("the connection dropped during a transaction"), {
          code: "08006",
        });
      client ??= await connect();
      const res = req.script
        ? await client!.query(req.sql)
        : await client!.query(req.sql, req.params);
      const last = Array.isArray(res) ? res[res.length - 1] : res;
      reply = { rows: last?.rows ?? [], changes: last?.rowCount ?? 0, connection: connections };
    } catch (err) {
      const e = err as { message?: string; code?: string };
      // Not an SQLSTATE (ECONNREFUSED, a timeout...) or a connection class one: the link is gone.
      const lost = !/^[0-9A-Z]{5}$/.test(e.code ?? "") || lostCodes.test(e.code!);
      if (lost) client = null;
      reply = { error: e.message ?? String(err), code: e.code, lost };
    }
    port.postMessage({ ...reply, id: req.id });
    Atomics.store(signal, 0, 1);
    Atomics.notify(signal, 0);
  });
}

export class PostgresDb implements SqlDb {
  readonly dialect = "postgres" as const;
  private worker!: Worker;
  private port!: MessagePort;
  private readonly signal = new Int32Array(new SharedArrayBuffer(4));
  private readonly statements = new Map<string, SqlStatement>();
  private depth = 0;
  /** The connection the open transaction began on (see Request.connection). */
  private txConnection: number | undefined;
  private closed = false;
  private requests = 0;

  /** Connects now: an unreachable database fails here, at start, with the reason. */
  constructor(private readonly options: PostgresOptions) {
    if (!/^[a-z_][a-z0-9_]*$/.test(options.schema))
      throw new Error(`not a schema name: ${options.schema}`);
    this.startDriver();
    this.exec("SELECT 1");
  }

  /** A new driver thread (at start, and in place of one that stopped answering). */
  private startDriver(): void {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(`(${driverThread.toString()})()`, {
      eval: true,
      // Not the parent's flags: `--input-type=module -e ...` would make this text a module.
      execArgv: [],
      workerData: {
        pgPath: createRequire(import.meta.url).resolve("pg"),
        options: this.options,
        port: port2,
        flag: this.signal.buffer,
      },
      transferList: [port2],
    });
    this.worker.unref();
  }

  prepare(sql: string): SqlStatement {
    let statement = this.statements.get(sql);
    if (!statement) {
      const text = positional(sql);
      const query = (params: SqlValue[]) => this.call({ sql: text, params });
      statement = {
        run: (...params) => ({ changes: query(params).changes }),
        get: (...params) => query(params).rows[0],
        all: (...params) => query(params).rows,
      };
      this.statements.set(sql, statement);
    }
    return statement;
  }

  exec(sql: string): void {
    this.call({ sql, script: true });
  }

  transaction<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.txConnection = this.call({
      sql: `BEGIN; SELECT pg_advisory_xact_lock(hashtext('${this.options.schema}'))`,
      script: true,
    }).connection;
    this.depth++;
    try {
      const value = fn();
      this.exec("COMMIT");
      return value;
    } catch (err) {
      try {
        this.exec("ROLLBACK");
      } catch {
        // the connection is gone: PostgreSQL has rolled the transaction back itself
      }
      throw err;
    } finally {
      this.depth--;
      this.txConnection = undefined;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.worker.terminate();
  }

  private call(request: Request): { rows: unknown[]; changes: number; connection: number } {
    if (this.closed) throw unavailable(this.options, "the connection is closed");
    const id = ++this.requests;
    Atomics.store(this.signal, 0, 0);
    this.port.postMessage({ ...request, id, connection: this.txConnection });
    const waitMs = this.options.statementTimeoutMs + this.options.connectTimeoutMs + 5_000;
    const deadline = Date.now() + waitMs;
    let reply: Reply | undefined;
    // Wait for this request's reply: a wake-up with none yet waits on (seen under load, two
    // gateway processes on two cores), and a late reply to an earlier request is dropped.
    while (reply?.id !== id) {
      reply = receiveMessageOnPort(this.port)?.message as Reply | undefined;
      if (reply) continue;
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.wait(this.signal, 0, 0, left) === "timed-out") {
        // Its late answer must not be taken for the next statement's: a new thread, a new
        // connection; the open transaction (if any) is lost with the old one.
        void this.worker.terminate();
        this.port.close();
        this.startDriver();
        if (this.depth > 0) this.txConnection = -1;
        throw unavailable(this.options, `no answer in ${waitMs} ms`);
      }
      Atomics.store(this.signal, 0, 0);
    }
    if ("error" in reply) {
      if (reply.lost) throw unavailable(this.options, reply.error);
      throw Object.assign(new Error(reply.error), { code: reply.code });
    }
    return reply;
  }
}

/** The database could not be reached or dropped: the request fails typed, naming the host. */
function unavailable(options: PostgresOptions, why: string): GatewayError {
  return new GatewayError(
    "database_unavailable",
    `PostgreSQL (${describeTarget(options.url)}) is unreachable: ${why}`,
  );
}

/** host:port/database of a URL, never its password. */
export function describeTarget(url: string): string {
  if (!url) return "from the PG* environment variables";
  try {
    const u = new URL(url);
    return `${u.hostname || "localhost"}:${u.port || 5432}${u.pathname}`;
  } catch {
    return "LLM_GATEWAY_DATABASE_URL (not a valid URL)";
  }
}

/**
 * Opens one schema and brings it to the latest migration. Gateway processes on several hosts may
 * start together: an advisory lock lets one migrate while the others wait.
 */
export function openPostgres(options: PostgresOptions, migrations: readonly PgMigration[]): SqlDb {
  const db = new PostgresDb(options);
  const schema = options.schema;
  db.transaction(() => {
    db.exec(`CREATE SCHEMA IF NOT EXISTS ${schema};
      CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
        version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const row = db.prepare(`SELECT max(version) AS v FROM schema_migrations`).get() as {
      v: number | null;
    };
    for (let v = row.v ?? 0; v < migrations.length; v++) {
      db.exec(migrations[v]!);
      db.prepare(`INSERT INTO schema_migrations (version) VALUES (?)`).run(v + 1);
    }
  });
  return db;
}
