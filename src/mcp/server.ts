import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Gateway } from "../gateway.js";
import { ToolRegistry } from "./tool-list.js";
import type { SessionStore } from "../store/sessions.js";
import { registerClaudeRequest } from "./tools/claude-request.js";
import { registerCodexRequest } from "./tools/codex-request.js";
import { registerGeminiRequest } from "./tools/gemini-request.js";
import { registerListModels } from "./tools/list-models.js";
import { registerSessionTools } from "./tools/sessions.js";

export const SERVER_NAME = "llm-cli-gateway";

export function createMcpServer(
  gateway: Gateway,
  sessions: SessionStore,
  version: string,
): McpServer {
  const server = new McpServer({ name: SERVER_NAME, version });
  const tools = new ToolRegistry(server);
  registerClaudeRequest(tools, gateway);
  registerCodexRequest(tools, gateway);
  registerGeminiRequest(tools, gateway);
  registerListModels(tools);
  registerSessionTools(tools, sessions);
  tools.serveList();
  return server;
}
