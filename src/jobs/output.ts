import type { OutputStream } from "../store/jobs.js";
import type { OutputWriter } from "../store/output-writer.js";

/** Output is flushed to the store this often, or sooner when the writer's buffer is full. */
const FLUSH_MS = 250;
/** Progress notifications go out at most this often. */
const PROGRESS_EVERY_MS = 1000;

export interface ProgressUpdate {
  progress: number;
  message: string;
}

/**
 * Appends a running job's output to the store in chunks (never rewriting it), and turns complete
 * stdout lines into throttled progress notes. Without a writer (a sync job, whose caller gets the
 * answer itself) the output is not stored at all.
 */
export class OutputSink {
  /** Output not yet sent to the writer, copied into one of its buffers (see OutputWriter.buffer). */
  private readonly pending: Record<OutputStream, Buffer | undefined> = {
    stdout: undefined,
    stderr: undefined,
  };
  private readonly pendingBytes: Record<OutputStream, number> = { stdout: 0, stderr: 0 };
  private timer: NodeJS.Timeout | undefined;
  private readonly progress: Throttle | undefined;

  private readonly writer: OutputWriter | undefined;
  private readonly jobId: string;
  private readonly describe: (line: string) => string | undefined;

  constructor(o: {
    /** None for a sync job: its output is not stored. */
    writer: OutputWriter | undefined;
    jobId: string;
    /** A progress note for one stdout line, if the line makes one. */
    describe: (line: string) => string | undefined;
    onProgress?: (update: ProgressUpdate) => void;
  }) {
    this.writer = o.writer;
    this.jobId = o.jobId;
    this.describe = o.describe;
    this.progress = o.onProgress && new Throttle(o.onProgress);
  }

  readonly write = (stream: OutputStream, chunk: Buffer): void => {
    if (!this.writer) return;
    for (let at = 0; at < chunk.length;) {
      const buffer = (this.pending[stream] ??= this.writer.buffer());
      const copied = chunk.copy(buffer, this.pendingBytes[stream], at);
      at += copied;
      this.pendingBytes[stream] += copied;
      if (this.pendingBytes[stream] === buffer.length) this.flush(stream);
    }
    if (this.pendingBytes[stream]) this.timer ??= setTimeout(() => this.flushAll(), FLUSH_MS);
  };

  /** Resolves when the store has caught up with this output, if it is far behind. */
  readonly backpressure = (): Promise<void> | undefined => this.writer?.ready();

  /** One complete stdout line: maybe a progress note. */
  readonly line = (line: Buffer): void => {
    if (!this.progress) return;
    const note = this.describe(line.toString("utf8"));
    if (note) this.progress.note(note);
  };

  /** Resolves once all of the job's output is stored. */
  close(): Promise<void> {
    clearTimeout(this.timer);
    this.flushAll();
    this.progress?.close();
    if (!this.writer) return Promise.resolve();
    this.writer.end(this.jobId);
    return this.writer.flush();
  }

  private flushAll(): void {
    this.timer = undefined;
    this.flush("stdout");
    this.flush("stderr");
  }

  private flush(stream: OutputStream): void {
    const size = this.pendingBytes[stream];
    if (!size) return;
    this.writer!.append(this.jobId, stream, this.pending[stream]!.subarray(0, size));
    this.pending[stream] = undefined;
    this.pendingBytes[stream] = 0;
  }
}

/** At most one update a second; the latest note wins, and a pending one is sent when due. */
class Throttle {
  private count = 0;
  private last = 0;
  private pending: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly send: (update: ProgressUpdate) => void) {}

  note(message: string): void {
    this.count++;
    this.pending = message;
    const wait = this.last + PROGRESS_EVERY_MS - Date.now();
    if (wait <= 0) this.emit();
    else this.timer ??= setTimeout(() => this.emit(), wait);
  }

  close(): void {
    clearTimeout(this.timer);
  }

  private emit(): void {
    clearTimeout(this.timer); // a note may come due before the pending timer runs
    this.timer = undefined;
    if (this.pending === undefined) return;
    this.send({ progress: this.count, message: this.pending });
    this.pending = undefined;
    this.last = Date.now();
  }
}
