// doctor's look at the shared PostgreSQL store (LLM_GATEWAY_DATABASE_URL): reachable or why not,
// the server's version and the gateway schema's migration version. Read-only: it creates nothing.
import type { PostgresSettings } from "../store/database-config.js";
import { GATEWAY_SCHEMA } from "../store/open.js";
import { GATEWAY_PG_MIGRATIONS } from "../store/pg-schema.js";
import { describeTarget } from "../store/postgres.js";

/** One of doctor's checks (doctor-checks.ts's CheckReport: that module imports this one). */
export interface DatabaseCheck {
  name: "database";
  ok: boolean;
  detail: string;
  problems: { problem: string; fix: string }[];
}

export async function checkPostgres(settings: PostgresSettings): Promise<DatabaseCheck> {
  const target = `PostgreSQL ${describeTarget(settings.url)}`;
  const latest = GATEWAY_PG_MIGRATIONS.length;
  const { default: pg } = await import("pg");
  const client = new pg.Client({
    connectionString: settings.url || undefined,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    application_name: "llm-cli-gateway doctor",
  });
  // A connection that drops after connecting is reported below, not thrown from an event.
  client.on("error", () => {});
  try {
    await client.connect();
    const version = (await client.query("SHOW server_version")).rows[0].server_version as string;
    const table = `${GATEWAY_SCHEMA}.schema_migrations`;
    const exists = (await client.query("SELECT to_regclass($1) AS t", [table])).rows[0].t;
    const schema = exists
      ? Number(
          (await client.query(`SELECT coalesce(max(version), 0) AS v FROM ${table}`)).rows[0].v,
        )
      : 0;
    const detail = `${target}: reachable, server ${version}; schema ${GATEWAY_SCHEMA} ${
      exists ? `at version ${schema} of ${latest}` : "not created yet (the first call creates it)"
    }`;
    if (schema > latest)
      return {
        name: "database",
        ok: false,
        detail,
        problems: [
          {
            problem: `schema ${GATEWAY_SCHEMA} is at version ${schema}, newer than this gateway knows (${latest})`,
            fix: "upgrade this gateway to the version the other hosts run",
          },
        ],
      };
    return { name: "database", ok: true, detail, problems: [] };
  } catch (err) {
    const why = (err as Error).message;
    return {
      name: "database",
      ok: false,
      detail: `${target}: unreachable (${why})`,
      problems: [
        {
          problem: `${target} cannot be used: ${why}`,
          fix: "check that the server runs and accepts this user (LLM_GATEWAY_DATABASE_URL or the PG* variables), or unset LLM_GATEWAY_DATABASE_URL to use the SQLite files",
        },
      ],
    };
  } finally {
    await client.end().catch(() => {});
  }
}
