import { GatewayError, invalidInput } from "./errors.js";
import { loadMcpConfig, MCP_ENTRY_FORMAT } from "./mcp-config.js";
import type { McpServerDef } from "./providers/types.js";

export { MCP_SERVER_NAME } from "./mcp-config.js";

export interface McpSelection {
  requested: string[];
  enabled: string[];
  missing: string[];
  /** Requested entries the config file defines but that are invalid (left out), and why. */
  warnings?: string[];
  /** The definitions of the enabled servers. */
  servers: Record<string, McpServerDef>;
}

/**
 * The MCP servers a request may expose to its CLI come only from the gateway's config file (the
 * user's own choice), never from the request: a request names servers, the file defines them.
 * A request that names none does not depend on the file, so a broken file does not fail it.
 */
export function selectMcpServers(configPath: string, requested: string[]): McpSelection {
  if (!requested.length) return { requested, enabled: [], missing: [], servers: {} };
  const config = loadMcpConfig(configPath);
  if (config.fileError) {
    const { problem, fix } = config.fileError;
    throw new GatewayError(
      "config_error",
      `mcpServers: the MCP server config ${configPath} ${problem}. Fix: ${fix}; \`llm-cli-gateway doctor\` checks it.`,
    );
  }
  const { servers: configured } = config;
  const enabled = requested.filter((name) => configured[name]);
  const warnings = config.invalid
    .filter(({ name }) => requested.includes(name))
    .map(
      ({ name, problem }) =>
        `mcpServers: "${name}" in ${configPath} is invalid and was left out: ${problem}. Fix the entry (${MCP_ENTRY_FORMAT}).`,
    );
  return {
    requested,
    enabled,
    missing: requested.filter((name) => !configured[name]),
    ...(warnings.length ? { warnings } : {}),
    servers: Object.fromEntries(enabled.map((name) => [name, configured[name]!])),
  };
}

/**
 * The refusal when a request needs every server it names (claude's strictMcpConfig) and some are
 * not usable: the operator's config error when the file has them but invalid, else bad input.
 */
export function missingServersError(selection: McpSelection, configPath: string): GatewayError {
  const missing = selection.missing.join(", ");
  if (selection.warnings?.length)
    return new GatewayError(
      "config_error",
      `${selection.warnings.join(" ")} strictMcpConfig runs claude only with every server named (not usable: ${missing}).`,
    );
  return invalidInput(`mcpServers: ${missing} not configured in ${configPath} (strictMcpConfig)`);
}

/** `text` with every occurrence of each value (also JSON-escaped) replaced by [REDACTED]. */
export function redactValues(text: string, values: readonly string[]): string {
  let out = text;
  const forms = values.flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]);
  for (const form of [...new Set(forms)].sort((a, b) => b.length - a.length))
    out = out.split(form).join("[REDACTED]");
  return out;
}
