import { existsSync, readFileSync } from "node:fs";
import { invalidInput } from "./errors.js";
import type { McpServerDef } from "./providers/types.js";

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

/** `text` with every occurrence of each value (also JSON-escaped) replaced by [REDACTED]. */
export function redactValues(text: string, values: readonly string[]): string {
  let out = text;
  const forms = values.flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]);
  for (const form of [...new Set(forms)].sort((a, b) => b.length - a.length))
    out = out.split(form).join("[REDACTED]");
  return out;
}
