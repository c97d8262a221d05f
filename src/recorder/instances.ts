import { hostname } from "node:os";
import { isSameProcessAlive, processStartTime } from "../process/liveness.js";
import type { SqlDb, SqlStatement } from "../store/sql.js";

/**
 * The gateway processes that write the record (`instances`), and which of them are gone: their
 * calls still `started` end `interrupted`.
 *
 * SQLite (one machine): a process is alive when its pid exists and (where /proc says) started at
 * the recorded time; rows of other hosts are left alone. PostgreSQL (several hosts share the
 * table): a pid says nothing about another host, so each instance holds a lease in the database
 * (`lease_until`, the database's clock, renewed by a heartbeat) and one whose lease has lapsed is
 * gone, on any host, this one included. Each instance sweeps for lapsed leases as it renews its own.
 */

/** PostgreSQL: how long an instance's lease lasts; renewed every third of it. */
export const DEFAULT_LEASE_MS = 30_000;

const INTERRUPTED_MESSAGE =
  "The gateway process ended before the call finished (crash, kill or shutdown)";
const SHUTDOWN_MESSAGE = "The gateway shut down before the call finished";

/** The database's clock in epoch ms (hosts' clocks may differ; the database's is one). */
const DB_NOW_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;

export interface InstanceOptions {
  instanceId: string;
  gatewayVersion: string | null;
  leaseMs: number;
  onError: (error: unknown) => void;
  /** Called when calls were marked interrupted by the heartbeat's sweep. */
  onMarked: () => void;
}

export class Instances {
  private readonly stmts: Record<string, SqlStatement>;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: SqlDb,
    private readonly o: InstanceOptions,
  ) {
    const pg = db.dialect === "postgres";
    const duration = pg
      ? `round(extract(epoch FROM (?::timestamptz - started_at::timestamptz)) * 1000)::bigint`
      : `cast(round((julianday(?) - julianday(started_at)) * 86400000) AS INTEGER)`;
    this.stmts = {
      register: db.prepare(
        `INSERT INTO instances (id, pid, process_start, hostname, gateway_version, started_at${pg ? ", lease_until" : ""})
         VALUES (?, ?, ?, ?, ?, ?${pg ? `, ${DB_NOW_MS} + ?` : ""})`,
      ),
      interrupt: db.prepare(`
        UPDATE calls SET status = 'interrupted', ended_at = ?, error_message = ?,
          duration_ms = CASE WHEN ? = 1 THEN ${duration} END
        WHERE status = 'started' AND instance_id IS NOT DISTINCT FROM ?`),
      startedOwners: db.prepare(`
        SELECT o.instance_id, i.pid, i.process_start, i.hostname
        FROM (SELECT DISTINCT instance_id FROM calls WHERE status = 'started') o
        LEFT JOIN instances i ON i.id = o.instance_id`),
      ...(pg && {
        renew: db.prepare(`UPDATE instances SET lease_until = ${DB_NOW_MS} + ? WHERE id = ?`),
        interruptLapsed: db.prepare(`
          UPDATE calls SET status = 'interrupted', ended_at = ?, error_message = ?
          WHERE status = 'started' AND instance_id IS DISTINCT FROM ?
            AND NOT EXISTS (SELECT 1 FROM instances i
              WHERE i.id = calls.instance_id AND i.lease_until >= ${DB_NOW_MS})`),
      }),
    };
  }

  /** Adds this process to `instances` (PostgreSQL: with its lease, and the heartbeat starts). */
  register(): void {
    const params = [
      this.o.instanceId,
      process.pid,
      processStartTime(process.pid) ?? null,
      hostname(),
      this.o.gatewayVersion,
      new Date().toISOString(),
    ];
    if (this.db.dialect === "sqlite") {
      this.stmts.register!.run(...params);
      return;
    }
    this.stmts.register!.run(...params, this.o.leaseMs);
    this.timer = setInterval(() => this.heartbeat(), Math.max(10, this.o.leaseMs / 3));
    this.timer.unref();
  }

  /** Marks the started calls of processes that are gone `interrupted`; returns how many. */
  markGone(): number {
    const now = new Date().toISOString();
    if (this.db.dialect === "postgres")
      return this.stmts.interruptLapsed!.run(now, INTERRUPTED_MESSAGE, this.o.instanceId).changes;
    const host = hostname();
    const owners = this.stmts.startedOwners!.all() as {
      instance_id: string | null;
      pid: number | null;
      process_start: string | null;
      hostname: string | null;
    }[];
    let marked = 0;
    for (const o of owners) {
      if (o.instance_id === this.o.instanceId) continue;
      if (o.pid !== null && o.hostname !== host) continue;
      if (o.pid !== null && isSameProcessAlive(o.pid, o.process_start)) continue;
      marked += this.stmts.interrupt!.run(now, INTERRUPTED_MESSAGE, 0, now, o.instance_id).changes;
    }
    return marked;
  }

  /** This process shuts down: its calls still `started` end `interrupted`, timed to now. */
  interruptOwn(): void {
    this.stop();
    const now = new Date().toISOString();
    this.stmts.interrupt!.run(now, SHUTDOWN_MESSAGE, 1, now, this.o.instanceId);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Renews this instance's lease (re-registering if its row was pruned), then sweeps. */
  private heartbeat(): void {
    try {
      if (this.stmts.renew!.run(this.o.leaseMs, this.o.instanceId).changes === 0) {
        this.stop();
        this.register();
      }
      if (this.markGone() > 0) this.o.onMarked();
    } catch (err) {
      this.o.onError(err);
    }
  }
}
