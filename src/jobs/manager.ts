import { randomUUID } from "node:crypto";
import { GatewayError, invalidInput, type ErrorCategory } from "../errors.js";
import type { Gateway } from "../gateway.js";
import type { OptionsOf } from "../providers/index.js";
import type { AnyCliRequest, CliRequest, GatewayResult, PreparedRequest } from "../request.js";
import type { Logger } from "../log.js";
import type { Approvals, Elicit, Reviewed } from "../approval/service.js";
import type { CallId, Recorder } from "../recorder/writer.js";
import type { Resilience } from "../resilience.js";
import { isSameProcessAlive, killGroup, processStartTime } from "../process/liveness.js";
import { PROVIDERS } from "../providers/index.js";
import type { CliName } from "../providers/types.js";
import {
  TERMINAL,
  type JobKind,
  type JobRow,
  type JobStatus,
  type JobStore,
} from "../store/jobs.js";
import type { OutputWriter } from "../store/output-writer.js";
import { redactJson, redactSecrets } from "../store/redact.js";
import { OutputSink, type ProgressUpdate } from "./output.js";

export interface JobLimits {
  /** Jobs running at once in this gateway process. */
  maxConcurrent: number;
  /** Jobs of one CLI running at once. */
  maxPerCli: number;
  /** Jobs waiting for a slot; beyond it requests fail with `saturated`. */
  maxQueue: number;
}

export interface JobManagerOptions {
  gateway: Gateway;
  recorder: Recorder;
  approvals: Approvals;
  resilience: Resilience;
  store: JobStore;
  /** Where running jobs' output goes (a worker thread). */
  output: OutputWriter;
  logger: Logger;
  limits: JobLimits;
  /** How long finished jobs (and their output) are kept. */
  retentionMs: number;
  killGraceMs: number;
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
}

export interface JobHandle {
  id: string;
  correlationId: string;
  done: Promise<GatewayResult>;
}

interface Admitted {
  request: AnyCliRequest;
  prepared: PreparedRequest;
  reviewed: Reviewed;
  startsNow: boolean;
}

interface Pending {
  id: string;
  /** The flight recorder's row for this request. */
  callId: CallId;
  /** Reported with the result: the approval decision and the MCP servers requested/enabled/missing. */
  extras: Pick<GatewayResult, "approval" | "mcpServers">;
  request: AnyCliRequest;
  prepared: PreparedRequest;
  options: SubmitOptions;
  abort: AbortController;
  resolve: (result: GatewayResult) => void;
}

/** A live instance refreshes its lease this often; one not refreshed for LEASE_MS is dead. */
const HEARTBEAT_MS = 5_000;
const LEASE_MS = 30_000;

/**
 * Every CLI request is a job: a sync tool awaits it, an async tool returns its id. Jobs live in
 * SQLite so that any gateway process can report on them and they outlive a restart; each process
 * runs its own jobs under concurrency limits, and reports the jobs of dead processes interrupted.
 */
export class JobManager {
  readonly instanceId = randomUUID();
  private readonly running = new Map<string, Pending>();
  private readonly queue: Pending[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private closing = false;
  private lastTurn = Promise.resolve();

  constructor(private readonly o: JobManagerOptions) {}

  /** Registers this process, reports dead processes' jobs interrupted, and keeps the lease fresh. */
  start(): void {
    this.o.store.registerInstance({
      id: this.instanceId,
      pid: process.pid,
      pidStart: processStartTime(process.pid) ?? null,
      heartbeatAt: Date.now(),
    });
    this.maintain();
    this.heartbeat = setInterval(() => this.maintain(), HEARTBEAT_MS).unref();
  }

  /**
   * Validates and admits a request. Throws `invalid_input` (nothing runs) or `saturated` (the
   * queue is full); otherwise the job is stored and runs now or when a slot frees.
   */
  async submit<C extends CliName>(
    cli: C,
    asked: CliRequest<OptionsOf<C>>,
    options: SubmitOptions,
  ): Promise<JobHandle> {
    await this.nextTurn();
    const correlationId = asked.correlationId ?? randomUUID();
    let admitted: Admitted;
    try {
      // One member of the union; TypeScript does not tie a generic C to it.
      admitted = await this.admit({ ...asked, cli, correlationId } as AnyCliRequest, options);
    } catch (err) {
      // A refused request is recorded too: one row, status "rejected", and nothing ran.
      const consultationId = options.consultationId;
      this.recordRejected(cli, { ...asked, correlationId, consultationId }, err);
      throw err;
    }
    const { request, prepared, reviewed, startsNow } = admitted;
    const id = randomUUID();
    let resolve!: (result: GatewayResult) => void;
    const done = new Promise<GatewayResult>((r) => (resolve = r));
    const extras = {
      ...(reviewed.approval ? { approval: reviewed.approval } : {}),
      ...(reviewed.mcp.requested.length ? { mcpServers: reviewed.mcp } : {}),
    };
    const callId = this.o.recorder.start({
      correlationId,
      cli,
      model: prepared.model,
      prompt: prepared.prompt,
      originalPrompt: prepared.originalPrompt,
      gatewaySessionId: prepared.gatewaySessionId,
      jobId: id,
      consultationId: options.consultationId,
      cwd: prepared.cwd,
      breakerState: this.o.resilience.status(cli).state,
      approvalDecision: reviewed.approval,
      optimization: prepared.optimization.prompt ? prepared.optimization : undefined,
    });
    const job: Pending = {
      id,
      request,
      prepared,
      options,
      abort: new AbortController(),
      resolve,
      extras,
      callId,
    };
    this.o.store.insert({
      id,
      cli,
      kind: options.kind,
      correlationId,
      owner: this.instanceId,
      parentId: options.parentId,
    });
    if (startsNow) this.launch(job);
    else this.queue.push(job);
    return { id, correlationId, done };
  }

  /** One flight-recorder row, status "rejected", for a request refused before anything ran. */
  recordRejected(cli: CliName, args: Record<string, unknown>, err: unknown): void {
    const error = err instanceof GatewayError ? err : new GatewayError("internal", String(err));
    const text = (value: unknown) => (typeof value === "string" ? value : undefined);
    this.o.recorder.rejected(
      {
        correlationId: text(args.correlationId) ?? randomUUID(),
        cli,
        model: text(args.model),
        prompt: text(args.prompt) ?? "",
        cwd: text(args.cwd),
        consultationId: text(args.consultationId),
      },
      error,
    );
  }

  /** Approval, validation, breaker and queue checks: everything that can refuse a request. */
  private async admit(asked: AnyCliRequest, options: SubmitOptions): Promise<Admitted> {
    const { cli } = asked;
    if (this.closing) throw new GatewayError("saturated", "The gateway is shutting down");
    const reviewed = await this.o.approvals.review(asked, asked.correlationId!, options.elicit);
    const prepared = this.o.gateway.prepare(cli, reviewed.request);
    this.o.resilience.assertAvailable(cli);
    const startsNow = this.hasSlot(cli);
    if (!startsNow && this.queue.length >= this.o.limits.maxQueue) {
      const { maxConcurrent, maxPerCli, maxQueue } = this.o.limits;
      throw new GatewayError(
        "saturated",
        `Too many requests: ${this.running.size} running (limits: ${maxConcurrent} in all, ${maxPerCli} per CLI) and ${this.queue.length} queued (limit ${maxQueue}); try again later`,
      );
    }
    return { request: reviewed.request, prepared, reviewed, startsNow };
  }

  /** Stops a job: its whole process group within the kill grace, whichever gateway process runs it. */
  cancel(id: string): JobRow {
    const row = this.o.store.get(id);
    if (!row) throw invalidInput(`Unknown jobId ${id}`);
    if (TERMINAL.has(row.status)) return row;
    this.o.store.requestCancel(id);
    // A consult/review job runs no process itself: cancelling it cancels its CLI jobs.
    for (const child of this.o.store.children(id)) this.cancel(child.id);
    const queued = this.queue.findIndex((j) => j.id === id);
    if (queued !== -1) {
      const [job] = this.queue.splice(queued, 1);
      this.settle(
        job!,
        failedResult(job!.prepared, "canceled", "The request was canceled before it started"),
        "canceled",
      );
    } else if (this.running.has(id)) {
      this.running.get(id)!.abort.abort();
    } else if (row.pid !== null && isSameProcessAlive(row.pid, row.pidStart)) {
      // Another gateway process runs it: stop the process group; that process records the end.
      killGroup(row.pid, "SIGTERM");
      setTimeout(
        () => isSameProcessAlive(row.pid!, row.pidStart) && killGroup(row.pid!, "SIGKILL"),
        this.o.killGraceMs,
      ).unref();
    }
    return this.o.store.get(id)!;
  }

  /** Shutdown: stop every running CLI; their jobs, and the queued ones, end interrupted. */
  async stop(): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    for (const job of this.queue.splice(0))
      this.settle(job, interruptedResult(job.prepared), "interrupted");
    for (const job of this.running.values()) job.abort.abort();
    await Promise.race([waitFor(() => this.running.size === 0), delay(this.o.killGraceMs + 1000)]);
    // consult/review jobs still open (their children just ended) end with them.
    for (const job of this.o.store.openJobsOf([this.instanceId]))
      this.o.store.finish(job.id, "interrupted", undefined, interruptedError);
    this.o.store.removeInstance(this.instanceId);
  }

  get activeJobs(): number {
    return this.running.size + this.queue.length;
  }

  /**
   * Resolves on a later turn of the event loop than the previous call. Each request is admitted
   * (and its CLI started) on a turn of its own, in order: a burst of a hundred requests then does
   * not hold up the cheap calls that arrive meanwhile, which are answered between two turns.
   */
  private nextTurn(): Promise<void> {
    const turn = this.lastTurn.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
    this.lastTurn = turn;
    return turn;
  }

  private hasSlot(cli: CliName): boolean {
    if (this.running.size >= this.o.limits.maxConcurrent) return false;
    let sameCli = 0;
    for (const job of this.running.values()) if (job.prepared.cli === cli) sameCli++;
    return sameCli < this.o.limits.maxPerCli;
  }

  private launch(job: Pending): void {
    this.running.set(job.id, job);
    // Another gateway process may have cancelled it while it waited here.
    if (this.o.store.get(job.id)?.cancelRequested) {
      this.settle(
        job,
        failedResult(job.prepared, "canceled", "The request was canceled before it started"),
        "canceled",
      );
    } else void this.execute(job);
  }

  private async execute(job: Pending): Promise<void> {
    const { store, gateway, resilience, logger } = this.o;
    const { cli } = job.prepared;
    // A sync job's caller gets the answer itself: its output is never stored (see settle).
    const keepsOutput = job.options.kind !== "sync";
    const sink = new OutputSink(
      keepsOutput ? this.o.output : undefined,
      job.id,
      (line) => PROVIDERS[cli].progress(line),
      job.options.onProgress,
    );
    const hooks = {
      signal: job.abort.signal,
      onSpawn: (pid: number) => store.setPid(job.id, pid, processStartTime(pid)),
      onOutput: keepsOutput ? sink.write : undefined,
      backpressure: keepsOutput ? sink.backpressure : undefined,
      onStdoutLine: job.options.onProgress && sink.line,
    };
    store.markRunning(job.id);
    let result: GatewayResult;
    try {
      result = await resilience.run(
        cli,
        job.request.allowRerun === true,
        job.abort.signal,
        async (attempt) => {
          if (attempt > 0)
            logger.info(
              `retrying ${cli} job ${job.id} (attempt ${attempt + 1}) [${job.prepared.correlationId}]`,
            );
          // Prepared again on a retry: the first attempt may have started the session it resumes.
          const prepared = attempt === 0 ? job.prepared : gateway.prepare(cli, job.request);
          return gateway.execute(prepared, hooks);
        },
      );
    } catch (err) {
      result = job.abort.signal.aborted
        ? failedResult(job.prepared, "canceled", "The request was canceled")
        : err instanceof GatewayError
          ? failedResult(job.prepared, err.category, err.message)
          : failedResult(
              job.prepared,
              "internal",
              err instanceof Error ? err.message : String(err),
            );
      if (result.error?.category === "internal")
        logger.error(`job ${job.id} failed inside the gateway: ${String(err)}`);
    } finally {
      await sink.close();
    }
    this.settle(job, ...this.outcome(job, result));
  }

  /** How a finished run ends: a cancel or a shutdown outranks what the killed CLI printed. */
  private outcome(job: Pending, result: GatewayResult): [GatewayResult, JobStatus] {
    if (this.closing && job.abort.signal.aborted)
      return [{ ...result, error: interruptedError }, "interrupted"];
    if (result.error?.category === "canceled" || this.o.store.get(job.id)?.cancelRequested) {
      return [
        {
          ...result,
          error: {
            category: "canceled",
            message: "The request was canceled; the process was stopped",
          },
        },
        "canceled",
      ];
    }
    return [result, result.error ? "failed" : "completed"];
  }

  private settle(job: Pending, outcome: GatewayResult, status: JobStatus): void {
    const result = { ...outcome, ...job.extras };
    this.o.store.finish(job.id, status, ...storedOutcome(job.options.kind, result));
    this.o.recorder.finish(job.callId, {
      status: status === "queued" || status === "running" ? undefined : status,
      responseText: result.text,
      model: result.model,
      gatewaySessionId: result.gatewaySessionId,
      nativeSessionId: result.sessionId,
      exitCode: result.exitCode,
      errorCategory: result.error?.category,
      errorMessage: result.error?.message,
      durationMs: result.durationMs,
      usage: result.usage,
      costUsd: result.costUsd,
      retryCount: result.retryCount,
      breakerState: result.circuit,
      optimization:
        result.optimization?.prompt || result.optimization?.response
          ? result.optimization
          : undefined,
      thinking: result.thinking,
    });
    this.running.delete(job.id);
    job.resolve(result);
    this.pump();
  }

  /** Starts queued jobs while slots are free, in arrival order (skipping CLIs at their limit). */
  private pump(): void {
    if (this.closing) return;
    for (let i = 0; i < this.queue.length && this.running.size < this.o.limits.maxConcurrent;) {
      const job = this.queue[i]!;
      if (!this.hasSlot(job.prepared.cli)) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.launch(job);
    }
  }

  /** Refreshes this lease, ends the jobs of dead gateway processes, and prunes old jobs. */
  private maintain(): void {
    const { store, logger } = this.o;
    const now = Date.now();
    store.heartbeat(this.instanceId, now);
    const dead = store
      .instances()
      .filter(
        (i) =>
          i.id !== this.instanceId &&
          (now - i.heartbeatAt > LEASE_MS || !isSameProcessAlive(i.pid, i.pidStart)),
      );
    for (const job of store.openJobsOf(dead.map((i) => i.id))) {
      // Its CLI may have outlived the gateway that started it: it has no one to report to.
      if (job.pid !== null && isSameProcessAlive(job.pid, job.pidStart))
        killGroup(job.pid, "SIGKILL");
      store.finish(job.id, "interrupted", undefined, interruptedError);
      logger.warn(`job ${job.id} (${job.cli}) was interrupted: its gateway process stopped`);
    }
    for (const instance of dead) store.removeInstance(instance.id);
    if (dead.length) this.o.recorder.markInterrupted();
    store.pruneEndedBefore(new Date(now - this.o.retentionMs).toISOString());
  }
}

/**
 * What gateway.db keeps of a finished job. A sync job's caller has the answer, so only its
 * metadata stays (status, times, error category): no answer, no error text (it may quote the
 * output). Async and task results are read back later: kept with secrets redacted, like the
 * flight recorder's texts, until the job retention ends.
 */
function storedOutcome(
  kind: JobKind,
  result: GatewayResult,
): [unknown, { category: string; message: string } | undefined] {
  if (kind === "sync")
    return [undefined, result.error && { category: result.error.category, message: "" }];
  // The CLI's raw JSON repeats the answer: the stored result keeps one copy.
  const { raw: _raw, ...stored } = result;
  const error = result.error && {
    category: result.error.category,
    message: redactSecrets(result.error.message),
  };
  return [{ ...(redactJson(stored) as object), redacted: true }, error];
}

const interruptedError = {
  category: "interrupted" as ErrorCategory,
  message:
    "The gateway process running this job stopped before it finished; its output so far is kept",
};

function failedResult(
  prepared: PreparedRequest,
  category: ErrorCategory,
  message: string,
): GatewayResult {
  return {
    text: "",
    cli: prepared.cli,
    ...(prepared.model ? { model: prepared.model, modelSource: "request" as const } : {}),
    correlationId: prepared.correlationId,
    gatewaySessionId: prepared.gatewaySessionId,
    durationMs: 0,
    exitCode: null,
    usage: {},
    retryCount: 0,
    error: { category, message },
  };
}

const interruptedResult = (prepared: PreparedRequest) =>
  failedResult(prepared, interruptedError.category, interruptedError.message);

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await delay(20);
}
