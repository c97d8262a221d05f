import { spawn } from "node:child_process";
import { mkdtempSync, openSync, closeSync, fstatSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";

/** One CLI run. The runner is the only code in the gateway that starts a process. */
export interface RunSpec {
  command: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed. Without it stdin is /dev/null (codex reads it to EOF). */
  stdin?: string;
  /** Capture stdout through a file instead of a pipe (gemini loses the tail of a piped stdout). */
  stdoutToFile?: boolean;
  timeoutMs?: number;
  /** Stop the run when neither stdout nor stderr grew for this long. */
  idleTimeoutMs?: number;
  maxOutputBytes: number;
  killGraceMs: number;
  signal?: AbortSignal;
}

export type StopReason = "timeout" | "idle_timeout" | "output_overflow" | "canceled";

export interface RunOutcome {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
  /** Why the gateway stopped the process, when it did. */
  stopped?: StopReason;
  /** Set when the process could not be started at all (ENOENT, EACCES, ...). */
  spawnError?: NodeJS.ErrnoException;
}

/** How often a file-backed stdout is checked for growth (idle timeout and output cap). */
const FILE_POLL_MS = 200;
/** After the process exits, how long to wait for its pipes to close (grandchildren may hold them). */
const PIPE_DRAIN_MS = 1000;

export function runProcess(spec: RunSpec): Promise<RunOutcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const stdoutFile = spec.stdoutToFile ? openTempOutput() : undefined;
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      shell: false,
      detached: true, // own process group, so the whole tree can be stopped at once
      stdio: [
        spec.stdin === undefined ? "ignore" : "pipe",
        stdoutFile ? stdoutFile.fd : "pipe",
        "pipe",
      ],
    });

    const stdout = new TextCollector();
    const stderr = new TextCollector();
    let outputBytes = 0;
    let fileBytes = 0;
    let lastActivity = performance.now();
    let stopped: StopReason | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let finished = false;
    const timers: NodeJS.Timeout[] = [];

    const signalGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // the group is already gone
      }
    };

    const stop = (reason: StopReason) => {
      if (stopped || finished) return;
      stopped = reason;
      signalGroup("SIGTERM");
      timers.push(setTimeout(() => signalGroup("SIGKILL"), spec.killGraceMs).unref());
    };

    const onData = (collector: TextCollector) => (chunk: Buffer) => {
      lastActivity = performance.now();
      outputBytes += chunk.length;
      if (outputBytes + fileBytes > spec.maxOutputBytes) stop("output_overflow");
      else collector.push(chunk);
    };
    child.stdout?.on("data", onData(stdout));
    child.stderr?.on("data", onData(stderr));

    if (spec.stdin !== undefined && child.stdin) {
      child.stdin.on("error", () => {}); // EPIPE when the CLI exits without reading: not our failure
      child.stdin.end(spec.stdin);
    }

    const finish = (spawnError?: NodeJS.ErrnoException) => {
      if (finished) return;
      finished = true;
      for (const t of timers) clearTimeout(t);
      spec.signal?.removeEventListener("abort", onAbort);
      // Leave nothing behind: helpers the CLI started in its group go too.
      signalGroup("SIGKILL");
      let stdoutText = stdout.text();
      if (stdoutFile) {
        stdoutText = stdoutFile.readAndRemove(spec.maxOutputBytes);
      }
      resolve({
        stdout: stdoutText,
        stderr: stderr.text(),
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        durationMs: Math.round(performance.now() - started),
        ...(stopped ? { stopped } : {}),
        ...(spawnError ? { spawnError } : {}),
      });
    };

    child.on("error", (err: NodeJS.ErrnoException) => {
      if (child.pid === undefined) finish(err);
    });
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      timers.push(setTimeout(() => finish(), PIPE_DRAIN_MS).unref());
    });
    child.on("close", () => finish());

    const onAbort = () => stop("canceled");
    if (spec.signal?.aborted) stop("canceled");
    else spec.signal?.addEventListener("abort", onAbort, { once: true });

    if (spec.timeoutMs) timers.push(setTimeout(() => stop("timeout"), spec.timeoutMs));
    if (spec.idleTimeoutMs || stdoutFile) {
      const every = Math.min(FILE_POLL_MS, spec.idleTimeoutMs ?? FILE_POLL_MS);
      const watch = setInterval(() => {
        if (stdoutFile) {
          const size = stdoutFile.size();
          if (size !== fileBytes) lastActivity = performance.now();
          fileBytes = size;
          if (outputBytes + fileBytes > spec.maxOutputBytes) stop("output_overflow");
        }
        if (spec.idleTimeoutMs && performance.now() - lastActivity > spec.idleTimeoutMs)
          stop("idle_timeout");
      }, every);
      timers.push(watch);
    }
  });
}

/** Decodes a byte stream as UTF-8 without splitting a character across chunks. */
class TextCollector {
  private readonly decoder = new StringDecoder("utf8");
  private readonly parts: string[] = [];

  push(chunk: Buffer): void {
    this.parts.push(this.decoder.write(chunk));
  }

  text(): string {
    this.parts.push(this.decoder.end());
    return this.parts.join("");
  }
}

interface TempOutput {
  fd: number;
  size(): number;
  readAndRemove(maxBytes: number): string;
}

function openTempOutput(): TempOutput {
  const dir = mkdtempSync(join(tmpdir(), "llm-gateway-out-"));
  const path = join(dir, "stdout");
  const fd = openSync(path, "w+", 0o600);
  return {
    fd,
    size: () => fstatSync(fd).size,
    readAndRemove(maxBytes) {
      try {
        const bytes = readFileSync(path);
        return new StringDecoder("utf8").end(bytes.subarray(0, maxBytes));
      } finally {
        closeSync(fd);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
