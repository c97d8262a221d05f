import { Worker } from "node:worker_threads";
import type { Logger } from "../log.js";
import type { JobStore, OutputChunk, OutputStream } from "./jobs.js";
import { OutputDecoder } from "./output-decoder.js";
import type { GatewayLocation } from "./open.js";

export type WorkerRequest =
  | { chunk: { jobId: string; stream: OutputStream; bytes: Uint8Array } }
  | { end: string }
  | { flush: number };
export type WorkerReply =
  { flushed: number } | { stored: number; buffers: ArrayBuffer[] } | { error: string };

/**
 * Bytes sent to the thread and not yet stored: above HIGH the writer asks its callers to wait
 * (they stop reading the CLI's output), until the thread is down to LOW.
 */
const BACKLOG_HIGH = 4 * 1024 * 1024;
const BACKLOG_LOW = 1024 * 1024;
/** Size of the buffers callers fill (see buffer()). */
export const OUTPUT_BUFFER_BYTES = 64 * 1024;
/** Buffers kept for re-use: enough for the backlog. */
const POOL_BUFFERS = BACKLOG_HIGH / OUTPUT_BUFFER_BYTES + 4;

/**
 * Stores running jobs' output from a worker thread: with a hundred CLIs streaming, decoding and
 * SQLite writes on the main thread would delay every MCP call behind them. The thread starts on
 * first use; if it fails, output is stored on the main thread instead.
 */
export class OutputWriter {
  private worker: Worker | undefined;
  private inline: OutputDecoder | undefined;
  private nextFlush = 0;
  private readonly flushes = new Map<number, () => void>();
  private backlog = 0;
  private caughtUp: { promise: Promise<void>; resolve: () => void } | undefined;
  /**
   * Buffers the thread has stored and sent back. Re-used rather than left to the thread's garbage
   * collector, which (its heap being small) frees them late: megabytes of output would otherwise
   * sit there as dead buffers.
   */
  private readonly pool: ArrayBuffer[] = [];
  private readonly lent = new WeakSet<ArrayBuffer>();

  constructor(
    private readonly where: GatewayLocation,
    private readonly store: JobStore,
    private readonly logger: Logger,
  ) {}

  /** An empty buffer of OUTPUT_BUFFER_BYTES to fill and pass to append (which takes it back). */
  buffer(): Buffer {
    const memory = this.pool.pop() ?? new ArrayBuffer(OUTPUT_BUFFER_BYTES);
    this.lent.add(memory);
    return Buffer.from(memory);
  }

  /**
   * Bytes of a job's stream, in order. The buffer is handed over: the caller must not reuse it
   * (one from buffer() goes to the thread and comes back to the pool; others are copied).
   */
  append(jobId: string, stream: OutputStream, bytes: Buffer): void {
    const memory = bytes.buffer as ArrayBuffer;
    const lent = this.lent.has(memory);
    if (this.inline) {
      const chunks = this.inline.decode(jobId, stream, bytes);
      if (chunks.length) this.storeInline(chunks);
      if (lent) this.giveBack([memory]);
      return;
    }
    this.backlog += bytes.byteLength;
    this.start().postMessage(
      { chunk: { jobId, stream, bytes } } satisfies WorkerRequest,
      lent ? [memory] : [],
    );
  }

  private giveBack(buffers: ArrayBuffer[]): void {
    for (const memory of buffers) {
      this.lent.delete(memory);
      if (this.pool.length < POOL_BUFFERS && memory.byteLength === OUTPUT_BUFFER_BYTES)
        this.pool.push(memory);
    }
  }

  /** Resolves when the thread has caught up, if it is far behind; undefined otherwise. */
  ready(): Promise<void> | undefined {
    if (this.inline || this.backlog < BACKLOG_HIGH) return undefined;
    if (!this.caughtUp) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.caughtUp = { promise, resolve };
    }
    return this.caughtUp.promise;
  }

  private stored(bytes: number): void {
    this.backlog = Math.max(0, this.backlog - bytes);
    if (this.backlog <= BACKLOG_LOW || this.inline) {
      this.caughtUp?.resolve();
      this.caughtUp = undefined;
    }
  }

  /** The job's output is complete. */
  end(jobId: string): void {
    if (this.inline) this.storeInline(this.inline.end(jobId));
    else this.worker?.postMessage({ end: jobId } satisfies WorkerRequest);
  }

  /** Resolves once everything appended so far is stored. */
  flush(): Promise<void> {
    if (!this.worker || this.inline) return Promise.resolve();
    const id = ++this.nextFlush;
    return new Promise((resolve) => {
      this.flushes.set(id, resolve);
      this.worker!.postMessage({ flush: id } satisfies WorkerRequest);
    });
  }

  async close(): Promise<void> {
    await this.flush();
    this.inline = new OutputDecoder(); // appends after close (none expected) are still stored
    this.stored(Infinity);
    await this.worker?.terminate();
  }

  private storeInline(chunks: OutputChunk[]): void {
    try {
      this.store.appendOutput(chunks);
    } catch (err) {
      this.logger.error(`job output not stored: ${String(err)}`);
    }
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL("./output-worker.js", import.meta.url), {
      workerData: { where: this.where },
      // Its live data is small (one transaction's text): a small young generation makes V8 collect
      // the decoded and redacted strings early instead of growing the heap.
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    worker.unref(); // the MCP connection, not this thread, decides when the gateway exits
    worker.on("message", (reply: WorkerReply) => {
      if ("error" in reply) this.logger.error(reply.error);
      else if ("stored" in reply) {
        this.giveBack(reply.buffers);
        this.stored(reply.stored);
      } else {
        this.flushes.get(reply.flushed)?.();
        this.flushes.delete(reply.flushed);
      }
    });
    const fail = (why: string) => {
      if (this.inline) return;
      this.logger.error(`${why}; job output is now stored on the main thread`);
      this.inline = new OutputDecoder();
      for (const resolve of this.flushes.values()) resolve();
      this.flushes.clear();
      this.stored(Infinity);
    };
    worker.on("error", (err) => fail(`job output thread failed: ${String(err)}`));
    worker.on("exit", (code) => fail(`job output thread exited (${code})`));
    return (this.worker = worker);
  }
}
