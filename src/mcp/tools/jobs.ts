import { z } from "zod";
import { invalidInput } from "../../errors.js";
import { cancelNote } from "../../jobs/cancel-watch.js";
import type { JobManager } from "../../jobs/manager.js";
import { isParentTarget, type JobRow, type JobStore, type OutputStream } from "../../store/jobs.js";
import type { ToolRegistry } from "../registry.js";
import { visibleTo } from "../task-store.js";
import { reply } from "./reply.js";
import { structuredResult } from "./request-common.js";
import type { GatewayResult } from "../../request.js";

const jobId = z.string().uuid("jobId must be a job id returned by a *_request_async tool");
// Also: createdAt, startedAt, endedAt, stdoutChars, stderrChars, error {category, message}.
const status = z.looseObject({
  jobId: z.string(),
  cli: z.string(),
  status: z.string(),
  correlationId: z.string(),
});
// Integers without the JSON Schema's safe-integer maximum: every tools/list pays for its 27 characters.
const offset = z.number().min(0).refine(Number.isInteger, "must be an integer").optional();

/** llm_job_status, llm_job_result and llm_job_cancel: read any job in the store, from any gateway process. */
export function registerJobTools(
  tools: ToolRegistry,
  jobs: JobManager,
  store: JobStore,
  clientOf: () => string | undefined = () => undefined,
): void {
  const find = (id: string): JobRow => {
    const job = store.get(id);
    // Another HTTP client's job is refused exactly like an unknown one.
    if (!job || !visibleTo(job, clientOf()))
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
      "An ended job's result; maxChars bounds all text, offset reads on; raw adds stdout/stderr.",
    inputSchema: z.strictObject({
      jobId,
      maxChars: z.number().int().min(1).max(1_000_000).optional().describe("Default 20,000"),
      offset,
      raw: z.boolean().optional(),
      stdoutOffset: offset,
      stderrOffset: offset,
    }),
    // result (its text one page), textPage {offset, totalChars, nextOffset}, redacted; with raw:
    // stdout and stderr {text, offset, totalChars, nextOffset}.
    outputSchema: z.looseObject({ status: z.string() }),
    annotations: { readOnlyHint: true },
    handler: (args) => {
      const { jobId: id, maxChars = 20_000, offset = 0, raw = false } = args;
      for (const field of ["stdoutOffset", "stderrOffset"] as const)
        if (args[field] !== undefined && !raw)
          throw invalidInput(`${field} pages the raw output: it needs raw: true`);
      const job = find(id);
      let budget = maxChars;
      const page = (text: string, from: number, total: number) => {
        budget -= text.length;
        const next = from + text.length;
        return { offset: from, totalChars: total, nextOffset: next < total ? next : null };
      };
      let answer = {};
      if (job.result) {
        const result = JSON.parse(job.result) as GatewayResult;
        const text = result.text.slice(offset, offset + budget);
        const textPage = page(text, offset, result.text.length);
        answer = { result: { ...structuredResult(result), text }, textPage };
      }
      const read = (stream: OutputStream, from: number, total: number) => {
        const text = budget > 0 ? store.readOutput(id, stream, from, budget) : "";
        return { text, ...page(text, from, total) };
      };
      return reply({
        status: job.status,
        ...answer,
        ...(raw
          ? {
              stdout: read("stdout", args.stdoutOffset ?? 0, job.stdoutChars),
              stderr: read("stderr", args.stderrOffset ?? 0, job.stderrChars),
            }
          : {}),
        ...(job.kind === "sync" ? {} : { redacted: true }),
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
    handler: ({ jobId: id }) => {
      const job = jobs.cancel(find(id).id);
      // Another host's job is stopped by that host: the reply says so, and what it is now.
      const cancel = cancelNote(job, store, jobs.instanceId);
      return reply({ ...statusOf(job, store), ...(cancel ? { cancel } : {}) });
    },
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
