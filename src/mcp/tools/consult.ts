import type { CallToolResult, CreateTaskResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { APPROVAL_POLICIES } from "../../approval/policy.js";
import type { Orchestrator, ParentRun } from "../../orchestrate/index.js";
import { CLI_NAMES, type CliName } from "../../providers/types.js";
import type { JobKind, JobStore } from "../../store/jobs.js";
import type { ToolContext, ToolRegistry } from "../registry.js";
import { parentToolResult, taskOf } from "../task-store.js";
import { reply } from "./reply.js";
import { model, prompt } from "./request-common.js";

// Described once, by the request tools (list_models explains the ids).
const modelId = model.unwrap().optional();

/** What consult and review call. */
export interface FanoutToolDeps {
  orchestrator: Orchestrator;
  store: JobStore;
  /** How long finished jobs are kept (a task's ttl). */
  retentionMs: number;
}

/** The fields consult and review share. */
export const fanout = {
  clis: z
    .array(z.enum(CLI_NAMES))
    .min(1)
    .max(CLI_NAMES.length)
    .optional()
    .describe("Default: all installed"),
  models: z
    .strictObject(
      Object.fromEntries(CLI_NAMES.map((cli) => [cli, modelId])) as Record<CliName, typeof modelId>,
    )
    .optional(),
  cwd: z.string().max(4096).optional(),
  timeoutMs: z.number().int().min(1000).max(86_400_000).optional().describe("Per CLI"),
  approvalStrategy: z.enum(["legacy", "mcp_managed"]).optional(),
  approvalPolicy: z.enum(APPROVAL_POLICIES).optional(),
  async: z.boolean().optional().describe("Return a jobId at once (llm_job_*)"),
};

// Sync: text, answered, failed, per-CLI answers|reviewers... Async: jobId and status only.
export const fanoutOutput = z.looseObject({ consultationId: z.string() });

/** Sync (awaited; a client cancel cancels every CLI), async (a jobId) or an MCP task. */
export async function runParent({
  orchestrator,
  async,
  ctx,
  start,
}: {
  orchestrator: Orchestrator;
  async?: boolean;
  ctx: ToolContext;
  start: (kind: JobKind) => Promise<ParentRun> | ParentRun;
}): Promise<CallToolResult> {
  if (async) {
    const run = await start("async");
    return reply({ jobId: run.id, consultationId: run.id, status: "running" });
  }
  const run = await start("sync");
  const cancel = () => orchestrator.cancel(run.id);
  ctx.signal.addEventListener("abort", cancel, { once: true });
  try {
    return parentToolResult(await run.done);
  } finally {
    ctx.signal.removeEventListener("abort", cancel);
  }
}

export async function startParentTask(
  store: JobStore,
  retentionMs: number,
  start: (kind: JobKind) => Promise<ParentRun> | ParentRun,
): Promise<CreateTaskResult> {
  const run = await start("task");
  return { task: taskOf(store.get(run.id)!, retentionMs) };
}

export function registerConsultTool(
  tools: ToolRegistry,
  { orchestrator, store, retentionMs }: FanoutToolDeps,
): void {
  const input = z.strictObject({ prompt, ...fanout });
  const start = (args: z.infer<typeof input>, ctx: ToolContext) => (kind: JobKind) =>
    orchestrator.startConsult(args, kind, { onProgress: ctx.progress, elicit: ctx.elicit });
  tools.add({
    name: "consult",
    description:
      "Ask several CLIs one prompt at once: each answer or error, model, time, tokens, cost. For second opinions; code review: use review.",
    inputSchema: input,
    outputSchema: fanoutOutput,
    handler: (args, ctx) =>
      runParent({ orchestrator, async: args.async, ctx, start: start(args, ctx) }),
    startTask: (args, ctx) => startParentTask(store, retentionMs, start(args, ctx)),
  });
}
