import { z } from "zod";
import { APPROVAL_POLICIES } from "../../approval/policy.js";
import { errorText } from "../../errors.js";
import { MCP_SERVER_NAME } from "../../mcp-servers.js";
import type { GatewayResult } from "../../request.js";

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
  .describe("A returned sessionId, to resume");

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
  createNewSession: z.boolean().optional(),
  cwd: z.string().max(4096).optional().describe("Absolute path"),
  timeoutMs: ms(1000, 86_400_000),
  idleTimeoutMs: ms(30_000, 3_600_000).describe("Stop after this long without output"),
  correlationId: z
    .string()
    .max(128)
    .regex(/^[\w.:-]+$/, "correlationId may contain letters, digits, _ . : -")
    .optional(),
  allowRerun: z.boolean().optional().describe("Retry even after the agent acted"),
  approvalStrategy: z.enum(["legacy", "mcp_managed"]).optional(),
  approvalPolicy: z.enum(APPROVAL_POLICIES).optional(),
  mcpServers: z
    .array(
      z
        .string()
        .regex(
          MCP_SERVER_NAME,
          "mcpServers entries are server names from the gateway's MCP config",
        ),
    )
    .max(20)
    .optional()
    .describe("Names from the gateway MCP config"),
  optimizePrompt: z.boolean().optional(),
  optimizeResponse: z.boolean().optional(),
};

type CommonInput = {
  [K in keyof typeof common]?: z.infer<(typeof common)[K]>;
} & { prompt: string };

/** The fields every request tool shares, in the gateway's shape. */
export function commonRequest(input: CommonInput) {
  return {
    prompt: input.prompt,
    model: input.model,
    correlationId: input.correlationId,
    sessionId: input.sessionId,
    createNewSession: input.createNewSession,
    cwd: input.cwd,
    timeoutMs: input.timeoutMs,
    idleTimeoutMs: input.idleTimeoutMs,
    allowRerun: input.allowRerun,
    optimizePrompt: input.optimizePrompt,
    optimizeResponse: input.optimizeResponse,
    approvalStrategy: input.approvalStrategy,
    approvalPolicy: input.approvalPolicy,
    mcpServers: input.mcpServers,
  };
}

// Also: model, modelSource (where model comes from: cli | request | config | default),
// sessionId, gatewaySessionId, costUsd, turns, circuit (the CLI's breaker state),
// optimization {prompt, response: {originalChars, optimizedChars, transformations}},
// error {category, message}, and usage
// {inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens, reasoningTokens}.
export const requestOutput = z.looseObject({
  text: z.string(),
  cli: z.string(),
  correlationId: z.string(),
  durationMs: z.number(),
  exitCode: z.number().nullable(),
  retryCount: z.number(),
});

/**
 * The fields a client sees in structuredContent (internal ones — raw, thinking, acted — stay out).
 * Claude Code and Codex hand their model this object serialized, so nothing empty goes in: no
 * unset or empty fields, no zero token counters, and the cost without float noise.
 */
export function structuredResult(result: GatewayResult) {
  const { raw: _raw, thinking: _thinking, acted: _acted, usage, costUsd, ...rest } = result;
  const visible: Record<string, unknown> = {};
  // The CLI's own session id is `sessionId` to clients (and in results stored before the rename).
  for (const [key, value] of Object.entries(rest))
    if (!isEmpty(value)) visible[key === "nativeSessionId" ? "sessionId" : key] = value;
  // The schema's required fields stay, even when empty.
  visible.text = result.text;
  if (result.exitCode === null) visible.exitCode = null;
  const counters = Object.entries(usage ?? {}).filter(([, n]) => typeof n === "number" && n !== 0);
  if (counters.length) visible.usage = Object.fromEntries(counters);
  if (typeof costUsd === "number") visible.costUsd = Math.round(costUsd * 1e6) / 1e6;
  return visible as Omit<GatewayResult, "raw" | "thinking" | "acted" | "nativeSessionId"> & {
    sessionId?: string;
  };
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === "") return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === "object" && Object.keys(value).length === 0;
}

/** An MCP tool result: the text for the model, and everything in structuredContent. */
export function toToolResult(result: GatewayResult) {
  const structuredContent = structuredResult(result);
  if (!result.error)
    return { content: [{ type: "text" as const, text: result.text }], structuredContent };
  const partial = result.text ? `\n\nPartial output:\n${result.text}` : "";
  const text = `${errorText(result.error.category, result.error.message)}${partial}`;
  return { isError: true, content: [{ type: "text" as const, text }], structuredContent };
}
