import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll } from "vitest";

/** The test cluster's admin URL (see pg-global-setup.ts), when PostgreSQL is there. */
export const PG_ADMIN_URL = process.env.LLM_GATEWAY_TEST_DATABASE_URL;

if (!PG_ADMIN_URL && process.env.CI)
  throw new Error(
    "CI runs every store test on PostgreSQL too: LLM_GATEWAY_TEST_DATABASE_URL is unset",
  );

export type Backend = "sqlite" | "postgres";
/** The backends this run tests: both, or SQLite alone where PostgreSQL is not installed. */
export const BACKENDS: Backend[] = PG_ADMIN_URL ? ["sqlite", "postgres"] : ["sqlite"];

const created: string[] = [];

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database of the test cluster; dropped after the file's tests. */
export async function freshPgDatabase(): Promise<string> {
  if (!PG_ADMIN_URL) throw new Error("no PostgreSQL for this run");
  const name = `t_${randomBytes(6).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  if (!created.length) afterAll(dropCreated);
  created.push(name);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function dropCreated(): Promise<void> {
  const names = created.splice(0);
  await admin(async (c) => {
    for (const name of names) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
}

/** Rows of one query against a test database (a gateway's, by its URL). */
export async function pgRows<T = Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Every row of every table in one schema, as text: what `grep` over gateway.db is on SQLite. */
export async function schemaText(url: string, schema: string): Promise<string> {
  const tables = await pgRows<{ name: string }>(
    url,
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1`,
    [schema],
  );
  let text = "";
  for (const { name } of tables)
    for (const row of await pgRows<{ t: string }>(
      url,
      `SELECT t::text AS t FROM ${schema}."${name}" t`,
    ))
      text += `${row.t}\n`;
  return text;
}
