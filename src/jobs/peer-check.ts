import { existsSync } from "node:fs";
import { join } from "node:path";
import { isSameProcessAlive } from "../process/liveness.js";

/** A lease not refreshed for this long (see leases.ts) belongs to a dead gateway process. */
export const LEASE_MS = 30_000;

/** A lease that ran out, or whose process is gone (or is another process with its pid). */
export function isDeadInstance(
  i: { pid: number; pidStart: string | null; heartbeatAt: number },
  now: number,
): boolean {
  return now - i.heartbeatAt > LEASE_MS || !isSameProcessAlive(i.pid, i.pidStart);
}

/**
 * Whether gateway.db holds the lease of a gateway process that died: its jobs must end interrupted
 * and its CLIs be stopped now, at start, not at the first call (the gateway itself loads lazily,
 * see main.ts). A read-only look at the instances table; any failure to read it (no table yet, a
 * corrupt file) also says "load the gateway now", which then reports the problem as a start would.
 */
export async function hasDeadPeers(home: string): Promise<boolean> {
  const path = join(home, "gateway.db");
  if (!existsSync(path)) return false;
  try {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      db.pragma("busy_timeout = 10000");
      const rows = db.prepare(`SELECT pid, pid_start, heartbeat_at FROM instances`).all() as {
        pid: number;
        pid_start: string | null;
        heartbeat_at: number;
      }[];
      const now = Date.now();
      return rows.some((r) =>
        isDeadInstance({ pid: r.pid, pidStart: r.pid_start, heartbeatAt: r.heartbeat_at }, now),
      );
    } finally {
      db.close();
    }
  } catch {
    return true;
  }
}
