import type { CliName } from "../providers/types.js";
import type { SqlDb, SqlStatement } from "./sql.js";

export const JOB_STATUSES = [
  "queued",
  "running",
  "completed",
  "failed",
  "canceled",
  "interrupted",
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export type JobKind = "sync" | "async" | "task";
/** What a job runs: one CLI, or a consultation / review whose children are CLI jobs. */
export const PARENT_TARGETS = ["consult", "review"] as const;
export type ParentTarget = (typeof PARENT_TARGETS)[number];
export type JobTarget = CliName | ParentTarget;
export const isParentTarget = (cli: string): cli is ParentTarget =>
  (PARENT_TARGETS as readonly string[]).includes(cli);
export type OutputStream = "stdout" | "stderr";

export const TERMINAL: ReadonlySet<JobStatus> = new Set([
  "completed",
  "failed",
  "canceled",
  "interrupted",
]);

export interface JobRow {
  id: string;
  /** A CLI, or "consult" / "review" for a parent job (it runs no process; its children do). */
  cli: JobTarget;
  /** The consult/review job this CLI job belongs to. */
  parentId: string | null;
  kind: JobKind;
  status: JobStatus;
  correlationId: string;
  owner: string;
  /** The HTTP client's token name that started it; null over stdio. */
  clientToken: string | null;
  pid: number | null;
  pidStart: string | null;
  cancelRequested: boolean;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  /** The normalized result (GatewayResult) as JSON, once the job ended. */
  result: string | null;
  errorCategory: string | null;
  errorMessage: string | null;
  stdoutChars: number;
  stderrChars: number;
}

/** One gateway process (a host) with its lease. */
export interface Instance {
  /** Its host id: the owner of its jobs. */
  id: string;
  pid: number;
  pidStart: string | null;
  /** The machine it runs on, and that machine's boot (null: rows from before several hosts). */
  hostname: string | null;
  bootId: string | null;
  /** How long its lease lasts after each heartbeat. */
  leaseMs: number;
  /** Its last heartbeat, in epoch ms of the database's clock. */
  heartbeatAt: number;
  /** Its lease ran out by the database's clock. */
  expired: boolean;
}

/** The lease of rows written before leases had a length (the lease then was 30 s). */
export const LEGACY_LEASE_MS = 30_000;

export { JOB_MIGRATIONS, PARENT_JOB_MIGRATION } from "./job-schema.js";

/** A piece of a job's output: [start, start + text.length) in UTF-16 code units of its stream. */
export interface OutputChunk {
  jobId: string;
  stream: OutputStream;
  start: number;
  text: string;
}

interface Row {
  id: string;
  cli: JobTarget;
  parent_id: string | null;
  kind: JobKind;
  status: JobStatus;
  correlation_id: string;
  owner: string;
  client_token?: string | null;
  pid: number | null;
  pid_start: string | null;
  cancel_requested: number;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  result: string | null;
  error_category: string | null;
  error_message: string | null;
  stdout_chars: number;
  stderr_chars: number;
}

const toJob = (r: Row): JobRow => ({
  id: r.id,
  cli: r.cli,
  parentId: r.parent_id ?? null,
  kind: r.kind,
  status: r.status,
  correlationId: r.correlation_id,
  owner: r.owner,
  clientToken: r.client_token ?? null,
  pid: r.pid,
  pidStart: r.pid_start,
  cancelRequested: r.cancel_requested === 1,
  createdAt: r.created_at,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  result: r.result,
  errorCategory: r.error_category,
  errorMessage: r.error_message,
  stdoutChars: r.stdout_chars,
  stderrChars: r.stderr_chars,
});

interface InstanceRow {
  id: string;
  pid: number;
  pid_start: string | null;
  hostname: string | null;
  boot_id: string | null;
  lease_ms: number | null;
  heartbeat_at: number;
  expired: number;
}

const toInstance = (r: InstanceRow): Instance => ({
  id: r.id,
  pid: r.pid,
  pidStart: r.pid_start,
  hostname: r.hostname,
  bootId: r.boot_id,
  leaseMs: r.lease_ms ?? LEGACY_LEASE_MS,
  heartbeatAt: Number(r.heartbeat_at),
  expired: Number(r.expired) === 1,
});

const now = () => new Date().toISOString();

/** Jobs and their output in SQLite, shared by every gateway process. */
export class JobStore {
  private readonly sql: (text: string) => SqlStatement;
  /** The column that orders rows as they were inserted (SQLite's rowid; PostgreSQL's seq). */
  private readonly insertionOrder: string;
  /** SQL for "now" in epoch ms, and for "this instance row's lease ran out". */
  private readonly nowMs: string;
  private readonly expiredSql: string;

  /** `clientOf`: the HTTP client whose request is being handled (its jobs carry its name). */
  constructor(
    private readonly db: SqlDb,
    private readonly clientOf: () => string | undefined = () => undefined,
  ) {
    this.sql = (text) => db.prepare(text);
    this.insertionOrder = db.dialect === "sqlite" ? "rowid" : "seq";
    // Leases are judged by one clock, the database's (on SQLite, this machine's, as Date.now()).
    this.nowMs =
      db.dialect === "postgres"
        ? `(extract(epoch from clock_timestamp()) * 1000)::bigint`
        : `CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)`;
    this.expiredSql = `(CASE WHEN heartbeat_at + COALESCE(lease_ms, ${LEGACY_LEASE_MS}) < ${this.nowMs} THEN 1 ELSE 0 END)`;
  }

  /**
   * Takes the lease of `instance.id` (a restart under the same host id takes its old row over;
   * Leases refuses first when that row is live). The heartbeat is the database's clock.
   */
  registerInstance(instance: Omit<Instance, "heartbeatAt" | "expired">): void {
    this.sql(
      `INSERT INTO instances (id, pid, pid_start, started_at, heartbeat_at, hostname, boot_id, lease_ms)
         VALUES (?, ?, ?, ?, ${this.nowMs}, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, pid_start = excluded.pid_start,
           started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at,
           hostname = excluded.hostname, boot_id = excluded.boot_id, lease_ms = excluded.lease_ms`,
    ).run(
      instance.id,
      instance.pid,
      instance.pidStart,
      now(),
      instance.hostname,
      instance.bootId,
      instance.leaseMs,
    );
  }

  /** Refreshes a lease by the database's clock; false when the row is gone (another host reaped it). */
  heartbeat(id: string): boolean {
    return (
      this.sql(`UPDATE instances SET heartbeat_at = ${this.nowMs} WHERE id = ?`).run(id).changes ===
      1
    );
  }

  removeInstance(id: string): void {
    this.sql(`DELETE FROM instances WHERE id = ?`).run(id);
  }

  /** Every registered gateway process, its lease judged by the database's clock. */
  instances(): Instance[] {
    return (
      this.sql(`SELECT *, ${this.expiredSql} AS expired FROM instances`).all() as InstanceRow[]
    ).map(toInstance);
  }

  insert(job: {
    id: string;
    cli: JobTarget;
    kind: JobKind;
    correlationId: string;
    owner: string;
    parentId?: string;
  }): void {
    this.sql(
      `INSERT INTO jobs (id, cli, kind, status, correlation_id, owner, created_at, parent_id, client_token) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?)`,
    ).run(
      job.id,
      job.cli,
      job.kind,
      job.correlationId,
      job.owner,
      now(),
      job.parentId ?? null,
      this.clientOf() ?? null,
    );
  }

  /** CLI jobs of one HTTP client queued or running (its token's concurrency limit). */
  openCountOfClient(clientToken: string): number {
    return (
      this.sql(
        `SELECT count(*) AS n FROM jobs WHERE client_token = ? AND status IN ('queued', 'running') AND cli NOT IN ('consult', 'review')`,
      ).get(clientToken) as { n: number }
    ).n;
  }

  /** The CLI jobs of a consult/review job, oldest first. */
  children(parentId: string): JobRow[] {
    return (
      this.sql(
        `SELECT * FROM jobs WHERE parent_id = ? ORDER BY created_at, ${this.insertionOrder}`,
      ).all(parentId) as Row[]
    ).map(toJob);
  }

  markRunning(id: string): void {
    this.sql(
      `UPDATE jobs SET status = 'running', started_at = ? WHERE id = ? AND status = 'queued'`,
    ).run(now(), id);
  }

  /** The CLI's pid (its process group) and start time, so any gateway process can stop it. */
  setPid(id: string, pid: number, pidStart: string | undefined): void {
    this.sql(`UPDATE jobs SET pid = ?, pid_start = ? WHERE id = ?`).run(pid, pidStart ?? null, id);
  }

  /** Stores output chunks in one transaction; chunks of jobs deleted meanwhile are dropped. */
  appendOutput(chunks: readonly OutputChunk[]): void {
    this.db.transaction(() => {
      for (const { jobId, stream, start, text } of chunks) {
        const end = start + text.length;
        const stored = this.sql(
          `INSERT INTO job_output (job_id, stream, start, "end", text)
             SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM jobs WHERE id = ?)`,
        ).run(jobId, stream, start, end, this.storable(text), jobId);
        if (stored.changes)
          this.sql(
            stream === "stderr"
              ? `UPDATE jobs SET stderr_chars = ? WHERE id = ?`
              : `UPDATE jobs SET stdout_chars = ? WHERE id = ?`,
          ).run(end, jobId);
      }
    });
  }

  /**
   * PostgreSQL's text cannot hold NUL, which a CLI may print: it is stored as U+FFFD, one UTF-16
   * unit for one, so every offset stays where it was.
   */
  private storable(text: string): string {
    return this.db.dialect === "postgres" && text.includes("\0")
      ? text.replaceAll("\0", "\uFFFD")
      : text;
  }

  /** Ends a job unless it already ended (a reaper or a cancel may have got there first). */
  finish(
    id: string,
    status: JobStatus,
    { result, error }: { result?: unknown; error?: { category: string; message: string } } = {},
  ): boolean {
    const info = this.sql(
      `UPDATE jobs SET status = ?, ended_at = ?, result = ?, error_category = ?, error_message = ?
         WHERE id = ? AND status IN ('queued', 'running')`,
    ).run(
      status,
      now(),
      result === undefined ? null : JSON.stringify(result),
      error?.category ?? null,
      error?.message ?? null,
      id,
    );
    return info.changes === 1;
  }

  get(id: string): JobRow | undefined {
    const row = this.sql(`SELECT * FROM jobs WHERE id = ?`).get(id) as Row | undefined;
    return row && toJob(row);
  }

  requestCancel(id: string): void {
    this.sql(`UPDATE jobs SET cancel_requested = 1 WHERE id = ?`).run(id);
  }

  /** The text of [offset, offset + maxChars) of one stream. */
  readOutput(id: string, stream: OutputStream, offset: number, maxChars: number): string {
    const rows = this.sql(
      `SELECT start, text FROM job_output WHERE job_id = ? AND stream = ? AND start < ? AND "end" > ? ORDER BY start`,
    ).all(id, stream, offset + maxChars, offset) as { start: number; text: string }[];
    let text = "";
    for (const row of rows) {
      const from = Math.max(0, offset - row.start);
      text += row.text.slice(from, from + maxChars - text.length);
    }
    return text;
  }

  /** Open jobs of the given owners: reported interrupted, and their process groups stopped. */
  openJobsOf(owners: string[]): JobRow[] {
    if (!owners.length) return [];
    const rows = this.sql(
      `SELECT * FROM jobs WHERE status IN ('queued', 'running') AND owner IN (${owners.map(() => "?").join(",")})`,
    ).all(...owners) as Row[];
    return rows.map(toJob);
  }

  list(limit: number): JobRow[] {
    return (
      this.sql(
        `SELECT * FROM jobs ORDER BY created_at DESC, ${this.insertionOrder} DESC LIMIT ?`,
      ).all(limit) as Row[]
    ).map(toJob);
  }

  /** Removes jobs that ended before the cutoff, with their output. */
  pruneEndedBefore(cutoffIso: string): number {
    return this.sql(`DELETE FROM jobs WHERE ended_at IS NOT NULL AND ended_at < ?`).run(cutoffIso)
      .changes;
  }

  /** Whether gateway processes on other machines share this store (then pids say nothing). */
  get sharedAcrossMachines(): boolean {
    return this.db.dialect === "postgres";
  }

  /** One gateway process's row, its lease judged by the database's clock. */
  instance(id: string): Instance | undefined {
    const row = this.sql(`SELECT *, ${this.expiredSql} AS expired FROM instances WHERE id = ?`).get(
      id,
    ) as InstanceRow | undefined;
    return row && toInstance(row);
  }

  /**
   * Ends a dead gateway process: removes its row (only if its lease still ran out, when
   * `ifExpired`: a host that just refreshed it is live) and ends its open jobs with `error`, in one
   * transaction. Returns those jobs, or undefined when another host got there first.
   */
  reapDeadInstance(
    id: string,
    ifExpired: boolean,
    error: { category: string; message: string },
  ): JobRow[] | undefined {
    return this.db.transaction(() => {
      const claimed = this.sql(
        `DELETE FROM instances WHERE id = ?${ifExpired ? ` AND ${this.expiredSql} = 1` : ""}`,
      ).run(id).changes;
      if (claimed !== 1) return undefined;
      const open = this.openJobsOf([id]);
      for (const job of open) this.finish(job.id, "interrupted", { error });
      return open;
    });
  }

  /** The open jobs of one owner that another host asked to cancel (the partial index jobs_cancel_requested). */
  cancelRequestedOf(owner: string): string[] {
    return (
      this.sql(
        `SELECT id FROM jobs WHERE owner = ? AND cancel_requested = 1 AND status IN ('queued', 'running')`,
      ).all(owner) as { id: string }[]
    ).map((r) => r.id);
  }
}
