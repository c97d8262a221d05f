import type { CallToolResult, CreateTaskResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { OptionsOf } from "../../providers/index.js";
import type { CliRequest } from "../../request.js";
import type { JobManager } from "../../jobs/manager.js";
import type { Pipeline } from "../../pipeline/index.js";
import type { CliName } from "../../providers/types.js";
import type { JobStore } from "../../store/jobs.js";
import type { ToolContext, ToolRegistry } from "../registry.js";
import { taskOf } from "../task-store.js";
import { requestOutput, toToolResult } from "./request-common.js";

type ObjectSchema = z.ZodObject<z.ZodRawShape>;

/** What differs between claude_request, codex_request and gemini_request. */
export interface RequestToolSpec<C extends CliName, I extends ObjectSchema> {
  cli: C;
  description: string;
  input: I;
  /** Maps the validated arguments to the gateway's request; throws invalid_input for bad combinations. */
  toRequest(args: z.infer<I>): CliRequest<OptionsOf<C>>;
}

/** What the request tools call: the pipeline to submit, the jobs to cancel, the store to report. */
export interface RequestToolDeps {
  pipeline: Pipeline;
  jobs: JobManager;
  store: JobStore;
  /** How long finished jobs are kept (a task's ttl). */
  retentionMs: number;
}

export const jobStarted = z.object({
  jobId: z.string(),
  status: z.string(),
  cli: z.string(),
  correlationId: z.string(),
});

/** A sync call: the job's result as the tool's reply; the client's cancel cancels the job. */
export async function runSync<C extends CliName>(
  deps: RequestToolDeps,
  cli: C,
  request: CliRequest<OptionsOf<C>>,
  ctx: ToolContext,
): Promise<CallToolResult> {
  const job = await deps.pipeline.submit(cli, request, {
    kind: "sync",
    onProgress: ctx.progress,
    elicit: ctx.elicit,
    largeText: ctx.largeText,
  });
  const cancel = () => deps.jobs.cancel(job.id);
  ctx.signal.addEventListener("abort", cancel, { once: true });
  try {
    return toToolResult(await job.done) as CallToolResult;
  } finally {
    ctx.signal.removeEventListener("abort", cancel);
  }
}

/** A task-augmented call (MCP tasks): the job starts, the task is returned at once. */
export async function runTask<C extends CliName>(
  deps: RequestToolDeps,
  cli: C,
  request: CliRequest<OptionsOf<C>>,
  ctx: ToolContext,
): Promise<CreateTaskResult> {
  const job = await deps.pipeline.submit(cli, request, {
    kind: "task",
    onProgress: ctx.progress,
    elicit: ctx.elicit,
  });
  return { task: taskOf(deps.store.get(job.id)!, deps.retentionMs) };
}

/** The job form: a job id at once (see llm_job_*). */
export async function runAsync<C extends CliName>(
  deps: RequestToolDeps,
  cli: C,
  request: CliRequest<OptionsOf<C>>,
  ctx: ToolContext,
): Promise<CallToolResult> {
  const job = await deps.pipeline.submit(cli, request, { kind: "async", elicit: ctx.elicit });
  const started = {
    jobId: job.id,
    status: deps.store.get(job.id)!.status,
    cli,
    correlationId: job.correlationId,
  };
  return {
    content: [{ type: "text", text: JSON.stringify(started) }],
    structuredContent: started,
  };
}

/**
 * `<cli>_request` (sync; also a task-augmented call for clients with MCP tasks) and
 * `<cli>_request_async` (returns a job id). All three paths submit the same job.
 */
export function registerRequestTools<C extends CliName, I extends ObjectSchema>(
  tools: ToolRegistry,
  deps: RequestToolDeps,
  spec: RequestToolSpec<C, I>,
): void {
  const { pipeline } = deps;
  /** Arguments to the gateway's request; a combination refused here is recorded as rejected too. */
  const toRequest = (args: z.infer<I>) => {
    try {
      return spec.toRequest(args);
    } catch (err) {
      pipeline.recordRejected(spec.cli, args, err);
      throw err;
    }
  };

  tools.add({
    name: `${spec.cli}_request`,
    description: spec.description,
    inputSchema: spec.input,
    outputSchema: requestOutput,
    onRejected: (args, error) => pipeline.recordRejected(spec.cli, args, error),
    handler: (args, ctx) => runSync(deps, spec.cli, toRequest(args), ctx),
    startTask: (args, ctx) => runTask(deps, spec.cli, toRequest(args), ctx),
  });

  tools.add({
    name: `${spec.cli}_request_async`,
    description: `Like ${spec.cli}_request, in the background: returns a jobId (see llm_job_*).`,
    inputSchema: spec.input,
    terse: true,
    onRejected: (args, error) => pipeline.recordRejected(spec.cli, args, error),
    outputSchema: jobStarted,
    handler: (args, ctx) => runAsync(deps, spec.cli, toRequest(args), ctx),
  });
}
