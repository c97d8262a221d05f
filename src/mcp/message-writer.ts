// Writes JSON-RPC messages to stdout, one line each. A message with a large string goes out in
// pieces, the string escaped a chunk at a time and a kept large text (process/large-text.ts) as the
// bytes the CLI wrote, waiting for the pipe to drain: a 20 MB reply then never exists as one
// 40 MB string, nor as the 80 MB JSON of its two copies (content and structuredContent), nor as
// their UTF-8 buffer (issue #22).
import {
  hasLargeText,
  largeTextIds,
  type LargeText,
  processToken,
  releaseLargeText,
  splitLargeText,
} from "../process/large-text.js";

/** Strings longer than this are written in pieces of this many characters. */
export const CHUNK_CHARS = 256 * 1024;

/** Stands for the n-th large string in the skeleton JSON of a message (made on first use). */
let slot: { text: string; json: RegExp } | undefined;
function slots(): { text: string; json: RegExp } {
  if (!slot) {
    const token = processToken();
    slot = {
      text: `\u0000W${token}:`,
      json: new RegExp(`"\\\\u0000W${token}:(\\d+)\\\\u0000"`, "g"),
    };
  }
  return slot;
}

/** What it writes to: process.stdout, or a test's stream. */
export interface Out {
  write(piece: string | Uint8Array): boolean;
  once(event: "drain" | "close", listener: () => void): unknown;
  removeListener(event: "drain" | "close", listener: () => void): unknown;
}

export class MessageWriter {
  /** The last message being written in pieces: later ones wait for it (lines never interleave). */
  private tail: Promise<void> | undefined;

  constructor(private readonly out: Out = process.stdout) {}

  /** Resolves once the message is handed to the stream (a large one: written out). */
  write(message: unknown): Promise<void> {
    if (!this.tail && !needsPieces(message, 0)) {
      this.out.write(JSON.stringify(message) + "\n");
      return Promise.resolve();
    }
    const done = (this.tail ?? Promise.resolve()).then(() => this.writeInPieces(message));
    // A message that fails to serialize must not hold up the ones after it.
    const settled = done.catch(() => {});
    this.tail = settled;
    void settled.then(() => {
      if (this.tail === settled) this.tail = undefined;
    });
    return done;
  }

  private async writeInPieces(message: unknown): Promise<void> {
    const strings: string[] = [];
    const { text: slotText, json: slotJson } = slots();
    const skeleton = JSON.stringify(message, (_key, value: unknown) =>
      typeof value === "string" && isLarge(value)
        ? `${slotText}${strings.push(value) - 1}\u0000`
        : value,
    );
    // The large texts are looked up now, and forgotten once the message is out.
    const parts = strings.map((s) => splitLargeText(s) ?? [s]);
    const used = new Set<LargeText>();
    try {
      let last = 0;
      for (const m of skeleton.matchAll(slotJson)) {
        await this.put(skeleton.slice(last, m.index));
        await this.put('"');
        for (const part of parts[Number(m[1])]!) {
          if (typeof part === "string") await this.putEscaped(part);
          else {
            used.add(part);
            for (const piece of part.pieces) await this.put(piece);
          }
        }
        await this.put('"');
        last = m.index + m[0].length;
      }
      await this.put(`${skeleton.slice(last)}\n`);
    } finally {
      if (used.size) for (const s of strings) releaseLargeText(largeTextIds(s));
    }
  }

  /** A string's JSON escape, without its quotes, a chunk at a time (never splitting a surrogate pair). */
  private async putEscaped(text: string): Promise<void> {
    for (let at = 0; at < text.length;) {
      let end = Math.min(text.length, at + CHUNK_CHARS);
      const last = text.charCodeAt(end - 1);
      if (end < text.length && last >= 0xd800 && last <= 0xdbff) end++;
      await this.put(JSON.stringify(text.slice(at, end)).slice(1, -1));
      at = end;
    }
  }

  private put(piece: string | Buffer): Promise<void> | undefined {
    if (this.out.write(piece)) return undefined;
    return new Promise((resolve) => {
      const done = () => {
        this.out.removeListener("drain", done);
        this.out.removeListener("close", done);
        resolve();
      };
      this.out.once("drain", done);
      this.out.once("close", done); // a closed stdout never drains: nothing more to wait for
    });
  }
}

const isLarge = (value: string) => value.length > CHUNK_CHARS || hasLargeText(value);

/** Whether a message has a string to write in pieces (messages are small: a cheap look). */
function needsPieces(value: unknown, depth: number): boolean {
  if (typeof value === "string") return isLarge(value);
  if (!value || typeof value !== "object" || depth > 20) return false;
  for (const v of Array.isArray(value) ? value : Object.values(value))
    if (needsPieces(v, depth + 1)) return true;
  return false;
}
