// doctor's look at the shared PostgreSQL database (LLM_GATEWAY_DATABASE_URL): reachable or why
// not, the server's version, the gateway schema's migration version and, when the flight recorder
// writes there, the recorder schema's version and its number of calls. Read-only: it creates nothing.
import { RECORDER_PG_MIGRATIONS } from "../recorder/pg-schema.js";
import { RECORDER_SCHEMA } from "../recorder/store.js";
import type { PostgresSettings } from "../store/database-config.js";
import { GATEWAY_SCHEMA } from "../store/open.js";
import { GATEWAY_PG_MIGRATIONS } from "../store/pg-schema.js";
import { describeTarget } from "../store/postgres.js";

/** One of doctor's checks (doctor-checks.ts's CheckReport: that module imports this one). */
export interface DatabaseCheck {
  name: "database" | "recorder";
  ok: boolean;
  detail: string;
  problems: { problem: string; fix: string }[];
}

type Query = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

/**
 * The `database` check, and the `recorder` check when `recorder` is set (the flight recorder
 * writes to this database's `recorder` schema), over one connection.
 */
export async function checkPostgres(
  settings: PostgresSettings,
  { recorder = false }: { recorder?: boolean } = {},
): Promise<DatabaseCheck[]> {
  const target = `PostgreSQL ${describeTarget(settings.url)}`;
  const { default: pg } = await import("pg");
  const client = new pg.Client({
    connectionString: settings.url || undefined,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    application_name: "llm-cli-gateway doctor",
  });
  // A connection that drops after connecting is reported below, not thrown from an event.
  client.on("error", () => {});
  const query: Query = async (sql, params) => (await client.query(sql, params)).rows;
  try {
    await client.connect();
    const version = (await query("SHOW server_version"))[0]!.server_version as string;
    const checks = [await checkGatewaySchema(query, `${target}: reachable, server ${version}`)];
    if (recorder) checks.push(await checkRecorderSchema(query, target));
    return checks;
  } catch (err) {
    const why = (err as Error).message;
    const checks: DatabaseCheck[] = [
      {
        name: "database",
        ok: false,
        detail: `${target}: unreachable (${why})`,
        problems: [
          {
            problem: `${target} cannot be used: ${why}`,
            fix: "check that the server runs and accepts this user (LLM_GATEWAY_DATABASE_URL or the PG* variables), or unset LLM_GATEWAY_DATABASE_URL to use the SQLite files",
          },
        ],
      },
    ];
    if (recorder)
      checks.push({
        name: "recorder",
        ok: false,
        detail: `the flight recorder writes to schema ${RECORDER_SCHEMA} of ${target}, which is unreachable (see database)`,
        problems: [],
      });
    return checks;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A schema's migration version; null when no gateway has created it yet. */
async function schemaVersion(query: Query, schema: string): Promise<number | null> {
  const table = `${schema}.schema_migrations`;
  if (!(await query("SELECT to_regclass($1) AS t", [table]))[0]!.t) return null;
  return Number((await query(`SELECT coalesce(max(version), 0) AS v FROM ${table}`))[0]!.v);
}

async function checkGatewaySchema(query: Query, reachable: string): Promise<DatabaseCheck> {
  const latest = GATEWAY_PG_MIGRATIONS.length;
  const schema = await schemaVersion(query, GATEWAY_SCHEMA);
  const detail = `${reachable}; schema ${GATEWAY_SCHEMA} ${
    schema === null
      ? "not created yet (the first call creates it)"
      : `at version ${schema} of ${latest}`
  }`;
  return versionCheck("database", GATEWAY_SCHEMA, detail, schema, latest);
}

async function checkRecorderSchema(query: Query, target: string): Promise<DatabaseCheck> {
  const latest = RECORDER_PG_MIGRATIONS.length;
  const schema = await schemaVersion(query, RECORDER_SCHEMA);
  const where = `the flight recorder writes to ${target}, schema ${RECORDER_SCHEMA}`;
  if (schema === null)
    return {
      name: "recorder",
      ok: true,
      detail: `${where}: not created yet (the first gateway start creates it)`,
      problems: [],
    };
  const calls =
    (await query(`SELECT to_regclass($1) AS t`, [`${RECORDER_SCHEMA}.calls`]))[0]!.t === null
      ? 0
      : Number((await query(`SELECT count(*) AS n FROM ${RECORDER_SCHEMA}.calls`))[0]!.n);
  const detail = `${where} at version ${schema} of ${latest}; ${calls} call(s) recorded`;
  return versionCheck("recorder", RECORDER_SCHEMA, detail, schema, latest);
}

/** A schema newer than this gateway knows fails: another host runs a newer gateway. */
function versionCheck(
  name: DatabaseCheck["name"],
  schemaName: string,
  detail: string,
  schema: number | null,
  latest: number,
): DatabaseCheck {
  if (schema !== null && schema > latest)
    return {
      name,
      ok: false,
      detail,
      problems: [
        {
          problem: `schema ${schemaName} is at version ${schema}, newer than this gateway knows (${latest})`,
          fix: "upgrade this gateway to the version the other hosts run",
        },
      ],
    };
  return { name, ok: true, detail, problems: [] };
}
