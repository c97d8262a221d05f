import { StringDecoder } from "node:string_decoder";
import type { OutputChunk, OutputStream } from "./jobs.js";

/**
 * Turns a job's output bytes into text chunks to store: UTF-8 decoded per stream without splitting
 * a character, each chunk placed at its offset in UTF-16 code units.
 */
export class OutputDecoder {
  private readonly streams = new Map<string, { decoder: StringDecoder; offset: number }>();

  decode(jobId: string, stream: OutputStream, bytes: Uint8Array): OutputChunk | undefined {
    const key = `${jobId}\n${stream}`;
    let state = this.streams.get(key);
    if (!state) this.streams.set(key, (state = { decoder: new StringDecoder("utf8"), offset: 0 }));
    return this.chunk(jobId, stream, state, state.decoder.write(bytes));
  }

  /** The job's output is complete: what its decoders still held. */
  end(jobId: string): OutputChunk[] {
    const chunks: OutputChunk[] = [];
    for (const stream of ["stdout", "stderr"] as const) {
      const key = `${jobId}\n${stream}`;
      const state = this.streams.get(key);
      if (!state) continue;
      this.streams.delete(key);
      const chunk = this.chunk(jobId, stream, state, state.decoder.end());
      if (chunk) chunks.push(chunk);
    }
    return chunks;
  }

  private chunk(
    jobId: string,
    stream: OutputStream,
    state: { offset: number },
    text: string,
  ): OutputChunk | undefined {
    if (!text) return undefined;
    const chunk = { jobId, stream, start: state.offset, text };
    state.offset += text.length;
    return chunk;
  }
}
