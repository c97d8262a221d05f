import { describe, expect, it } from "vitest";
import { openPostgres } from "../../src/store/postgres.js";
import { GatewayError } from "../../src/errors.js";
import { BACKENDS, freshPgDatabase } from "../helpers/postgres.js";

const options = (url: string) => ({
  url,
  schema: "gateway",
  statementTimeoutMs: 2_000,
  connectTimeoutMs: 2_000,
  applicationName: "test",
});

describe.runIf(BACKENDS.includes("postgres"))("the PostgreSQL bridge", () => {
  it("runs statements synchronously, with ? placeholders, numbers as numbers", async () => {
    const db = openPostgres(options(await freshPgDatabase()), [
      `CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT NOT NULL, note TEXT)`,
    ]);
    const insert = db.prepare(`INSERT INTO t (id, n, note) VALUES (?, ?, ?)`);
    expect(insert.run("a", 2 ** 40, "it's ?")).toEqual({ changes: 1 });
    insert.run("b", 1, null);
    expect(db.prepare(`SELECT count(*) AS c, sum(n) AS s FROM t`).get()).toEqual({
      c: 2,
      s: 2 ** 40 + 1,
    });
    expect(db.prepare(`SELECT note FROM t WHERE id = ?`).get("a")).toEqual({ note: "it's ?" });
    db.close();
  });

  it("applies each migration once, also when reopened", async () => {
    const url = await freshPgDatabase();
    const migrations = [`CREATE TABLE a (x INT)`, `CREATE TABLE b (y INT)`];
    openPostgres(options(url), migrations.slice(0, 1)).close();
    const db = openPostgres(options(url), migrations);
    expect(db.prepare(`SELECT max(version) AS v FROM schema_migrations`).get()).toEqual({ v: 2 });
    db.close();
  });

  it("rolls a failed transaction back whole", async () => {
    const db = openPostgres(options(await freshPgDatabase()), [`CREATE TABLE t (id TEXT)`]);
    expect(() =>
      db.transaction(() => {
        db.prepare(`INSERT INTO t VALUES (?)`).run("x");
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(db.prepare(`SELECT count(*) AS c FROM t`).get()).toEqual({ c: 0 });
    // A statement error is the driver's, with its SQLSTATE, and the connection stays usable.
    expect(() => db.prepare(`SELECT nope FROM t`).all()).toThrow(/nope/);
    expect(db.prepare(`SELECT 1 AS one`).get()).toEqual({ one: 1 });
    db.close();
  });

  it("an unreachable server is database_unavailable, naming host and port, never a password", () => {
    let caught: unknown;
    try {
      openPostgres(options("postgres://me:s3cret@127.0.0.1:1/x"), []);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    expect((caught as GatewayError).category).toBe("database_unavailable");
    expect((caught as GatewayError).message).toContain("127.0.0.1:1/x");
    expect((caught as GatewayError).message).not.toContain("s3cret");
  });
});
