import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

/**
 * Who this gateway process is among the hosts sharing one database (docs/POSTGRES.md, "Several
 * hosts"): its host id (unique per process: two gateways on one machine are two hosts), the
 * machine's name (where its CLIs keep their session files) and the machine's boot id (a CLI pid is
 * only ever signalled on the machine, and in the boot, that started it).
 */
export interface HostIdentity {
  hostId: string;
  hostname: string;
  /** /proc/sys/kernel/random/boot_id; null off Linux. */
  bootId: string | null;
}

const HOST_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** LLM_GATEWAY_HOST_ID checked; unset: `<hostname>-<pid>-<6 hex>`. Throws naming the variable. */
export function hostIdFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.LLM_GATEWAY_HOST_ID;
  if (raw === undefined || raw === "") return undefined;
  if (!HOST_ID.test(raw))
    throw new Error(
      `LLM_GATEWAY_HOST_ID must be 1 to 100 characters of letters, digits, ".", "_" or "-" (starting with a letter or digit), got "${raw}"`,
    );
  return raw;
}

/** The machine's name as recorded on sessions: LLM_GATEWAY_HOSTNAME, else the OS host name. */
export function machineName(env: NodeJS.ProcessEnv = process.env): string {
  return env.LLM_GATEWAY_HOSTNAME || hostname();
}

export function bootId(): string | null {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
  } catch {
    return null;
  }
}

export function hostIdentity(env: NodeJS.ProcessEnv, configured?: string): HostIdentity {
  const name = machineName(env);
  const safeName = name.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 60) || "host";
  return {
    hostId: configured ?? `${safeName}-${process.pid}-${randomBytes(3).toString("hex")}`,
    hostname: name,
    bootId: bootId(),
  };
}
