import { z } from "zod";
import type { GatewayResult } from "../../gateway.js";

export const MAX_PROMPT_CHARS = 100_000;
/** Session ids are UUIDs (and legacy ids like "legacy-1"): never a flag, a path or a NUL. */
export const SESSION_ID = /^[A-Za-z0-9][\w-]{0,127}$/;

export const prompt = z
  .string()
  .max(MAX_PROMPT_CHARS, "Prompt too long (max 100k chars)")
  .refine((p) => p.trim().length > 0, "Prompt cannot be empty")
  .describe("1-100,000 chars");

export const model = z
  .string()
  .max(100)
  .regex(/^[A-Za-z0-9][\w.:/[\]-]*$/, "model must be a model id or alias such as sonnet or latest")
  .optional()
  .describe("Model or alias (list_models)");

export const sessionId = z
  .string()
  .regex(
    SESSION_ID,
    "sessionId must be a session id: letters, digits, - and _, not starting with -",
  )
  .optional()
  .describe("Session to resume (a returned sessionId)");

/** A tool name or pattern; never starts with "-" so it cannot be read as a flag. */
const toolName = z
  .string()
  .min(1)
  .max(200)
  .regex(
    /^[^\s\0-][^\0\n]*$/,
    "tool names must not be empty, start with '-' or contain NUL/newlines",
  );
export const toolList = z.array(toolName).max(100).optional();

const ms = (min: number, max: number) => z.number().int().min(min).max(max).optional();

export const common = {
  prompt,
  model,
  sessionId,
  createNewSession: z.boolean().optional().describe("Start a fresh session"),
  cwd: z.string().max(4096).optional().describe("Absolute working directory"),
  timeoutMs: ms(1000, 86_400_000).describe("Wall-clock limit (default none)"),
  idleTimeoutMs: ms(30_000, 3_600_000).describe("Stop after this long without output"),
  correlationId: z
    .string()
    .max(128)
    .regex(/^[\w.:-]+$/, "correlationId may contain letters, digits, _ . : -")
    .optional()
    .describe("Trace id (generated if omitted)"),
  // Seed options this version rejects unless left at their defaults (see rejectUnsupported).
  approvalStrategy: z.enum(["legacy", "mcp_managed"]).optional(),
  approvalPolicy: z.enum(["strict", "balanced", "permissive"]).optional(),
  mcpServers: z.array(z.string().max(100)).max(50).optional(),
  optimizePrompt: z.boolean().optional(),
  optimizeResponse: z.boolean().optional(),
};

type CommonInput = {
  [K in keyof typeof common]?: z.infer<(typeof common)[K]>;
} & { prompt: string };

/** The fields every request tool shares, in the gateway's shape. */
export function commonRequest(input: CommonInput, extraUnsupported: Record<string, unknown> = {}) {
  return {
    prompt: input.prompt,
    model: input.model,
    correlationId: input.correlationId,
    sessionId: input.sessionId,
    createNewSession: input.createNewSession,
    cwd: input.cwd,
    timeoutMs: input.timeoutMs,
    idleTimeoutMs: input.idleTimeoutMs,
    unsupported: {
      approvalStrategy: input.approvalStrategy,
      approvalPolicy: input.approvalPolicy,
      mcpServers: input.mcpServers,
      optimizePrompt: input.optimizePrompt,
      optimizeResponse: input.optimizeResponse,
      ...extraUnsupported,
    },
  };
}

// inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens, reasoningTokens
const usage = z.record(z.string(), z.number());

export const requestOutput = {
  text: z.string(),
  cli: z.enum(["claude", "codex", "gemini"]),
  model: z.string().optional(),
  correlationId: z.string(),
  sessionId: z.string().optional(),
  gatewaySessionId: z.string().optional(),
  durationMs: z.number(),
  exitCode: z.number().nullable(),
  usage,
  costUsd: z.number().optional(),
  turns: z.number().optional(),
  retryCount: z.number(),
  error: z.object({ category: z.string(), message: z.string() }).optional(),
};

/** An MCP tool result: the text for the model, and everything in structuredContent. */
export function toToolResult(result: GatewayResult, outputJson = false) {
  const { raw, ...structured } = result;
  const text = outputJson && raw !== undefined ? JSON.stringify(raw) : result.text;
  if (result.error) {
    const partial = result.text ? `\n\nPartial output:\n${result.text}` : "";
    return {
      isError: true,
      content: [
        {
          type: "text" as const,
          text: `[${result.error.category}] ${result.error.message}${partial}`,
        },
      ],
      structuredContent: structured,
    };
  }
  return { content: [{ type: "text" as const, text }], structuredContent: { ...structured, text } };
}
