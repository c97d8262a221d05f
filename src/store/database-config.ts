import { envPositiveInt } from "../number-settings.js";
import type { PostgresOptions } from "./postgres.js";

/** How to reach PostgreSQL; null: the SQLite files in the state directory (the default). */
export type PostgresSettings = Omit<PostgresOptions, "schema" | "applicationName">;

export const DEFAULT_STATEMENT_TIMEOUT_MS = 10_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/**
 * `LLM_GATEWAY_DATABASE_URL`: a `postgres://` / `postgresql://` URL, or `env` to take every part
 * from libpq's PG* variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE); parts a URL leaves
 * out come from them too. Unset or empty: SQLite.
 */
export function postgresFromEnv(env: NodeJS.ProcessEnv): PostgresSettings | null {
  const raw = env.LLM_GATEWAY_DATABASE_URL?.trim();
  if (!raw) return null;
  if (raw !== "env" && !/^postgres(ql)?:\/\//.test(raw))
    throw new Error(
      'LLM_GATEWAY_DATABASE_URL must be a postgres:// or postgresql:// URL, or "env" (the PG* variables)',
    );
  return {
    url: raw === "env" ? "" : raw,
    statementTimeoutMs:
      envPositiveInt(env, "LLM_GATEWAY_DATABASE_STATEMENT_TIMEOUT_MS") ??
      DEFAULT_STATEMENT_TIMEOUT_MS,
    connectTimeoutMs:
      envPositiveInt(env, "LLM_GATEWAY_DATABASE_CONNECT_TIMEOUT_MS") ?? DEFAULT_CONNECT_TIMEOUT_MS,
  };
}
