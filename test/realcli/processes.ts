import { readdirSync, readFileSync } from "node:fs";

/** Pids of live processes whose environment contains `needle` (children inherit the gateway's env). */
export function processesWithEnv(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (/^\d+ \(.*\) [ZX]/.test(stat)) continue;
      if (readFileSync(`/proc/${entry}/environ`, "latin1").split("\0").includes(needle))
        pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}
