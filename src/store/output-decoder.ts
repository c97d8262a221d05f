import { StringDecoder } from "node:string_decoder";
import type { OutputChunk, OutputStream } from "./jobs.js";
import { redactSecrets } from "./redact.js";

/**
 * A line longer than this is redacted and stored in pieces, each cut after a space or a quote
 * (a secret has neither), so that one huge line is not held whole. Small enough that its strings
 * (two bytes a character for non-Latin-1 text) stay below V8's large-object size (128 KB): large
 * strings go straight to the old generation and stay there, garbage, until a full collection.
 */
const MAX_HELD_CHARS = 32 * 1024;
/** Bytes decoded at a time, for the same reason (a gemini file piece or a flushed batch is bigger). */
const DECODE_BYTES = 16 * 1024;

interface StreamState {
  decoder: StringDecoder;
  /** The end of the stream not yet stored: an unfinished line, redacted once complete. */
  held: string;
  /** When `held` last grew. */
  heldAt: number;
  offset: number;
  /** The stored text so far ends inside a PEM private key block: its body is not stored either. */
  inKey: boolean;
}

const KEY_END = /-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/;
const OPEN_KEY =
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?![\s\S]*-----END [A-Z0-9 ]*PRIVATE KEY)/;

/**
 * Turns a job's output bytes into text chunks to store: UTF-8 decoded per stream without splitting
 * a character, secrets redacted with the flight recorder's rules (src/store/redact.ts) a whole line
 * at a time, each chunk placed at its offset in UTF-16 code units of the redacted text.
 */
export class OutputDecoder {
  private readonly streams = new Map<string, StreamState>();

  /** The text of `bytes` that is ready to store, in pieces of at most about MAX_HELD_CHARS. */
  decode(jobId: string, stream: OutputStream, bytes: Uint8Array): OutputChunk[] {
    const chunks: OutputChunk[] = [];
    for (let at = 0; at < bytes.length; at += DECODE_BYTES) {
      const chunk = this.decodePiece(jobId, stream, bytes.subarray(at, at + DECODE_BYTES));
      if (chunk) chunks.push(chunk);
    }
    return chunks;
  }

  private decodePiece(
    jobId: string,
    stream: OutputStream,
    bytes: Uint8Array,
  ): OutputChunk | undefined {
    const key = `${jobId}\n${stream}`;
    let state = this.streams.get(key);
    if (!state)
      this.streams.set(
        key,
        (state = {
          decoder: new StringDecoder("utf8"),
          held: "",
          heldAt: 0,
          offset: 0,
          inKey: false,
        }),
      );
    const text = state.held + state.decoder.write(bytes);
    const cut = cutPoint(text);
    state.held = text.slice(cut);
    state.heldAt = Date.now();
    return this.chunk(jobId, stream, state, text.slice(0, cut));
  }

  /**
   * Unfinished lines that have not grown for `quietMs`: stored as they are, so that a CLI that
   * printed half a line and waits (or a gateway that dies meanwhile) does not keep it unstored.
   */
  quiet(quietMs: number): OutputChunk[] {
    const chunks: OutputChunk[] = [];
    const now = Date.now();
    for (const [key, state] of this.streams) {
      if (!state.held || now - state.heldAt < quietMs) continue;
      const [jobId, stream] = key.split("\n") as [string, OutputStream];
      const chunk = this.chunk(jobId, stream, state, state.held);
      state.held = "";
      if (chunk) chunks.push(chunk);
    }
    return chunks;
  }

  /** The job's output is complete: what its decoders still held. */
  end(jobId: string): OutputChunk[] {
    const chunks: OutputChunk[] = [];
    for (const stream of ["stdout", "stderr"] as const) {
      const key = `${jobId}\n${stream}`;
      const state = this.streams.get(key);
      if (!state) continue;
      this.streams.delete(key);
      const chunk = this.chunk(jobId, stream, state, state.held + state.decoder.end());
      if (chunk) chunks.push(chunk);
    }
    return chunks;
  }

  private chunk(
    jobId: string,
    stream: OutputStream,
    state: StreamState,
    raw: string,
  ): OutputChunk | undefined {
    if (!raw) return undefined;
    if (state.inKey) {
      // The rest of a key block begun in an earlier chunk (redactSecrets redacted that one to its end).
      const end = KEY_END.exec(raw);
      if (!end) return undefined;
      state.inKey = false;
      raw = raw.slice(end.index + end[0].length);
      if (!raw) return undefined;
    }
    if (raw.includes("PRIVATE KEY") && OPEN_KEY.test(raw)) state.inKey = true;
    const text = redactSecrets(raw);
    const chunk = { jobId, stream, start: state.offset, text };
    state.offset += text.length;
    return chunk;
  }
}

/** Where to cut the text: after its last newline, or in a long line after a space or a quote. */
function cutPoint(text: string): number {
  const newline = text.lastIndexOf("\n");
  if (newline !== -1) return newline + 1;
  if (text.length <= MAX_HELD_CHARS) return 0;
  const from = text.length - 4096;
  for (let i = text.length - 1; i >= from; i--) if (' \t"'.includes(text[i]!)) return i + 1;
  return text.length;
}
