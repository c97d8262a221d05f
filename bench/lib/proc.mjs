// Process memory from /proc and a description of the machine the figures came from.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";

/** VmRSS (current) and VmHWM (peak) of a live process, in kB; nulls when it is gone. */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return { rssKb: field(status, "VmRSS"), hwmKb: field(status, "VmHWM") };
  } catch {
    return { rssKb: null, hwmKb: null };
  }
}

function field(status, name) {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
  return m ? Number(m[1]) : null;
}

export const mb = (kb) => (kb === null || kb === undefined ? null : kb / 1024);

/** CPU, cores, memory, OS, Node and the load average: enough to judge how noisy a run was. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAvg: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/**
 * Runs one bench case in its own Node process (so its memory is its own) and resolves to the JSON
 * on its last stdout line, or to `crashed(code, stderrTail)` when there is none.
 */
export function runCaseProcess(file, spec, crashed, nodeArgs = []) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...nodeArgs, file, JSON.stringify(spec)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err = (err + c).slice(-4000)));
    child.on("close", (code) => {
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()));
      } catch {
        resolve(crashed(code, err));
      }
    });
  });
}
