import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  ErrorCode,
  type CallToolRequest,
  type RequestId,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type CreateTaskResult,
  type Tool,
  type ToolAnnotations,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { invalidInput, type GatewayError } from "../errors.js";
import { largeTextIdsIn, releaseLargeText } from "../process/large-text.js";
import type { Elicit } from "../approval/service.js";
import type { ProgressUpdate } from "../jobs/output.js";
import { toolError } from "./tools/errors.js";

type ObjectSchema = z.ZodObject<z.ZodRawShape>;

/** What a tool handler gets besides its arguments. */
export interface ToolContext {
  /** Aborted when the client cancels the call. */
  signal: AbortSignal;
  /** Sends notifications/progress, when the client asked for them with a progress token. */
  progress?: (update: ProgressUpdate) => void;
  /** Asks the person at the client a yes/no question, when the client supports elicitation. */
  elicit?: Elicit;
  /**
   * The reply may carry kept large texts (process/large-text.ts): the transport writes them from
   * their bytes (the stdio one does; the SDK's HTTP one would send the placeholders).
   */
  largeText?: boolean;
}

/** A reply's large texts not written by then (a call canceled before its answer) are forgotten. */
const LARGE_TEXT_GRACE_MS = 60_000;

/** How long a person has to answer an approval question. */
const ELICIT_TIMEOUT_MS = 120_000;

export interface ToolDefinition<I extends ObjectSchema> {
  name: string;
  description: string;
  inputSchema: I;
  outputSchema?: ObjectSchema;
  annotations?: ToolAnnotations;
  /** Advertise the input schema without field descriptions (another tool already explains them). */
  terse?: boolean;
  handler(args: z.infer<I>, ctx: ToolContext): Promise<CallToolResult> | CallToolResult;
  /** Told about calls refused by the input schema (the flight recorder keeps them too). */
  onRejected?(args: Record<string, unknown>, error: GatewayError): void;
  /** Task-augmented calls (MCP tasks): start the work and return the task at once. */
  startTask?(args: z.infer<I>, ctx: ToolContext): Promise<CreateTaskResult>;
}

/**
 * The tools of the server: tools/list answered from one compact, precomputed document (every
 * client pays for it in context on every turn), and tools/call validated here, so that a bad
 * argument is an `[invalid_input]` tool error naming the field, and nothing runs.
 */
export class ToolRegistry {
  private readonly tools = new Map<string, ToolDefinition<ObjectSchema>>();
  private readonly listed: Tool[] = [];

  add<I extends ObjectSchema>(tool: ToolDefinition<I>): void {
    this.tools.set(tool.name, tool as unknown as ToolDefinition<ObjectSchema>);
    this.listed.push({
      name: tool.name,
      description: tool.description,
      inputSchema: jsonSchema(tool.inputSchema, "input", tool.terse) as Tool["inputSchema"],
      ...(tool.outputSchema
        ? { outputSchema: jsonSchema(tool.outputSchema, "output") as Tool["outputSchema"] }
        : {}),
      ...(tool.annotations ? { annotations: tool.annotations } : {}),
      ...(tool.startTask ? { execution: { taskSupport: "optional" as const } } : {}),
    });
  }

  /** The tools/list answer. */
  list(): { tools: Tool[] } {
    return { tools: this.listed };
  }

  /** `within`: runs each call in its client's scope (an HTTP client's token), so all it starts is theirs. */
  install(server: Server, within: <R>(fn: () => R) => R = (fn) => fn()): void {
    const list = this.list();
    server.setRequestHandler(ListToolsRequestSchema, () => list);
    server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
      within(() => this.call(server, request, extra)),
    );
  }

  private async call(
    server: Server,
    request: CallToolRequest,
    extra: { signal: AbortSignal; requestId: RequestId },
  ): Promise<CallToolResult | CreateTaskResult> {
    {
      // Over HTTP a request's notifications go on its own response stream; a task's outlive that
      // response, so they go on the client's GET stream.
      const related = request.params.task ? {} : { relatedRequestId: extra.requestId };
      const tool = this.tools.get(request.params.name);
      if (!tool)
        throw new McpError(ErrorCode.InvalidParams, `Tool ${request.params.name} not found`);
      const parsed = tool.inputSchema.safeParse(request.params.arguments ?? {});
      if (!parsed.success) {
        const error = invalidArguments(tool.name, parsed.error);
        tool.onRejected?.(request.params.arguments ?? {}, error);
        return toolError(error);
      }
      const token = request.params._meta?.progressToken;
      const largeText =
        (server.transport as { writesLargeText?: boolean } | undefined)?.writesLargeText === true;
      const ctx: ToolContext = {
        signal: extra.signal,
        ...(largeText ? { largeText } : {}),
        ...(server.getClientCapabilities()?.elicitation
          ? { elicit: (message: string) => ask(server, message, related) }
          : {}),
        ...(token !== undefined
          ? {
              progress: ({ progress, message }) =>
                void server
                  .notification(
                    {
                      method: "notifications/progress",
                      params: { progressToken: token, progress, message },
                    },
                    related,
                  )
                  .catch(() => {}),
            }
          : {}),
      };
      try {
        if (request.params.task) {
          if (!tool.startTask)
            throw new McpError(ErrorCode.InvalidParams, `Tool ${tool.name} does not support tasks`);
          return tool.startTask(parsed.data, ctx);
        }
        const result = await tool.handler(parsed.data, ctx);
        const ids = largeText ? largeTextIdsIn(result) : [];
        if (ids.length) setTimeout(() => releaseLargeText(ids), LARGE_TEXT_GRACE_MS).unref();
        return result;
      } catch (err) {
        if (err instanceof McpError) throw err;
        return toolError(err);
      }
    }
  }
}

async function ask(
  server: Server,
  message: string,
  related: { relatedRequestId?: RequestId },
): Promise<"accept" | "decline" | "cancel"> {
  try {
    const answer = await server.elicitInput(
      { message, requestedSchema: { type: "object", properties: {} } },
      { timeout: ELICIT_TIMEOUT_MS, ...related },
    );
    return answer.action;
  } catch {
    return "cancel"; // no answer in time, or the client failed: not an approval
  }
}

function invalidArguments(tool: string, error: z.ZodError): GatewayError {
  const issues = error.issues.map((i) =>
    i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message,
  );
  return invalidInput(`Invalid arguments for tool ${tool}: ${issues.join("; ")}`);
}

/** Enforced by the server (with messages naming the field and the limit), not advertised. */
const UNADVERTISED = new Set(["$schema", "pattern", "minLength", "maxLength", "maxItems"]);

/**
 * The advertised JSON Schema, trimmed of what costs context on every turn without helping a
 * caller choose arguments: the `$schema` URL, regex patterns and string/array size limits.
 */
function jsonSchema(
  schema: ObjectSchema,
  io: "input" | "output",
  terse = false,
): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: "draft-7", io });
  const drop = (key: string) =>
    UNADVERTISED.has(key) ||
    (key === "additionalProperties" && io === "output") ||
    (terse && key === "description");
  return JSON.parse(JSON.stringify(json, (key, value) => (drop(key) ? undefined : value)));
}
