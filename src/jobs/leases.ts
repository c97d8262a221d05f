import type { ErrorCategory } from "../errors.js";
import type { HostIdentity } from "../host.js";
import type { Logger } from "../log.js";
import { isSameProcessAlive, killGroup, processStartTime } from "../process/liveness.js";
import { isDeadInstance, onThisMachine } from "./peer-check.js";
import type { Instance, JobStore } from "../store/jobs.js";

/** How a job ends when the gateway process running it stops first. */
export const interruptedError = {
  category: "interrupted" as ErrorCategory,
  message:
    "The gateway process running this job stopped before it finished; its output so far is kept",
};

export interface LeaseOptions {
  store: JobStore;
  logger: Logger;
  /** This process among the hosts sharing the store. */
  host: HostIdentity;
  /** How long a lease lasts after a heartbeat (LLM_GATEWAY_LEASE_MS). */
  leaseMs: number;
  /** How long finished jobs (and their output) are kept. */
  retentionMs: number;
  /** Called when dead gateway processes were found (their recorder rows end interrupted too). */
  onPeersDied?: () => void;
}

/**
 * Leases across processes and hosts: every gateway process sharing the store registers under its
 * host id and refreshes its lease by the database's clock a few times per lease; the jobs of a
 * process whose lease ran out (on SQLite also: whose pid is gone) end interrupted, and its CLIs are
 * killed only on their own machine. Old jobs are pruned on the same beat.
 */
export class Leases {
  readonly instanceId: string;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly o: LeaseOptions) {
    this.instanceId = o.host.hostId;
  }

  /** A few heartbeats per lease, so one late beat never lets it run out. */
  get heartbeatMs(): number {
    return Math.max(100, Math.min(5_000, Math.floor(this.o.leaseMs / 4)));
  }

  /**
   * Takes this host id's lease (refused while a live process holds it), reports dead processes'
   * jobs interrupted, and keeps the lease fresh.
   */
  start(): void {
    const held = this.o.store.instance(this.instanceId);
    if (held && !this.isDead(held))
      throw new Error(
        `LLM_GATEWAY_HOST_ID ${this.instanceId} is taken: a live gateway holds its lease (pid ${held.pid} on ${held.hostname ?? "this machine"}); give this gateway another id, or unset LLM_GATEWAY_HOST_ID for a unique one`,
      );
    if (held) this.reap(held); // a restart under the same id: the old process's jobs end first
    this.register();
    this.maintain();
    this.heartbeat = setInterval(() => this.maintain(), this.heartbeatMs).unref();
  }

  /** Stops refreshing the lease (shutdown has begun). */
  stop(): void {
    clearInterval(this.heartbeat);
  }

  /** Gives the lease up: this process's jobs have all ended. */
  release(): void {
    this.o.store.removeInstance(this.instanceId);
  }

  private register(): void {
    const { host, leaseMs } = this.o;
    this.o.store.registerInstance({
      id: this.instanceId,
      pid: process.pid,
      pidStart: processStartTime(process.pid) ?? null,
      hostname: host.hostname,
      bootId: host.bootId,
      leaseMs,
    });
  }

  /** Its CLIs' pids name processes here (the same machine, the same boot). */
  private onThisMachine(peer: { bootId: string | null }): boolean {
    return onThisMachine(peer, this.o.host, this.o.store.sharedAcrossMachines);
  }

  /** On PostgreSQL by the lease alone; on SQLite (one machine's file) by the pid too, as before. */
  private isDead(peer: Instance): boolean {
    return isDeadInstance(peer, !this.o.store.sharedAcrossMachines);
  }

  /** Refreshes this lease, ends the jobs of dead gateway processes, and prunes old jobs. */
  private maintain(): void {
    const { store, logger } = this.o;
    try {
      if (!store.heartbeat(this.instanceId)) {
        // Paused past its lease (a stopped VM, a debugger): another host ended its jobs.
        logger.warn(
          `host ${this.instanceId}: its lease had run out and another host ended its open jobs interrupted; lease taken again`,
        );
        this.register();
      }
      let died = false;
      for (const peer of store.instances())
        if (peer.id !== this.instanceId && this.isDead(peer)) died = this.reap(peer) || died;
      if (died) this.o.onPeersDied?.();
      store.pruneEndedBefore(new Date(Date.now() - this.o.retentionMs).toISOString());
    } catch (err) {
      // The database may be away for a moment (PostgreSQL restarting): the next beat tries again.
      logger.warn(`lease heartbeat failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Ends one dead process's jobs (if this host claims it first) and stops their CLIs on this machine. */
  private reap(peer: Instance): boolean {
    const ended = this.o.store.reapDeadInstance(peer.id, peer.expired, interruptedError);
    if (!ended) return false;
    const local = this.onThisMachine(peer);
    for (const job of ended) {
      // Its CLI may have outlived the gateway that started it: it has no one to report to.
      if (local && job.pid !== null && isSameProcessAlive(job.pid, job.pidStart))
        killGroup(job.pid, "SIGKILL");
      this.o.logger.warn(
        `job ${job.id} (${job.cli}) was interrupted: its gateway process (host ${peer.id}) stopped`,
      );
    }
    return true;
  }
}
