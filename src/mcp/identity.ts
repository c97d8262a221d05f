/**
 * What the server says about itself in `initialize`. Kept free of runtime imports so the thin
 * entry point can answer `initialize` before the MCP SDK and the rest of the gateway are loaded.
 */
export const SERVER_NAME = "llm-cli-gateway";

/** The protocol versions the SDK in use supports, newest first (a test keeps them in step). */
export const PROTOCOL_VERSIONS = [
  "2025-11-25",
  "2025-06-18",
  "2025-03-26",
  "2024-11-05",
  "2024-10-07",
];

export const CAPABILITIES = {
  tools: {},
  tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } },
};

/** The version the server answers with: the client's, when supported, else the newest. */
export function negotiateVersion(requested: unknown): string {
  return typeof requested === "string" && PROTOCOL_VERSIONS.includes(requested)
    ? requested
    : PROTOCOL_VERSIONS[0]!;
}

/**
 * Every request method the server answers (a test keeps this in step with the SDK server's
 * handlers). Before the server has loaded, any other request is answered "method not found" at
 * once instead of waiting for the server to say the same.
 */
export const SERVER_METHODS: readonly string[] = [
  "initialize",
  "ping",
  "tools/list",
  "tools/call",
  "tasks/get",
  "tasks/result",
  "tasks/list",
  "tasks/cancel",
];
