import type { JobStore, OutputStream } from "../store/jobs.js";

/** Output is flushed to the store this often, or sooner when this much is pending. */
const FLUSH_MS = 250;
const FLUSH_CHARS = 64 * 1024;
/** Longer stdout lines (big final results) are not looked at for progress. */
const MAX_PROGRESS_LINE = 64 * 1024;
/** Progress notifications go out at most this often. */
const PROGRESS_EVERY_MS = 1000;

export interface ProgressUpdate {
  progress: number;
  message: string;
}

/**
 * Appends a running job's output to the store in chunks (never rewriting it), and turns complete
 * stdout lines into throttled progress notes.
 */
export class OutputSink {
  private readonly pending: Record<OutputStream, string> = { stdout: "", stderr: "" };
  private readonly offsets: Record<OutputStream, number> = { stdout: 0, stderr: 0 };
  private timer: NodeJS.Timeout | undefined;
  private line = "";
  private skippingLine = false;
  private readonly progress: Throttle | undefined;

  constructor(
    private readonly store: JobStore,
    private readonly jobId: string,
    private readonly describe: (line: string) => string | undefined,
    onProgress?: (update: ProgressUpdate) => void,
  ) {
    this.progress = onProgress && new Throttle(onProgress);
  }

  readonly write = (stream: OutputStream, text: string): void => {
    this.pending[stream] += text;
    if (this.pending[stream].length >= FLUSH_CHARS) this.flush(stream);
    else this.timer ??= setTimeout(() => this.flushAll(), FLUSH_MS);
    if (stream === "stdout" && this.progress) this.scanLines(text);
  };

  close(): void {
    clearTimeout(this.timer);
    this.flushAll();
    this.progress?.close();
  }

  private flushAll(): void {
    this.timer = undefined;
    this.flush("stdout");
    this.flush("stderr");
  }

  private flush(stream: OutputStream): void {
    const text = this.pending[stream];
    if (!text) return;
    this.store.appendOutput(this.jobId, stream, this.offsets[stream], text);
    this.offsets[stream] += text.length;
    this.pending[stream] = "";
  }

  private scanLines(text: string): void {
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      const line = this.line + text.slice(start, nl);
      if (!this.skippingLine) {
        const note = this.describe(line);
        if (note) this.progress!.note(note);
      }
      this.line = "";
      this.skippingLine = false;
      start = nl + 1;
    }
    if (this.skippingLine) return;
    this.line += text.slice(start);
    if (this.line.length > MAX_PROGRESS_LINE) {
      this.line = "";
      this.skippingLine = true;
    }
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
