import { existsSync } from "node:fs";
import { join } from "node:path";
import { isSameProcessAlive } from "../process/liveness.js";
import { postgresFromEnv } from "../store/database-config.js";

/** Lease length by default (LLM_GATEWAY_LEASE_MS): a dead host's jobs end interrupted within ~25 s. */
export const DEFAULT_LEASE_MS = 20_000;
/** Rows written before leases had a length (store/jobs.ts LEGACY_LEASE_MS). */
const LEGACY_LEASE_MS = 30_000;

/** What liveness is judged by: a lease, and on the same machine also the process itself. */
export interface PeerFacts {
  pid: number;
  pidStart: string | null;
  bootId: string | null;
  /** The lease ran out (by the database's clock). */
  expired: boolean;
}

/**
 * Whether the CLI pids of an instance can be trusted here: on SQLite (one machine's file) always,
 * else only when it runs on this machine in this boot.
 */
export function onThisMachine(
  peer: { bootId: string | null },
  mine: { bootId: string | null },
  sharedAcrossMachines: boolean,
): boolean {
  if (peer.bootId !== null && mine.bootId !== null) return peer.bootId === mine.bootId;
  return !sharedAcrossMachines;
}

/**
 * Dead: its lease ran out; or, on SQLite only, its process is gone (or another process has its
 * pid). On PostgreSQL a pid is never judged: the lease alone says, so a live host on another
 * machine whose pid happens to be free here is never touched.
 */
export function isDeadInstance(peer: PeerFacts, pidsCount: boolean): boolean {
  return peer.expired || (pidsCount && !isSameProcessAlive(peer.pid, peer.pidStart));
}

/**
 * Whether the gateway must load now rather than at the first call. On PostgreSQL
 * (LLM_GATEWAY_DATABASE_URL) always: this process is one host of a shared database, and only a
 * loaded gateway holds a lease and reaps the hosts that die, so a gateway that never gets a call
 * must load too (and an invalid setting is then reported as a start reports it). On SQLite only
 * when gateway.db holds a dead process's lease: the bare process keeps its idle RSS otherwise.
 */
export async function needsGatewayAtStart(env: NodeJS.ProcessEnv, home: string): Promise<boolean> {
  try {
    if (postgresFromEnv(env)) return true;
  } catch {
    return true;
  }
  return hasDeadPeers(home);
}

/**
 * Whether gateway.db holds the lease of a gateway process that died: its jobs must end interrupted
 * and its CLIs be stopped now, at start, not at the first call (the gateway itself loads lazily,
 * see main.ts). A read-only look at the instances table; any failure to read it (no table yet, a
 * corrupt file) also says "load the gateway now", which then reports the problem as a start would.
 * (On PostgreSQL see needsGatewayAtStart: this looks at the local SQLite file only.)
 */
export async function hasDeadPeers(home: string): Promise<boolean> {
  const path = join(home, "gateway.db");
  if (!existsSync(path)) return false;
  try {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      db.pragma("busy_timeout = 10000");
      const rows = db.prepare(`SELECT * FROM instances`).all() as {
        pid: number;
        pid_start: string | null;
        heartbeat_at: number;
        lease_ms?: number | null;
      }[];
      const now = Date.now();
      return rows.some((r) =>
        isDeadInstance(
          {
            pid: r.pid,
            pidStart: r.pid_start,
            bootId: null,
            expired: now - r.heartbeat_at > (r.lease_ms ?? LEGACY_LEASE_MS),
          },
          true,
        ),
      );
    } finally {
      db.close();
    }
  } catch {
    return true;
  }
}
