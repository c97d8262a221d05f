import { randomUUID } from "node:crypto";
import { closeSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { killGroup } from "./liveness.js";
import { spawnHere, type Exit, type Spawner } from "./spawner.js";

/** One CLI run. Every CLI runs through here; only the Spawner it uses starts processes. */
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
  /** Who starts the process; by default this thread. */
  spawner?: Spawner;
  /** Called with each piece of output as it arrives, as bytes (storage decodes them elsewhere). */
  onOutput?: (stream: "stdout" | "stderr", chunk: Buffer) => void;
  /** Called with each complete stdout line, as bytes without the newline (costs a copy of long lines). */
  onStdoutLine?: (line: Buffer) => void;
  /**
   * What the outcome keeps of each stdout line, judged from the line's first LINE_HEAD_BYTES: all
   * of it, nothing, or a shorter line that parses the same. Output nobody parses (tool results,
   * command output) is then neither decoded nor held in memory.
   */
  retainStdoutLine?: (head: string) => LineVerdict;
  /** Called once the process is running, with its pid (also its process group id). */
  onSpawn?: (pid: number) => void;
}

export type LineVerdict = "keep" | "drop" | { replace: string };
/** How much of a stdout line retainStdoutLine sees. */
export const LINE_HEAD_BYTES = 256;

export type StopReason = "timeout" | "idle_timeout" | "output_overflow" | "canceled";

export interface RunOutcome {
  /** The stdout lines retainStdoutLine kept, decoded (all of stdout without one). */
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

/** How often a file-backed stdout is read for new output. */
const FILE_POLL_MS = 100;
/** After the process exits, how long to wait for its pipes to close (grandchildren may hold them). */
const PIPE_DRAIN_MS = 1000;

export function runProcess(spec: RunSpec): Promise<RunOutcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const outFile = spec.stdoutToFile ? new TailedFile() : undefined;
    const stdout = new LineCollector(spec.retainStdoutLine ?? (() => "keep"), spec.onStdoutLine);
    const stderr = new TextCollector();
    let pid: number | undefined;
    let openPipes = 0;
    let outputBytes = 0;
    let lastActivity = performance.now();
    let stopped: StopReason | undefined;
    let exit: Exit | undefined;
    let finished = false;
    const timers: NodeJS.Timeout[] = [];

    const signalGroup = (sig: NodeJS.Signals) => {
      if (pid !== undefined) killGroup(pid, sig);
    };

    const stop = (reason: StopReason) => {
      if (stopped || finished) return;
      stopped = reason;
      signalGroup("SIGTERM");
      timers.push(setTimeout(() => signalGroup("SIGKILL"), spec.killGraceMs).unref());
    };

    /** Every byte of output, piped or read from the file, passes here. */
    const take = (stream: "stdout" | "stderr", chunk: Buffer) => {
      if (chunk.length === 0) return;
      lastActivity = performance.now();
      const room = spec.maxOutputBytes - outputBytes;
      outputBytes += chunk.length;
      if (chunk.length > room) {
        stop("output_overflow");
        if (room <= 0) return;
        chunk = chunk.subarray(0, room);
      }
      (stream === "stdout" ? stdout : stderr).push(chunk);
      spec.onOutput?.(stream, chunk);
    };

    const finish = (spawnError?: NodeJS.ErrnoException) => {
      if (finished) return;
      finished = true;
      for (const t of timers) clearTimeout(t);
      spec.signal?.removeEventListener("abort", onAbort);
      // Leave nothing behind: helpers the CLI started in its group go too.
      signalGroup("SIGKILL");
      if (outFile) {
        if (stopped !== "output_overflow")
          take("stdout", outFile.readNew(spec.maxOutputBytes - outputBytes + 1));
        outFile.close();
      }
      resolve({
        stdout: stdout.text(),
        stderr: stderr.text(),
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        durationMs: Math.round(performance.now() - started),
        ...(stopped ? { stopped } : {}),
        ...(spawnError ? { spawnError } : {}),
      });
    };

    const onAbort = () => stop("canceled");
    if (spec.signal?.aborted) stop("canceled");
    else spec.signal?.addEventListener("abort", onAbort, { once: true });
    if (spec.timeoutMs) timers.push(setTimeout(() => stop("timeout"), spec.timeoutMs));
    if (spec.idleTimeoutMs || outFile) {
      const every = Math.min(FILE_POLL_MS, spec.idleTimeoutMs ?? FILE_POLL_MS);
      timers.push(
        setInterval(() => {
          if (outFile && pid !== undefined && !stopped)
            take("stdout", outFile.readNew(spec.maxOutputBytes - outputBytes + 1));
          if (spec.idleTimeoutMs && performance.now() - lastActivity > spec.idleTimeoutMs)
            stop("idle_timeout");
        }, every),
      );
    }

    const { command, args, cwd, env, stdin } = spec;
    (spec.spawner ?? spawnHere)
      .spawn({ command, args, cwd, env, stdin, stdoutFile: outFile?.path })
      .then(
        (child) => {
          outFile?.unlink(); // the child and this process hold it open; the name is not needed
          pid = child.pid;
          spec.onSpawn?.(pid);
          for (const [stream, pipe] of [
            ["stdout", child.stdout],
            ["stderr", child.stderr],
          ] as const) {
            if (!pipe) continue;
            openPipes++;
            pipe.on("data", (chunk: Buffer) => take(stream, chunk));
            pipe.on("error", () => {}); // a reset pipe ends like a closed one
            pipe.on("close", () => --openPipes === 0 && exit && finish());
          }
          // Stopped while it was starting (a cancel or a timeout): stop it now.
          if (stopped) {
            const reason = stopped;
            stopped = undefined;
            stop(reason);
          }
          void child.exited.then((result) => {
            exit = result;
            if (openPipes === 0) finish();
            // Grandchildren may hold the pipes open: stop waiting for them after a while.
            else timers.push(setTimeout(() => finish(), PIPE_DRAIN_MS).unref());
          });
        },
        (err: NodeJS.ErrnoException) => {
          outFile?.unlink();
          finish(err);
        },
      );
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

/** Splits a byte stream into lines and keeps, decoded, what `retain` asks for. */
class LineCollector {
  private readonly kept: string[] = [];
  private partial: Buffer[] = [];

  constructor(
    private readonly retain: (head: string) => LineVerdict,
    private readonly onLine?: (line: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.partial.push(chunk.subarray(start, nl));
      this.line("\n");
      start = nl + 1;
    }
    if (start < chunk.length) this.partial.push(chunk.subarray(start));
  }

  text(): string {
    if (this.partial.length) this.line("");
    return this.kept.join("");
  }

  /** The line in `partial` is complete. Most lines are one piece; long ones are joined only if needed. */
  private line(end: "\n" | ""): void {
    const pieces = this.partial;
    this.partial = [];
    const whole = () => (pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces));
    let line: Buffer | undefined;
    if (this.onLine) this.onLine((line = whole()));
    const head =
      pieces[0]!.length >= LINE_HEAD_BYTES || pieces.length === 1 ? pieces[0]! : (line ??= whole());
    const verdict = this.retain(head.toString("utf8", 0, LINE_HEAD_BYTES));
    if (verdict === "keep") this.kept.push((line ?? whole()).toString("utf8") + end);
    else if (verdict !== "drop") this.kept.push(verdict.replace + end);
  }
}

/** One buffer for every file read: reads are synchronous, and this runs on one thread. */
const readBuffer = Buffer.allocUnsafe(1 << 20);

/**
 * A private temporary file the child writes its stdout to, read as it grows. The file is unlinked
 * once the child holds it open, so nothing is left behind whatever happens next.
 */
class TailedFile {
  readonly path = join(tmpdir(), `llm-gateway-out-${randomUUID()}`);
  readonly fd = openSync(this.path, "wx+", 0o600); // a new file, owner-only
  private offset = 0;

  /** The bytes written since the last call, at most `limit` of them. */
  readNew(limit: number): Buffer {
    const parts: Buffer[] = [];
    let total = 0;
    while (total < limit) {
      const n = readSync(
        this.fd,
        readBuffer,
        0,
        Math.min(readBuffer.length, limit - total),
        this.offset,
      );
      if (n === 0) break;
      this.offset += n;
      total += n;
      parts.push(Buffer.from(readBuffer.subarray(0, n)));
    }
    return Buffer.concat(parts);
  }

  unlink(): void {
    rmSync(this.path, { force: true });
  }

  close(): void {
    this.unlink();
    closeSync(this.fd);
  }
}
