import { isAbsolute, join, resolve } from "node:path";
import { envNonNegative } from "../number-settings.js";
import { postgresFromEnv, type PostgresSettings } from "../store/database-config.js";
import { DEFAULT_PRICES, loadPriceFile, type PriceTable } from "../store/prices.js";

/** Where the recorder's tables live: a SQLite file, or the `recorder` schema of a PostgreSQL database. */
export type RecorderLocation = { sqlite: string } | { postgres: PostgresSettings };

/** Where and how much to record: `recorderConfigFromEnv` reads it from the environment. */
export interface RecorderConfig {
  /** The database file; null when recording is disabled. */
  path: string | null;
  /**
   * Record into the `recorder` schema of this PostgreSQL database instead of `path`: set when
   * LLM_GATEWAY_DATABASE_URL is and LLM_GATEWAY_LOGS_DB is not (see `recorderLocation`).
   */
  postgres: PostgresSettings | null;
  /** Rows older than this are pruned; 0 keeps them forever. */
  maxAgeDays: number;
  /** The database is pruned (oldest rows first) to stay under this size; 0 means no limit. */
  maxBytes: number;
  /** Price table for cost estimates: the defaults, overridden by LLM_GATEWAY_PRICES. */
  prices: PriceTable;
}

export const DEFAULT_MAX_AGE_DAYS = 90;
export const DEFAULT_MAX_MB = 500;
export const MB = 1024 * 1024;

/**
 * Reads the recorder's settings:
 * - `LLM_GATEWAY_LOGS_DB`: the database path (see `logsDbPath`).
 * - `LLM_GATEWAY_DATABASE_URL`: PostgreSQL instead of logs.db, when LLM_GATEWAY_LOGS_DB is unset.
 * - `LLM_GATEWAY_LOGS_MAX_AGE_DAYS`: default 90; 0 keeps rows forever.
 * - `LLM_GATEWAY_LOGS_MAX_MB`: default 500; 0 means no size limit.
 * - `LLM_GATEWAY_PRICES`: a JSON price file merged over the default price table.
 *
 * `home` is the gateway's state directory (config.ts's `gatewayHomeDir`).
 */
export function recorderConfigFromEnv(env: NodeJS.ProcessEnv, home: string): RecorderConfig {
  const pricesPath = env.LLM_GATEWAY_PRICES?.trim();
  return {
    path: logsDbPath(env, home),
    postgres: recordsToPostgres(env),
    maxAgeDays: envNonNegative(env, "LLM_GATEWAY_LOGS_MAX_AGE_DAYS") ?? DEFAULT_MAX_AGE_DAYS,
    maxBytes: Math.round((envNonNegative(env, "LLM_GATEWAY_LOGS_MAX_MB") ?? DEFAULT_MAX_MB) * MB),
    prices: pricesPath
      ? { ...DEFAULT_PRICES, ...loadPriceFile(expandPath(pricesPath, env)) }
      : DEFAULT_PRICES,
  };
}

/**
 * logs.db's path: `LLM_GATEWAY_LOGS_DB` (`~/` expanded, relative to the working directory), else
 * `<home>/logs.db`; null when the variable is empty or `none` (recording disabled). Readers
 * (`logs`) find the database with it, without the recorder's other settings.
 */
export function logsDbPath(env: NodeJS.ProcessEnv, home: string): string | null {
  const raw = env.LLM_GATEWAY_LOGS_DB;
  if (raw === undefined) return join(home, "logs.db");
  if (raw.trim() === "" || raw.trim().toLowerCase() === "none") return null;
  return expandPath(raw.trim(), env);
}

/**
 * Where the recorder writes (and `logs` reads); null: recording is off. With
 * LLM_GATEWAY_DATABASE_URL set the flight record is shared in PostgreSQL, unless
 * LLM_GATEWAY_LOGS_DB says otherwise: `none` (or empty) still turns recording off, and a path
 * keeps this gateway's record in that SQLite file.
 */
export function recorderLocation(config: {
  path: string | null;
  postgres: PostgresSettings | null;
}): RecorderLocation | null {
  if (config.postgres) return { postgres: config.postgres };
  return config.path === null ? null : { sqlite: config.path };
}

/** Where `logs` reads, from the environment alone (recorderLocation's rule). */
export function recorderLocationFromEnv(env: NodeJS.ProcessEnv, home: string) {
  return recorderLocation({ path: logsDbPath(env, home), postgres: recordsToPostgres(env) });
}

function recordsToPostgres(env: NodeJS.ProcessEnv): PostgresSettings | null {
  return env.LLM_GATEWAY_LOGS_DB === undefined ? postgresFromEnv(env) : null;
}

function expandPath(p: string, env: NodeJS.ProcessEnv): string {
  if ((p === "~" || p.startsWith("~/")) && env.HOME) p = join(env.HOME, p.slice(1));
  return isAbsolute(p) ? p : resolve(p);
}
