import { z } from "zod";
import { invalidInput } from "../../errors.js";
import type { JobManager } from "../../jobs/manager.js";
import { isParentTarget, type JobRow, type JobStore, type OutputStream } from "../../store/jobs.js";
import type { ToolRegistry } from "../registry.js";
import { reply } from "./reply.js";
import { structuredResult } from "./request-common.js";
import type { GatewayResult } from "../../gateway.js";

const jobId = z.string().uuid("jobId must be a job id returned by a *_request_async tool");
// Also: createdAt, startedAt, endedAt, stdoutChars, stderrChars, error {category, message}.
const status = z.looseObject({
  jobId: z.string(),
  cli: z.string(),
  status: z.string(),
  correlationId: z.string(),
});
/** llm_job_status, llm_job_result and llm_job_cancel: read any job in the store, from any gateway process. */
export function registerJobTools(tools: ToolRegistry, jobs: JobManager, store: JobStore): void {
  const find = (id: string): JobRow => {
    const job = store.get(id);
    if (!job)
      throw invalidInput(
        `Unknown jobId ${id} (finished jobs are removed after LLM_GATEWAY_JOB_RETENTION_HOURS)`,
      );
    return job;
  };

  tools.add({
    name: "llm_job_status",
    description: "Status of a job: queued, running, completed, failed, canceled or interrupted.",
    inputSchema: z.strictObject({ jobId }),
    outputSchema: status,
    annotations: { readOnlyHint: true },
    handler: ({ jobId: id }) => reply(statusOf(find(id), store)),
  });

  tools.add({
    name: "llm_job_result",
    description:
      "A job's stdout and stderr, paged by offset (maxChars per stream), and its result once it ended.",
    inputSchema: z.strictObject({
      jobId,
      maxChars: z
        .number()
        .int()
        .min(1)
        .max(1_000_000)
        .optional()
        .describe("Per stream, default 20,000"),
      stdoutOffset: z.number().int().min(0).optional(),
      stderrOffset: z.number().int().min(0).optional(),
    }),
    // stdout and stderr: { text, offset, totalChars, nextOffset }; result once the job ended.
    outputSchema: z.looseObject({ status: z.string() }),
    annotations: { readOnlyHint: true },
    handler: ({ jobId: id, maxChars = 20_000, stdoutOffset = 0, stderrOffset = 0 }) => {
      const job = find(id);
      const read = (stream: OutputStream, offset: number, total: number) => {
        const text = store.readOutput(id, stream, offset, maxChars);
        const next = offset + text.length;
        return { text, offset, totalChars: total, nextOffset: next < total ? next : null };
      };
      return reply({
        status: job.status,
        stdout: read("stdout", stdoutOffset, job.stdoutChars),
        stderr: read("stderr", stderrOffset, job.stderrChars),
        ...(job.result
          ? { result: structuredResult(JSON.parse(job.result) as GatewayResult) }
          : {}),
      });
    },
  });

  tools.add({
    name: "llm_job_cancel",
    description:
      "Cancel a job: its CLI process group is stopped; the job ends canceled with its output so far.",
    inputSchema: z.strictObject({ jobId }),
    outputSchema: status,
    annotations: { destructiveHint: true },
    handler: ({ jobId: id }) => reply(statusOf(jobs.cancel(id), store)),
  });
}

function statusOf(job: JobRow, store: JobStore) {
  // A consult/review job: its CLI jobs too.
  const children = isParentTarget(job.cli) ? store.children(job.id) : [];
  return {
    jobId: job.id,
    cli: job.cli,
    status: job.status,
    correlationId: job.correlationId,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    endedAt: job.endedAt,
    stdoutChars: job.stdoutChars,
    stderrChars: job.stderrChars,
    ...(job.errorCategory
      ? { error: { category: job.errorCategory, message: job.errorMessage ?? "" } }
      : {}),
    ...(children.length
      ? { children: children.map((c) => ({ jobId: c.id, cli: c.cli, status: c.status })) }
      : {}),
  };
}
