// The output writer's thread (see output-writer.ts): decodes and stores job output in gateway.db
// with its own connection, so megabytes of CLI output never block the thread answering MCP calls.
import { parentPort, workerData } from "node:worker_threads";
import { openGatewayStore, type GatewayLocation } from "./open.js";
import { JobStore, type OutputChunk } from "./jobs.js";
import { OutputDecoder } from "./output-decoder.js";
import type { WorkerReply, WorkerRequest } from "./output-writer.js";

/** Characters per transaction: short transactions keep the write lock free for the main thread. */
const MAX_TRANSACTION_CHARS = 256 * 1024;

const port = parentPort!;
const db = openGatewayStore((workerData as { where: GatewayLocation }).where, "output");
const store = new JobStore(db);
const decoder = new OutputDecoder();
/**
 * What is still to store, in order: bytes are decoded only when their transaction is written, so a
 * backlog (a CLI printing faster than SQLite stores) waits as bytes, not as twice as big strings.
 */
const queue: (WorkerRequest | OutputChunk[])[] = [];
let scheduled = false;

/** An unfinished line that has not grown for this long is stored as it is (see OutputDecoder). */
const QUIET_MS = 1000;

const reply = (message: WorkerReply) => port.postMessage(message);

function writeQueued(): void {
  scheduled = false;
  while (queue.length) {
    let chars = 0;
    let bytes = 0;
    const buffers: ArrayBuffer[] = []; // decoded: sent back to be filled again
    const batch: OutputChunk[] = [];
    while (queue.length && chars < MAX_TRANSACTION_CHARS) {
      const item = queue.shift()!;
      if (!Array.isArray(item) && "chunk" in item) {
        bytes += item.chunk.bytes.byteLength;
        buffers.push(item.chunk.bytes.buffer as ArrayBuffer);
      }
      for (const chunk of decoded(item)) {
        batch.push(chunk);
        chars += chunk.text.length;
      }
    }
    try {
      store.appendOutput(batch);
    } catch (err) {
      reply({ error: `job output not stored (${batch.length} chunks): ${String(err)}` });
    }
    if (bytes) port.postMessage({ stored: bytes, buffers } satisfies WorkerReply, buffers);
  }
}

function schedule(): void {
  // Messages that arrived together are written together.
  if (!scheduled) setImmediate(writeQueued);
  scheduled = true;
}

function decoded(item: WorkerRequest | OutputChunk[]): OutputChunk[] {
  if (Array.isArray(item)) return item;
  if ("chunk" in item) {
    const { jobId, stream, bytes } = item.chunk;
    return decoder.decode(jobId, stream, bytes);
  }
  return "end" in item ? decoder.end(item.end) : [];
}

setInterval(() => {
  // Only with nothing queued: a queued chunk may continue the line.
  if (queue.length) return;
  const chunks = decoder.quiet(QUIET_MS);
  if (chunks.length) {
    queue.push(chunks);
    schedule();
  }
}, QUIET_MS / 2).unref();

port.on("message", (message: WorkerRequest) => {
  if ("flush" in message) {
    writeQueued();
    reply({ flushed: message.flush });
    return;
  }
  queue.push(message);
  schedule();
});
