import type { McpServerDef } from "./types.js";

/** Values shorter than this are not worth hiding (and would garble every log line that has them). */
const MIN_SECRET_LENGTH = 4;

/**
 * The values of the servers' `env`: often API keys, so they never go on a command line or into a
 * log line (see `redactValues` in src/mcp-servers.ts).
 */
export function secretValues(servers: Record<string, McpServerDef>): string[] {
  const values = Object.values(servers).flatMap((def) => Object.values(def.env ?? {}));
  return [...new Set(values.filter((v) => typeof v === "string" && v.length >= MIN_SECRET_LENGTH))];
}
