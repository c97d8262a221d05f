import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { GatewayError, invalidInput, type ErrorCategory } from "../errors.js";
import type { Logger } from "../log.js";
import type { HostIdentity } from "../host.js";
import { processStartTime } from "../process/liveness.js";
import type { CliName } from "../providers/types.js";
import type { GatewayResult, RunHooks } from "../request.js";
import {
  TERMINAL,
  type JobKind,
  type JobRow,
  type JobStatus,
  type JobStore,
} from "../store/jobs.js";
import type { OutputWriter } from "../store/output-writer.js";
import { redactJson, redactSecrets } from "../store/redact.js";
import { CancelWatch } from "./cancel-watch.js";
import { interruptedError, Leases } from "./leases.js";
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
  store: JobStore;
  /** Where running jobs' output goes (a worker thread). */
  output: OutputWriter;
  logger: Logger;
  limits: JobLimits;
  /** How long finished jobs (and their output) are kept. */
  retentionMs: number;
  killGraceMs: number;
  /** This process among the hosts sharing the store, and its lease length. */
  host: HostIdentity;
  leaseMs: number;
  /** Called when the jobs of dead gateway processes were ended (see Leases). */
  onPeersDied?: () => void;
}

/** What the job layer hands the work while it runs: the cancel signal and the process's output. */
export type JobHooks = RunHooks & { signal: AbortSignal };

/** One job as the pipeline hands it over: what to run, and the result if it cannot run. */
export interface JobSpec {
  cli: CliName;
  kind: JobKind;
  correlationId: string;
  /** The consult/review job this is one CLI of: cancelling that cancels this. */
  parentId?: string;
  onProgress?: (update: ProgressUpdate) => void;
  /** A progress note for one line of the CLI's stdout, if the line makes one. */
  progressNote: (line: string) => string | undefined;
  /** The work, once a slot is free. */
  run(hooks: JobHooks): Promise<GatewayResult>;
  /** The result of a job that ends without its run's result (canceled, shut down, a bug). */
  failed(category: ErrorCategory, message: string): GatewayResult;
}

/** How a job ended. */
export interface Settled {
  result: GatewayResult;
  status: JobStatus;
}

interface Job {
  id: string;
  spec: JobSpec;
  abort: AbortController;
  resolve: (settled: Settled) => void;
  /** Runs a function in the submitter's async context (its HTTP client), wherever it is launched from. */
  inContext: <R>(fn: () => R) => R;
}

/**
 * The queue and the job lifecycle. Every CLI request is a job: a sync tool awaits it, an async
 * tool returns its id. Jobs live in SQLite so that any gateway process can report on them and
 * they outlive a restart; each process runs its own jobs under concurrency limits (the rest wait
 * in a queue), cancels them whichever process runs them, and stores how they ended.
 */
export class JobManager {
  private readonly leases: Leases;
  private readonly cancels: CancelWatch;
  private readonly running = new Map<string, Job>();
  private readonly queue: Job[] = [];
  private closing = false;
  private lastTurn = Promise.resolve();

  constructor(private readonly o: JobManagerOptions) {
    this.leases = new Leases(o);
    this.cancels = new CancelWatch({
      store: o.store,
      logger: o.logger,
      owner: this.leases.instanceId,
      busy: () => this.activeJobs > 0,
      cancelHere: (id) => this.cancelHere(id),
    });
  }

  /** This gateway process's id in the job store (the owner of its jobs). */
  get instanceId(): string {
    return this.leases.instanceId;
  }

  start(): void {
    this.leases.start();
    this.cancels.start();
  }

  /**
   * Resolves on a later turn of the event loop than the previous call. Each request is admitted
   * (and its CLI started) on a turn of its own, in order: a burst of a hundred requests then does
   * not hold up the cheap calls that arrive meanwhile, which are answered between two turns.
   */
  nextTurn(): Promise<void> {
    const turn = this.lastTurn.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
    this.lastTurn = turn;
    return turn;
  }

  /** Throws `saturated` once shutdown has begun. */
  assertOpen(): void {
    if (this.closing) throw new GatewayError("saturated", "The gateway is shutting down");
  }

  /**
   * Admits a job of `cli`: a slot now or a place in the queue, else `saturated`. Returns the new
   * job's id; `add` must follow on the same turn.
   */
  admit(cli: CliName): string {
    if (!this.hasSlot(cli) && this.queue.length >= this.o.limits.maxQueue) {
      const { maxConcurrent, maxPerCli, maxQueue } = this.o.limits;
      throw new GatewayError(
        "saturated",
        `Too many requests: ${this.running.size} running (limits: ${maxConcurrent} in all, ${maxPerCli} per CLI) and ${this.queue.length} queued (limit ${maxQueue}); try again later`,
      );
    }
    return randomUUID();
  }

  /** Stores an admitted job and runs it now or when a slot frees; resolves when it has ended. */
  add(id: string, spec: JobSpec): Promise<Settled> {
    let resolve!: (settled: Settled) => void;
    const settled = new Promise<Settled>((r) => (resolve = r));
    const job: Job = {
      id,
      spec,
      abort: new AbortController(),
      resolve,
      inContext: AsyncLocalStorage.snapshot(),
    };
    this.o.store.insert({
      id,
      cli: spec.cli,
      kind: spec.kind,
      correlationId: spec.correlationId,
      owner: this.instanceId,
      parentId: spec.parentId,
    });
    if (this.hasSlot(spec.cli)) this.launch(job, true);
    else this.queue.push(job);
    return settled;
  }

  /**
   * Stops a job, whichever host runs it: here at once; on another host through the database (its
   * cancel flag, which that host polls: see CancelWatch). The job ends canceled with its output.
   */
  cancel(id: string): JobRow {
    const row = this.o.store.get(id);
    if (!row) throw invalidInput(`Unknown jobId ${id}`);
    if (TERMINAL.has(row.status)) return row;
    this.o.store.requestCancel(id);
    // A consult/review job runs no process itself: cancelling it cancels its CLI jobs.
    for (const child of this.o.store.children(id)) this.cancel(child.id);
    this.cancelHere(id);
    return this.o.store.get(id)!;
  }

  /** Stops a job of this process: dropped from the queue, or its run aborted. */
  private cancelHere(id: string): boolean {
    const queued = this.queue.findIndex((j) => j.id === id);
    if (queued !== -1) {
      const [job] = this.queue.splice(queued, 1);
      this.settle(job!, canceledBeforeStart(job!), "canceled");
      return true;
    }
    const running = this.running.get(id);
    if (!running) return false;
    running.abort.abort();
    return true;
  }

  /** Shutdown: stop every running CLI; their jobs, and the queued ones, end interrupted. */
  async stop(): Promise<void> {
    this.closing = true;
    this.leases.stop();
    this.cancels.stop();
    for (const job of this.queue.splice(0))
      this.settle(
        job,
        job.spec.failed(interruptedError.category, interruptedError.message),
        "interrupted",
      );
    for (const job of this.running.values()) job.abort.abort();
    await Promise.race([waitFor(() => this.running.size === 0), delay(this.o.killGraceMs + 1000)]);
    // consult/review jobs still open (their children just ended) end with them.
    for (const job of this.o.store.openJobsOf([this.instanceId]))
      this.o.store.finish(job.id, "interrupted", { error: interruptedError });
    this.leases.release();
  }

  get activeJobs(): number {
    return this.running.size + this.queue.length;
  }

  private hasSlot(cli: CliName): boolean {
    if (this.running.size >= this.o.limits.maxConcurrent) return false;
    let sameCli = 0;
    for (const job of this.running.values()) if (job.spec.cli === cli) sameCli++;
    return sameCli < this.o.limits.maxPerCli;
  }

  /** `justAdded`: stored in this turn, so nobody can have cancelled it yet. */
  private launch(job: Job, justAdded = false): void {
    this.running.set(job.id, job);
    try {
      // Another gateway process may have cancelled it while it waited here.
      if (!justAdded && this.o.store.get(job.id)?.cancelRequested)
        this.settle(job, canceledBeforeStart(job), "canceled");
      else void this.execute(job).catch((err: unknown) => this.storeFailed(job, err));
    } catch (err) {
      this.storeFailed(job, err);
    }
  }

  /**
   * The store failed around the run (PostgreSQL dropped: database_unavailable): the caller gets
   * that failure, typed, and the gateway goes on; the job's end is stored once the store answers.
   */
  private storeFailed(job: Job, err: unknown): void {
    if (!this.running.delete(job.id)) return; // settled already
    const error = err instanceof GatewayError ? err : new GatewayError("internal", String(err));
    this.o.logger.error(`job ${job.id}: not stored: ${error.message}`);
    const result = job.spec.failed(error.category, error.message);
    job.resolve({ result, status: "failed" });
    const retry = (): void => {
      try {
        this.o.store.finish(job.id, "failed", storedOutcome(job.spec.kind, result));
      } catch {
        if (!this.closing) setTimeout(retry, 2000).unref();
      }
    };
    setTimeout(retry, 1000).unref();
    this.pump();
  }

  private async execute(job: Job): Promise<void> {
    const { store, logger } = this.o;
    const { spec } = job;
    // A sync job's caller gets the answer itself: its output is never stored (see settle).
    const keepsOutput = spec.kind !== "sync";
    const sink = new OutputSink({
      writer: keepsOutput ? this.o.output : undefined,
      jobId: job.id,
      describe: spec.progressNote,
      onProgress: spec.onProgress,
    });
    const hooks: JobHooks = {
      signal: job.abort.signal,
      onSpawn: (pid: number) => store.setPid(job.id, pid, processStartTime(pid)),
      onOutput: keepsOutput ? sink.write : undefined,
      backpressure: keepsOutput ? sink.backpressure : undefined,
      onStdoutLine: spec.onProgress && sink.line,
    };
    store.markRunning(job.id);
    let result: GatewayResult;
    try {
      result = await spec.run(hooks);
    } catch (err) {
      result = job.abort.signal.aborted
        ? spec.failed("canceled", "The request was canceled")
        : err instanceof GatewayError
          ? spec.failed(err.category, err.message)
          : spec.failed("internal", err instanceof Error ? err.message : String(err));
      if (result.error?.category === "internal")
        logger.error(`job ${job.id} failed inside the gateway: ${String(err)}`);
    } finally {
      await sink.close();
    }
    this.settle(job, ...this.outcome(job, result));
  }

  /** How a finished run ends: a cancel or a shutdown outranks what the killed CLI printed. */
  private outcome(job: Job, result: GatewayResult): [GatewayResult, JobStatus] {
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

  private settle(job: Job, result: GatewayResult, status: JobStatus): void {
    this.o.store.finish(job.id, status, storedOutcome(job.spec.kind, result));
    this.running.delete(job.id);
    job.resolve({ result, status });
    this.pump();
  }

  /** Starts queued jobs while slots are free, in arrival order (skipping CLIs at their limit). */
  private pump(): void {
    if (this.closing) return;
    for (let i = 0; i < this.queue.length && this.running.size < this.o.limits.maxConcurrent;) {
      const job = this.queue[i]!;
      if (!this.hasSlot(job.spec.cli)) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      job.inContext(() => this.launch(job));
    }
  }
}

const canceledBeforeStart = (job: Job) =>
  job.spec.failed("canceled", "The request was canceled before it started");

/**
 * What gateway.db keeps of a finished job. A sync job's caller has the answer, so only its
 * metadata stays (status, times, error category): no answer, no error text (it may quote the
 * output). Async and task results are read back later: kept with secrets redacted, like the
 * flight recorder's texts, until the job retention ends.
 */
function storedOutcome(
  kind: JobKind,
  result: GatewayResult,
): { result?: unknown; error?: { category: string; message: string } } {
  if (kind === "sync")
    return { error: result.error && { category: result.error.category, message: "" } };
  // The CLI's raw JSON repeats the answer: the stored result keeps one copy.
  const { raw: _raw, ...stored } = result;
  const error = result.error && {
    category: result.error.category,
    message: redactSecrets(result.error.message),
  };
  return { result: { ...(redactJson(stored) as object), redacted: true }, error };
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await delay(20);
}
