import { envPositiveInt } from "../number-settings.js";

/**
 * Splits stdin into newline-delimited JSON-RPC lines without ever holding more than `maxBytes` of
 * one line: a longer line is reported as soon as it crosses the limit, and the rest of it, up to
 * the next newline, is skipped as it arrives, so a 50 MB line costs no more memory than a 4 MB one.
 * Kept free of runtime imports but the import-free number-settings.ts: it runs before the MCP SDK
 * has loaded.
 */

/**
 * The default limit on one JSON-RPC message: a 100k-character prompt is at most 600 KB in JSON
 * (6 bytes per character when escaped), so 4 MiB leaves room for every other field.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** `LLM_GATEWAY_MAX_MESSAGE_BYTES`, default 4 MiB; throws on anything but a positive integer. */
export function maxMessageBytesFromEnv(env: NodeJS.ProcessEnv): number {
  return envPositiveInt(env, "LLM_GATEWAY_MAX_MESSAGE_BYTES") ?? DEFAULT_MAX_MESSAGE_BYTES;
}

/** How much of an oversized line is kept to look for its id. */
const HEAD_BYTES = 1024;

export interface LineHandlers {
  /** A complete line (without its newline), decoded as UTF-8. */
  line(text: string): void;
  /** A line went over the limit; `head` is its first bytes. Called once per such line. */
  oversized(head: string): void;
}

export class LineReader {
  private parts: Buffer[] = [];
  private size = 0;
  /** True while skipping the rest of an oversized line. */
  private skipping = false;

  constructor(
    private readonly maxBytes: number,
    private readonly handlers: LineHandlers,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(10, start);
      const end = newline === -1 ? chunk.length : newline;
      if (!this.skipping) this.take(chunk.subarray(start, end));
      if (newline === -1) return;
      if (!this.skipping) this.handlers.line(this.drain().toString("utf8"));
      this.skipping = false;
      start = newline + 1;
    }
  }

  private take(piece: Buffer): void {
    if (this.size + piece.length <= this.maxBytes) {
      if (piece.length) this.parts.push(piece);
      this.size += piece.length;
      return;
    }
    const head: Buffer[] = [];
    let headSize = 0;
    for (const part of [...this.parts, piece]) {
      if (headSize >= HEAD_BYTES) break;
      head.push(part.subarray(0, HEAD_BYTES - headSize));
      headSize += head.at(-1)!.length;
    }
    this.parts = [];
    this.size = 0;
    this.skipping = true;
    this.handlers.oversized(Buffer.concat(head).toString("utf8"));
  }

  private drain(): Buffer {
    const line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts = [];
    this.size = 0;
    return line;
  }
}
