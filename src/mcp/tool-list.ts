import type { McpServer, ToolCallback } from "@modelcontextprotocol/sdk/server/mcp.js";
import {
  ListToolsRequestSchema,
  type Tool,
  type ToolAnnotations,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

type ObjectSchema = z.ZodObject<z.ZodRawShape>;

export interface ToolConfig<I extends ObjectSchema> {
  description: string;
  inputSchema: I;
  outputSchema?: ObjectSchema;
  annotations?: ToolAnnotations;
}

/**
 * Registers tools with the SDK (which validates calls) and keeps their definitions, so that
 * tools/list can be answered from one compact, precomputed document: every client pays for the
 * tool list in context on every turn.
 */
export class ToolRegistry {
  private readonly tools: Tool[] = [];

  constructor(private readonly server: McpServer) {}

  add<I extends ObjectSchema>(name: string, config: ToolConfig<I>, handler: ToolCallback<I>): void {
    this.server.registerTool(name, config, handler);
    this.tools.push({
      name,
      description: config.description,
      inputSchema: jsonSchema(config.inputSchema, "input") as Tool["inputSchema"],
      ...(config.outputSchema
        ? { outputSchema: jsonSchema(config.outputSchema, "output") as Tool["outputSchema"] }
        : {}),
      ...(config.annotations ? { annotations: config.annotations } : {}),
    });
  }

  /** Replaces the SDK's tools/list handler, which rebuilds every schema on every call. */
  serveList(): void {
    const result = { tools: this.tools };
    this.server.server.setRequestHandler(ListToolsRequestSchema, () => result);
  }
}

function jsonSchema(schema: ObjectSchema, io: "input" | "output"): Record<string, unknown> {
  const json: Record<string, unknown> = z.toJSONSchema(schema, { target: "draft-7", io });
  delete json.$schema; // the same URL in every schema, paid for on every turn
  return json;
}
