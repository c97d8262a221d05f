import type { Approvals, Elicit, Reviewed } from "../approval/service.js";
import type { GatewayConfig } from "../config.js";
import { correlationIdOf } from "../correlation.js";
import type { JobHooks, JobManager } from "../jobs/manager.js";
import type { ProgressUpdate } from "../jobs/output.js";
import type { Logger } from "../log.js";
import type { Spawner } from "../process/spawner.js";
import { PROVIDERS, type OptionsOf } from "../providers/index.js";
import type { CliName } from "../providers/types.js";
import type { AnyCliRequest, CliRequest, GatewayResult, PreparedRequest } from "../request.js";
import type { Resilience } from "../resilience.js";
import { recordSessionRun } from "../session-plan.js";
import type { JobKind } from "../store/jobs.js";
import type { Recorder } from "../recorder/writer.js";
import type { SessionStore } from "../store/sessions.js";
import { prepare } from "./prepare.js";
import { finishRow, rejectedRow, startRow } from "./record.js";
import { failedResult } from "./result.js";
import { runCli } from "./run.js";

export interface PipelineDeps {
  config: GatewayConfig;
  logger: Logger;
  sessions: SessionStore;
  /** Who starts the CLIs (in the server, a helper process). */
  spawner?: Spawner;
  approvals: Approvals;
  resilience: Resilience;
  recorder: Recorder;
  jobs: JobManager;
  /** The HTTP client (token name) whose request is being handled; recorded with each call. */
  clientToken?: () => string | undefined;
}

export interface SubmitOptions {
  kind: JobKind;
  onProgress?: (update: ProgressUpdate) => void;
  /** Asks the person at the client, when the approval policy would deny the request. */
  elicit?: Elicit;
  /** The consult/review job this request is one CLI of: cancelling that cancels this. */
  parentId?: string;
  /** Links the flight recorder's rows of one consultation or review. */
  consultationId?: string;
  /**
   * The result's text may keep large texts as placeholders (process/large-text.ts): for a reply
   * the transport writes from their bytes. Everything else in the result is expanded.
   */
  largeText?: boolean;
}

export interface JobHandle {
  id: string;
  correlationId: string;
  /** The result, once the job has ended and been recorded. */
  done: Promise<GatewayResult>;
}

interface Admitted {
  reviewed: Reviewed;
  prepared: PreparedRequest;
  jobId: string;
}

/**
 * The request pipeline. Every CLI request (a sync, async or task tool call, or one CLI of a
 * consult/review) takes this one path, in this order:
 *
 *   1. approve  approval/service.ts: legacy or mcp_managed; may narrow the options, or refuse
 *   2. prepare  prepare.ts: validate, the session (session-plan.ts), the CLI's invocation
 *   3. admit    the CLI's circuit breaker (resilience.ts), then a slot or a queue place (jobs/)
 *   4. record   the flight recorder's row (record.ts)
 *   5. run      once a slot is free (jobs/manager.ts): the retry and breaker policies over
 *               attempts; each attempt one CLI process (run.ts) and its session update
 *   6. record   the row finished with the result and how the job ended
 *   7. reply    `done` resolves with the result; the tool turns it into its MCP reply
 *
 * A request refused in 1-3 throws, leaves one "rejected" recorder row, and nothing runs.
 */
export class Pipeline {
  constructor(private readonly d: PipelineDeps) {}

  async submit<C extends CliName>(
    cli: C,
    asked: CliRequest<OptionsOf<C>>,
    options: SubmitOptions,
  ): Promise<JobHandle> {
    await this.d.jobs.nextTurn();
    const correlationId = correlationIdOf(asked.correlationId);
    // One member of the union; TypeScript does not tie a generic C to it.
    const request = { ...asked, cli, correlationId } as AnyCliRequest;
    let admitted: Admitted;
    try {
      admitted = await this.admit(request, options);
    } catch (err) {
      this.recordRejected(cli, { ...request, consultationId: options.consultationId }, err);
      throw err;
    }
    const { reviewed, prepared, jobId } = admitted;
    const { recorder, resilience } = this.d;
    const callId = recorder.start({
      ...startRow({
        prepared,
        reviewed,
        jobId,
        consultationId: options.consultationId,
        breakerState: resilience.status(cli).state,
      }),
      clientToken: this.d.clientToken?.(),
    });
    // Reported with the result: the approval decision and the MCP servers requested/enabled/missing.
    const extras = {
      ...(reviewed.approval ? { approval: reviewed.approval } : {}),
      ...(reviewed.mcp.requested.length ? { mcpServers: reviewed.mcp } : {}),
    };
    const settled = this.d.jobs.add(jobId, {
      cli,
      kind: options.kind,
      correlationId,
      parentId: options.parentId,
      onProgress: options.onProgress,
      progressNote: (line) => PROVIDERS[cli].progress(line),
      run: async (hooks) => ({
        ...(await this.run({
          jobId,
          request: reviewed.request,
          first: prepared,
          hooks,
          largeText: options.largeText === true,
        })),
        ...extras,
      }),
      failed: (category, message) => ({ ...failedResult(prepared, category, message), ...extras }),
    });
    const done = settled.then(({ result, status }) => {
      recorder.finish(callId, finishRow(result, status));
      return result;
    });
    return { id: jobId, correlationId, done };
  }

  /** One flight-recorder row, status "rejected", for a request refused before anything ran. */
  recordRejected(cli: CliName, args: Record<string, unknown>, err: unknown): void {
    const [call, error] = rejectedRow(cli, args, err);
    this.d.recorder.rejected({ ...call, clientToken: this.d.clientToken?.() }, error);
  }

  /** Steps 1-3: everything that can refuse a request, in order. */
  private async admit(request: AnyCliRequest, options: SubmitOptions): Promise<Admitted> {
    const { approvals, resilience, jobs } = this.d;
    jobs.assertOpen();
    const reviewed = await approvals.review(request, request.correlationId!, options.elicit);
    const prepared = prepare(this.d, reviewed.request);
    resilience.assertAvailable(request.cli);
    return { reviewed, prepared, jobId: jobs.admit(request.cli) };
  }

  /** Step 5: the attempts under the CLI's retry and breaker policies. */
  private run({
    jobId,
    request,
    first,
    hooks,
    largeText,
  }: {
    jobId: string;
    largeText: boolean;
    request: AnyCliRequest;
    /** The first attempt's, prepared at admission. */
    first: PreparedRequest;
    hooks: JobHooks;
  }): Promise<GatewayResult> {
    const { cli, correlationId } = first;
    return this.d.resilience.run({
      cli,
      allowRerun: request.allowRerun === true,
      signal: hooks.signal,
      attempt: async (n) => {
        if (n > 0)
          this.d.logger.info(`retrying ${cli} job ${jobId} (attempt ${n + 1}) [${correlationId}]`);
        // Prepared again on a retry: the first attempt may have started the session it resumes.
        const prepared = n === 0 ? first : prepare(this.d, request);
        return recordSessionRun(
          this.d.sessions,
          prepared,
          await runCli(this.d, prepared, hooks, largeText),
        );
      },
    });
  }
}
