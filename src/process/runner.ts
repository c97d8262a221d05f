import { randomUUID } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import type { LineVerdict } from "../providers/types.js";
import { findLargeStrings, slicePieces } from "./json-strings.js";
import { keepLargeText, LargeText, placeholderJson, releaseLargeText } from "./large-text.js";
import { killGroup } from "./liveness.js";
import {
  LARGE_STRING_BYTES,
  LINE_HEAD_BYTES,
  NOTED_LINE_BYTES,
  type RunOutcome,
  type RunSpec,
  type StopReason,
} from "./run-spec.js";
import { spawnHere, type Exit } from "./spawner.js";

// Its callers' types and limits live below it; they import them from here.
export * from "./run-spec.js";

/** What a run stopped at the output cap keeps for parsing: the start of stdout, the end of stderr (bytes, characters). */
const OVERFLOW_KEPT = 256 * 1024;
/** A file-backed stdout is read in pieces of this size (the lines kept are copied out of them). */
const FILE_READ_BYTES = 64 * 1024;
/** How often a file-backed stdout is read for new output. */
const FILE_POLL_MS = 100;
/** After the process exits, how long its pipes, while read, may stay quiet before the run ends (grandchildren may hold them). */
const PIPE_DRAIN_MS = 1000;
/** ...and how long, at most, a grandchild that keeps writing may hold the run open after the exit. */
const PIPE_DRAIN_MAX_MS = 30_000;

export function runProcess(spec: RunSpec): Promise<RunOutcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const outFile = spec.stdoutToFile ? new TailedFile() : undefined;
    const stdout = new LineCollector(
      spec.retainStdoutLine ?? (() => "keep"),
      spec.onStdoutLine,
      spec.keepLargeStrings === true,
    );
    const stderr = new TextCollector();
    let pid: number | undefined;
    let openPipes = 0;
    let outputBytes = 0;
    let lastActivity = performance.now();
    let stopped: StopReason | undefined;
    let exit: Exit | undefined;
    let finished = false;
    const timers: NodeJS.Timeout[] = [];
    const pipes: NodeJS.ReadableStream[] = [];
    /** Set while output is not read (see RunSpec.backpressure). */
    let paused: Promise<void> | undefined;

    const throttle = () => {
      const wait = paused || finished ? undefined : spec.backpressure?.();
      if (!wait) return;
      paused = wait;
      for (const pipe of pipes) pipe.pause();
      void wait.then(() => {
        paused = undefined;
        lastActivity = performance.now(); // the CLI was waiting for us, not idle
        if (!finished) for (const pipe of pipes) pipe.resume();
      });
    };

    const signalGroup = (sig: NodeJS.Signals) => {
      if (pid !== undefined) killGroup(pid, sig);
    };

    const stop = (reason: StopReason) => {
      if (stopped) return;
      stopped = reason;
      if (finished) return; // the output read after the exit passed the cap: reported, nothing to stop
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
        if (room > 0) {
          (stream === "stdout" ? stdout : stderr).push(chunk.subarray(0, room));
          spec.onOutput?.(stream, chunk.subarray(0, room));
        }
        if (stopped !== "output_overflow") {
          stop("output_overflow");
          // Past the cap the run is an error: keep only what explains it, so that memory stays
          // bounded by the cap (the whole kept output goes to the job's store, if it keeps one).
          stdout.overflowed(OVERFLOW_KEPT);
          stderr.overflowed(OVERFLOW_KEPT);
        }
        return;
      }
      (stream === "stdout" ? stdout : stderr).push(chunk);
      spec.onOutput?.(stream, chunk);
      throttle();
    };

    /** What the CLI wrote to its stdout file since the last read, up to one byte past the cap. */
    const readFile = (file: TailedFile) => {
      while (stopped !== "output_overflow" && (!paused || finished)) {
        const piece = file.readNew(
          Math.min(FILE_READ_BYTES, spec.maxOutputBytes - outputBytes + 1),
        );
        if (piece.length === 0) return;
        take("stdout", piece);
      }
    };

    const finish = (spawnError?: NodeJS.ErrnoException) => {
      if (finished) return;
      finished = true;
      for (const t of timers) clearTimeout(t);
      spec.signal?.removeEventListener("abort", onAbort);
      // Leave nothing behind: helpers the CLI started in its group go too.
      signalGroup("SIGKILL");
      if (outFile) {
        readFile(outFile);
        outFile.close();
      }
      resolve({
        stdout: stdout.text(),
        stderr: stderr.text(),
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        durationMs: Math.round(performance.now() - started),
        outputBytes,
        keptBytes: Math.min(outputBytes, spec.maxOutputBytes),
        ...(stopped ? { stopped } : {}),
        ...(spawnError ? { spawnError } : {}),
        ...(stdout.largeTexts.length ? { largeTexts: stdout.largeTexts } : {}),
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
          if (outFile && pid !== undefined && !stopped) readFile(outFile);
          if (
            spec.idleTimeoutMs &&
            !paused &&
            performance.now() - lastActivity > spec.idleTimeoutMs
          )
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
            pipes.push(pipe);
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
            // Grandchildren may hold the pipes open: stop waiting once the pipes, while read,
            // were quiet for PIPE_DRAIN_MS (one that keeps writing: at most PIPE_DRAIN_MAX_MS).
            // Counted from the exit, the wait lost the last lines of CLIs whose output was held
            // back or behind a blocked event loop (docs/POSTGRES.md).
            else {
              const exitedAt = performance.now();
              const quietFor = () => performance.now() - Math.max(lastActivity, exitedAt);
              // Judged after the next poll of the pipes: the timer can come due in the turn of
              // the loop that resumed them, before what they hold was read.
              const drained = () =>
                setImmediate(() => {
                  if (finished || openPipes === 0) return;
                  if (paused) void paused.then(later);
                  else if (
                    quietFor() >= PIPE_DRAIN_MS ||
                    performance.now() - exitedAt >= PIPE_DRAIN_MAX_MS
                  )
                    finish();
                  else later();
                });
              const later = () =>
                timers.push(setTimeout(drained, PIPE_DRAIN_MS - quietFor()).unref());
              later();
            }
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
  private parts: string[] = [];

  push(chunk: Buffer): void {
    this.parts.push(this.decoder.write(chunk));
  }

  /** Nothing more comes: keep only the last `maxChars` (where an error is reported). */
  overflowed(maxChars: number): void {
    const text = this.parts.join("");
    this.parts = [text.slice(-maxChars)];
  }

  text(): string {
    this.parts.push(this.decoder.end());
    return this.parts.join("");
  }
}

const NEWLINE = Buffer.from("\n");

/** The line, copied if it is a small part of a bigger chunk (which would otherwise stay in memory). */
const owned = (line: Buffer) =>
  line.length * 2 < line.buffer.byteLength ? Buffer.from(line) : line;

/**
 * Splits a byte stream into lines and keeps what `retain` asks for, as bytes until the end (a
 * decoded string of text with non-Latin-1 characters costs two bytes a character).
 */
class LineCollector {
  private kept: Buffer[] = [];
  private partial: Buffer[] = [];
  /** The large texts kept in place of string values (keepLarge), by id. */
  readonly largeTexts: number[] = [];
  /** A placeholder's bytes in `kept`, and the bytes of the string it stands for. */
  private readonly standsFor = new Map<Buffer, number>();

  constructor(
    private readonly retain: (head: string) => LineVerdict,
    private readonly onLine?: (line: Buffer) => void,
    private readonly keepLarge = false,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.partial.push(chunk.subarray(start, nl));
      this.line(true);
      start = nl + 1;
    }
    if (start < chunk.length) this.partial.push(chunk.subarray(start));
  }

  /**
   * Nothing more comes: the unfinished line is dropped (cut at the cap, it cannot parse), and of
   * the kept lines only the first `maxBytes` or so (the session id and the answer's start).
   */
  overflowed(maxBytes: number): void {
    this.partial = [];
    // Whole lines only (a long line is kept as several pieces), and none that would pass maxBytes:
    // the parse of the rest would cost megabytes while the cut output is not yet collected.
    let bytes = 0;
    let whole = 0;
    for (let n = 0; n < this.kept.length; n++) {
      const piece = this.kept[n]!;
      bytes += this.standsFor.get(piece) ?? piece.length;
      if (bytes > maxBytes) break;
      if (piece === NEWLINE) whole = n + 1;
    }
    this.kept = this.kept.slice(0, whole);
    // A line with a large text is longer than what is kept: none is left.
    releaseLargeText(this.largeTexts.splice(0));
    this.standsFor.clear();
  }

  text(): string {
    if (this.partial.length) this.line(false);
    const bytes = Buffer.concat(this.kept);
    this.kept = [];
    return bytes.toString("utf8");
  }

  /** The line in `partial` is complete. Most lines are one piece; long ones are joined only if needed. */
  private line(newline: boolean): void {
    const pieces = this.partial;
    this.partial = [];
    const whole = () => (pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces));
    let bytes = 0;
    for (const piece of pieces) bytes += piece.length;
    if (this.onLine && bytes <= NOTED_LINE_BYTES) this.onLine(whole());
    const head =
      pieces[0]!.length >= LINE_HEAD_BYTES || pieces.length === 1
        ? pieces[0]!
        : Buffer.concat(pieces, Math.min(bytes, LINE_HEAD_BYTES));
    const verdict = this.retain(head.toString("utf8", 0, LINE_HEAD_BYTES));
    if (verdict === "drop") return;
    // A long line stays in its pieces (joined once, in text()): a copy here would leave the pieces
    // as garbage, which for megabytes of output outlives many young-generation collections.
    if (verdict === "keep") {
      const kept =
        this.keepLarge && bytes >= LARGE_STRING_BYTES ? this.withoutLarge(pieces) : pieces;
      for (const piece of kept) this.kept.push(owned(piece));
    } else this.kept.push(Buffer.from(verdict.replace));
    if (newline) this.kept.push(NEWLINE);
  }

  /**
   * The line with each large string value of a JSON object line kept as bytes and a placeholder in
   * its place: the parser then decodes a few hundred bytes instead of megabytes.
   */
  private withoutLarge(pieces: Buffer[]): Buffer[] {
    const first = pieces[0]!;
    let i = 0;
    while (i < first.length && (first[i] === 0x20 || first[i] === 0x09)) i++;
    if (first[i] !== 0x7b) return pieces; // not a JSON object
    const found = findLargeStrings(pieces, LARGE_STRING_BYTES);
    if (!found.length) return pieces;
    const out: Buffer[] = [];
    let at = 0;
    for (const s of found) {
      out.push(...slicePieces(pieces, at, s.start));
      const bytes = slicePieces(pieces, s.start, s.end).map(owned);
      const id = keepLargeText(new LargeText(bytes, s.chars, s.cuts));
      this.largeTexts.push(id);
      const placeholder = Buffer.from(placeholderJson(id));
      this.standsFor.set(placeholder, s.end - s.start);
      out.push(placeholder);
      at = s.end;
    }
    let total = 0;
    for (const piece of pieces) total += piece.length;
    out.push(...slicePieces(pieces, at, total));
    return out;
  }
}

/**
 * A private temporary file the child writes its stdout to, read as it grows. The file is unlinked
 * once the child holds it open, so nothing is left behind whatever happens next.
 */
class TailedFile {
  readonly path = join(tmpdir(), `llm-gateway-out-${randomUUID()}`);
  readonly fd = openSync(this.path, "wx+", 0o600); // a new file, owner-only
  private offset = 0;

  /** The bytes written since the last call, at most `limit` of them, read into one buffer. */
  readNew(limit: number): Buffer {
    const size = Math.min(limit, fstatSync(this.fd).size - this.offset);
    if (size <= 0) return Buffer.alloc(0);
    const bytes = Buffer.allocUnsafe(size);
    let total = 0;
    while (total < size) {
      const n = readSync(this.fd, bytes, total, size - total, this.offset);
      if (n === 0) break;
      this.offset += n;
      total += n;
    }
    return total === size ? bytes : bytes.subarray(0, total);
  }

  unlink(): void {
    rmSync(this.path, { force: true });
  }

  close(): void {
    this.unlink();
    closeSync(this.fd);
  }
}
