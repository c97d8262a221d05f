import { readFileSync } from "node:fs";

/**
 * When a process started, in clock ticks since boot (/proc/<pid>/stat field 22), or undefined when
 * it is gone or this is not Linux. A pid with a different start time is another process.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[0] === "X") return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

/** True when the process that had this pid and start time still runs. */
export function isSameProcessAlive(pid: number, startTime: string | null): boolean {
  if (startTime === null) {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  return processStartTime(pid) === startTime;
}

/** Sends a signal to a whole process group (a CLI started detached leads its own); gone is fine. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}
