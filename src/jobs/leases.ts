import { randomUUID } from "node:crypto";
import type { ErrorCategory } from "../errors.js";
import type { Logger } from "../log.js";
import { isSameProcessAlive, killGroup, processStartTime } from "../process/liveness.js";
import { isDeadInstance } from "./peer-check.js";
import type { JobStore } from "../store/jobs.js";

/** A live instance refreshes its lease this often; one not refreshed for LEASE_MS is dead. */
const HEARTBEAT_MS = 5_000;

/** How a job ends when the gateway process running it stops first. */
export const interruptedError = {
  category: "interrupted" as ErrorCategory,
  message:
    "The gateway process running this job stopped before it finished; its output so far is kept",
};

export interface LeaseOptions {
  store: JobStore;
  logger: Logger;
  /** How long finished jobs (and their output) are kept. */
  retentionMs: number;
  /** Called when dead gateway processes were found (their recorder rows end interrupted too). */
  onPeersDied?: () => void;
}

/**
 * Cross-process leases: every gateway process sharing gateway.db registers itself and keeps its
 * lease fresh; the jobs of a process whose lease ran out (or whose pid is gone) end interrupted.
 * Old jobs are pruned on the same beat.
 */
export class Leases {
  readonly instanceId = randomUUID();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly o: LeaseOptions) {}

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

  /** Stops refreshing the lease (shutdown has begun). */
  stop(): void {
    clearInterval(this.heartbeat);
  }

  /** Gives the lease up: this process's jobs have all ended. */
  release(): void {
    this.o.store.removeInstance(this.instanceId);
  }

  /** Refreshes this lease, ends the jobs of dead gateway processes, and prunes old jobs. */
  private maintain(): void {
    const { store, logger } = this.o;
    const now = Date.now();
    store.heartbeat(this.instanceId, now);
    const dead = store
      .instances()
      .filter((i) => i.id !== this.instanceId && isDeadInstance(i, now));
    for (const job of store.openJobsOf(dead.map((i) => i.id))) {
      // Its CLI may have outlived the gateway that started it: it has no one to report to.
      if (job.pid !== null && isSameProcessAlive(job.pid, job.pidStart))
        killGroup(job.pid, "SIGKILL");
      store.finish(job.id, "interrupted", { error: interruptedError });
      logger.warn(`job ${job.id} (${job.cli}) was interrupted: its gateway process stopped`);
    }
    for (const instance of dead) store.removeInstance(instance.id);
    if (dead.length) this.o.onPeersDied?.();
    store.pruneEndedBefore(new Date(now - this.o.retentionMs).toISOString());
  }
}
