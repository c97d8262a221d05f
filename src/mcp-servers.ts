import { existsSync, readFileSync } from "node:fs";
import { invalidInput } from "./errors.js";

/** One server in the usual `mcpServers` format (stdio). */
export interface McpServerDef {
  command: string;
  args?: string[];
  env?: Record<string, string>;
}

export interface McpSelection {
  requested: string[];
  enabled: string[];
  missing: string[];
  /** The definitions of the enabled servers. */
  servers: Record<string, McpServerDef>;
}

export const MCP_SERVER_NAME = /^[A-Za-z0-9][\w-]{0,63}$/;

/**
 * The MCP servers a request may expose to its CLI come only from the gateway's config file (the
 * user's own choice), never from the request: a request names servers, the file defines them.
 */
export function selectMcpServers(configPath: string, requested: string[]): McpSelection {
  const configured = readMcpServers(configPath);
  const enabled = requested.filter((name) => configured[name]);
  return {
    requested,
    enabled,
    missing: requested.filter((name) => !configured[name]),
    servers: Object.fromEntries(enabled.map((name) => [name, configured[name]!])),
  };
}

/** The servers defined in the config file (none when it does not exist); throws when it is not JSON. */
export function readMcpServers(path: string): Record<string, McpServerDef> {
  if (!existsSync(path)) return {};
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw invalidInput(
      `The MCP server config ${path} is not valid JSON: ${(err as Error).message}`,
    );
  }
  const servers = (doc as { mcpServers?: unknown })?.mcpServers;
  if (typeof servers !== "object" || servers === null) return {};
  const out: Record<string, McpServerDef> = {};
  for (const [name, def] of Object.entries(servers as Record<string, McpServerDef>)) {
    if (MCP_SERVER_NAME.test(name) && typeof def?.command === "string") out[name] = def;
  }
  return out;
}

/** Values shorter than this are not worth hiding (and would garble every log line that has them). */
const MIN_SECRET_LENGTH = 4;

/**
 * The values of the servers' `env`: often API keys, so they never go on a command line or into a
 * log line (see `redactValues`).
 */
export function secretValues(servers: Record<string, McpServerDef>): string[] {
  const values = Object.values(servers).flatMap((def) => Object.values(def.env ?? {}));
  return [...new Set(values.filter((v) => typeof v === "string" && v.length >= MIN_SECRET_LENGTH))];
}

/** `text` with every occurrence of each value (also JSON-escaped) replaced by [REDACTED]. */
export function redactValues(text: string, values: readonly string[]): string {
  let out = text;
  const forms = values.flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]);
  for (const form of [...new Set(forms)].sort((a, b) => b.length - a.length))
    out = out.split(form).join("[REDACTED]");
  return out;
}
