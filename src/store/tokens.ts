import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { ApprovalPolicy } from "../approval/policy.js";
import type { CliName } from "../providers/types.js";
import type { Migration } from "./db.js";
import type { SqlDb, SqlStatement } from "./sql.js";

/**
 * HTTP clients: bearer tokens (only their SHA-256 is stored), and the owner of each session and
 * job (the token's name; NULL for stdio), so that one client never sees another's.
 */
export const HTTP_CLIENTS_MIGRATION: Migration = (db) =>
  db.exec(`
    CREATE TABLE tokens (
      name TEXT PRIMARY KEY,
      hash TEXT NOT NULL UNIQUE,
      clis TEXT,
      max_policy TEXT,
      concurrency INTEGER,
      created_at TEXT NOT NULL
    );
    ALTER TABLE sessions ADD COLUMN owner TEXT;
    ALTER TABLE deleted_sessions ADD COLUMN owner TEXT;
    CREATE TABLE owner_active_sessions (
      owner TEXT NOT NULL,
      cli TEXT NOT NULL,
      session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
      PRIMARY KEY (owner, cli)
    );
    ALTER TABLE jobs ADD COLUMN client_token TEXT;
    CREATE INDEX jobs_client_token ON jobs (client_token, status) WHERE client_token IS NOT NULL;
  `);

export interface TokenRecord {
  name: string;
  clis?: CliName[];
  maxPolicy?: ApprovalPolicy;
  concurrency?: number;
  createdAt: string;
}

interface Row {
  name: string;
  hash: string;
  clis: string | null;
  max_policy: string | null;
  concurrency: number | null;
  created_at: string;
}

const TOKEN_PREFIX = "lcg_";
export const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const hashOf = (token: string) => createHash("sha256").update(token, "utf8").digest();

const toRecord = (r: Row): TokenRecord => ({
  name: r.name,
  ...(r.clis ? { clis: r.clis.split(",") as CliName[] } : {}),
  ...(r.max_policy ? { maxPolicy: r.max_policy as ApprovalPolicy } : {}),
  ...(r.concurrency !== null ? { concurrency: r.concurrency } : {}),
  createdAt: r.created_at,
});

/** The tokens table of gateway.db. The token itself is shown once, at creation, and never stored. */
export class TokenStore {
  private readonly sql: (text: string) => SqlStatement;
  /** Names in byte order, as SQLite sorts them; PostgreSQL's default collation may not. */
  private readonly byName: string;

  constructor(db: SqlDb) {
    this.sql = (text) => db.prepare(text);
    this.byName = db.dialect === "postgres" ? `name COLLATE "C"` : "name";
  }

  /** A new token under a name not in use; returns the secret (the only time it exists in full). */
  create(input: Omit<TokenRecord, "createdAt">): { token: string; record: TokenRecord } {
    if (this.sql(`SELECT 1 FROM tokens WHERE name = ?`).get(input.name))
      throw new Error(`a token named "${input.name}" exists: revoke it first`);
    const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
    this.sql(
      `INSERT INTO tokens (name, hash, clis, max_policy, concurrency, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(
      input.name,
      hashOf(token).toString("hex"),
      input.clis?.length ? input.clis.join(",") : null,
      input.maxPolicy ?? null,
      input.concurrency ?? null,
      new Date().toISOString(),
    );
    return { token, record: this.list().find((t) => t.name === input.name)! };
  }

  list(): TokenRecord[] {
    return (this.sql(`SELECT * FROM tokens ORDER BY ${this.byName}`).all() as Row[]).map(toRecord);
  }

  count(): number {
    return (this.sql(`SELECT count(*) AS n FROM tokens`).get() as { n: number }).n;
  }

  revoke(name: string): boolean {
    return this.sql(`DELETE FROM tokens WHERE name = ?`).run(name).changes === 1;
  }

  /**
   * The token's record, or undefined. Read from the database on every call, so a revocation by
   * `token revoke` (another process) holds at once; every stored hash is compared, in constant time.
   */
  verify(token: string): TokenRecord | undefined {
    const presented = hashOf(token);
    let match: Row | undefined;
    for (const row of this.sql(`SELECT * FROM tokens`).all() as Row[]) {
      const stored = Buffer.from(row.hash, "hex");
      if (stored.length === presented.length && timingSafeEqual(stored, presented)) match = row;
    }
    return match && toRecord(match);
  }
}
