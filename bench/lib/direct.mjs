// Spawning a CLI directly, the way the gateway does (same command, arguments, environment, directory,
// prompt on stdin), and waiting for it to finish: the physical limit a gateway's timing is compared to.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";

/** Resolves with { ms, bytes, sha256 } of the CLI's stdout; rejects on a non-zero exit. */
export function spawnDirect(command, args, { prompt, env, cwd, hash = false }) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // detached like the gateway's runner: on Linux with autogroup scheduling a new session is also a
    // new CPU share, so spawning differently would skew the comparison whenever the machine is busy.
    const child = spawn(command, args, {
      env,
      cwd,
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const digest = hash ? createHash("sha256") : undefined;
    let bytes = 0;
    let stderr = "";
    child.stdout.on("data", (c) => {
      bytes += c.length;
      digest?.update(c);
    });
    child.stderr.on("data", (c) => (stderr = (stderr + c.toString("utf8")).slice(-4096)));
    child.stdin.on("error", () => {});
    child.stdin.end(prompt);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const ms = performance.now() - started;
      if (code !== 0) reject(new Error(`${command} exited ${code ?? signal}: ${stderr}`));
      else resolve({ ms, bytes, sha256: digest?.digest("hex") });
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
