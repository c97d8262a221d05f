import type { Logger } from "../log.js";
import type { JobStore } from "../store/jobs.js";

/** How often a host looks for cancel requests other hosts made on its open jobs. */
export const CANCEL_POLL_MS = 500;

/**
 * A cancel reaches the host that runs the job through the database: llm_job_cancel on any host
 * sets the job's cancel_requested flag, and the owner polls its own open jobs' flags (one indexed
 * query, only while it has jobs) and stops them. The same path serves SQLite and PostgreSQL.
 */
export class CancelWatch {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly o: {
      store: JobStore;
      logger: Logger;
      owner: string;
      /** Whether this host has any job queued or running (no query otherwise). */
      busy: () => boolean;
      /** Stops one of this host's jobs; false if it is not (or no longer) here. */
      cancelHere: (id: string) => boolean;
      intervalMs?: number;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => this.poll(), this.o.intervalMs ?? CANCEL_POLL_MS).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private poll(): void {
    if (!this.o.busy()) return;
    try {
      for (const id of this.o.store.cancelRequestedOf(this.o.owner)) this.o.cancelHere(id);
    } catch (err) {
      this.o.logger.warn(
        `could not read cancel requests: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
}

/**
 * What llm_job_cancel's reply says about a job still open after the cancel: where it runs and
 * what happens next, as the database tells it (undefined once the job has ended).
 */
export function cancelNote(
  job: { owner: string; status: string },
  store: JobStore,
  self: string,
): string | undefined {
  if (job.status !== "queued" && job.status !== "running") return undefined;
  if (job.owner === self)
    return `cancel requested; the job runs on this host (${self}): stopping it`;
  const owner = store.instance(job.owner);
  if (owner && !owner.expired)
    return `cancel requested; the job runs on host ${job.owner}, which stops it within about a second (see llm_job_status)`;
  return `cancel requested; host ${job.owner}, which runs the job, is not refreshing its lease: the job ends interrupted once another host finds the lease expired`;
}
