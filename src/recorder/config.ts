import { isAbsolute, join, resolve } from "node:path";
import { envNonNegative } from "../number-settings.js";
import { DEFAULT_PRICES, loadPriceFile, type PriceTable } from "../store/prices.js";

/** Where and how much to record: `recorderConfigFromEnv` reads it from the environment. */
export interface RecorderConfig {
  /** The database file; null when recording is disabled. */
  path: string | null;
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

function expandPath(p: string, env: NodeJS.ProcessEnv): string {
  if ((p === "~" || p.startsWith("~/")) && env.HOME) p = join(env.HOME, p.slice(1));
  return isAbsolute(p) ? p : resolve(p);
}
