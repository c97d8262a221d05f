import { randomUUID } from "node:crypto";
import { childCorrelationId } from "../correlation.js";
import { errorText, GatewayError, type ErrorCategory } from "../errors.js";
import type { OptionsOf } from "../providers/index.js";
import type { CliRequest, GatewayResult } from "../request.js";
import type { Elicit } from "../approval/service.js";
import type { JobManager } from "../jobs/manager.js";
import type { ProgressUpdate } from "../jobs/output.js";
import type { Pipeline } from "../pipeline/index.js";
import type { CliName } from "../providers/types.js";
import type { JobKind, JobStore, ParentTarget } from "../store/jobs.js";

/** One CLI job of a consultation: its result, or the typed error that kept it from running. */
export interface CliOutcome {
  cli: CliName;
  jobId?: string;
  result?: GatewayResult;
  error?: { category: ErrorCategory; message: string };
}

export interface ParentHooks {
  onProgress?: (update: ProgressUpdate) => void;
  elicit?: Elicit;
}

/** What consult and review see of their parent job. */
export interface ParentContext {
  /** The parent job's id, which is also the consultationId of every call it makes. */
  id: string;
  canceled(): boolean;
  progress(message: string): void;
  /** Runs one ordinary job of the pipeline as a child of this one; never throws. */
  run<C extends CliName>(
    cli: C,
    request: CliRequest<OptionsOf<C>>,
    label: string,
  ): Promise<CliOutcome>;
}

/** What a parent job ends with: the result (its `text` is for the model) and whether it failed. */
export interface ParentOutcome {
  result: { text: string } & Record<string, unknown>;
  failed: boolean;
}

export type ParentResult = ParentOutcome["result"] & {
  jobId: string;
  consultationId: string;
  status: string;
};

export interface ParentRun {
  id: string;
  done: Promise<ParentResult>;
}

/**
 * A consult or review job: a row in the job store (cli "consult"/"review") that runs no process.
 * Its work starts ordinary CLI jobs that point to it (parent_id), so llm_job_cancel on it cancels
 * them all; it ends completed, failed or canceled with the combined result.
 */
export function startParent({
  pipeline,
  jobs,
  store,
  target,
  kind,
  hooks,
  work,
}: {
  pipeline: Pipeline;
  jobs: JobManager;
  store: JobStore;
  target: ParentTarget;
  kind: JobKind;
  hooks: ParentHooks;
  work: (ctx: ParentContext) => Promise<ParentOutcome>;
}): ParentRun {
  const id = randomUUID();
  store.insert({ id, cli: target, kind, correlationId: id, owner: jobs.instanceId });
  store.markRunning(id);
  let notes = 0;
  const canceled = () => store.get(id)?.cancelRequested === true;
  const ctx: ParentContext = {
    id,
    canceled,
    progress: (message) => hooks.onProgress?.({ progress: ++notes, message }),
    async run(cli, request, label) {
      if (canceled())
        return { cli, error: { category: "canceled", message: "The consultation was canceled" } };
      try {
        const handle = await pipeline.submit(
          cli,
          { ...request, correlationId: childCorrelationId(id, cli, label) },
          {
            kind: "sync",
            parentId: id,
            consultationId: id,
            elicit: hooks.elicit,
            ...(hooks.onProgress
              ? { onProgress: (u: ProgressUpdate) => ctx.progress(`${cli}: ${u.message}`) }
              : {}),
          },
        );
        // A cancel that came while this job was being admitted missed it.
        if (canceled()) jobs.cancel(handle.id);
        return { cli, jobId: handle.id, result: await handle.done };
      } catch (err) {
        const error =
          err instanceof GatewayError
            ? { category: err.category, message: err.message }
            : { category: "internal" as const, message: String(err) };
        return { cli, error };
      }
    },
  };
  const finish = (outcome: ParentOutcome, error?: { category: string; message: string }) => {
    const status = canceled() ? "canceled" : outcome.failed ? "failed" : "completed";
    const result: ParentResult = { ...outcome.result, jobId: id, consultationId: id, status };
    const failure =
      status === "canceled"
        ? { category: "canceled", message: "The consultation was canceled" }
        : error;
    store.finish(id, status, { result, error: failure });
    return result;
  };
  const done = work(ctx).then(
    (outcome) =>
      finish(
        outcome,
        outcome.failed
          ? { category: "cli_error", message: firstLine(outcome.result.text) }
          : undefined,
      ),
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      return finish(
        { result: { text: errorText("internal", message) }, failed: true },
        { category: "internal", message },
      );
    },
  );
  return { id, done };
}

const firstLine = (text: string) => text.split("\n", 1)[0] ?? "";
