// The output writer's thread (see output-writer.ts): decodes and stores job output in gateway.db
// with its own connection, so megabytes of CLI output never block the thread answering MCP calls.
import { parentPort, workerData } from "node:worker_threads";
import { openDatabase } from "./db.js";
import { JobStore, type OutputChunk } from "./jobs.js";
import { OutputDecoder } from "./output-decoder.js";
import type { WorkerReply, WorkerRequest } from "./output-writer.js";

/** Characters per transaction: short transactions keep the write lock free for the main thread. */
const MAX_TRANSACTION_CHARS = 256 * 1024;

const port = parentPort!;
const db = openDatabase((workerData as { dbPath: string }).dbPath, []);
db.pragma("secure_delete = ON"); // see app.ts
const store = new JobStore(db);
const decoder = new OutputDecoder();
const queue: OutputChunk[] = [];
let scheduled = false;

/** An unfinished line that has not grown for this long is stored as it is (see OutputDecoder). */
const QUIET_MS = 1000;

const reply = (message: WorkerReply) => port.postMessage(message);

function writeQueued(): void {
  scheduled = false;
  while (queue.length) {
    let chars = 0;
    let n = 0;
    while (n < queue.length && (n === 0 || chars < MAX_TRANSACTION_CHARS))
      chars += queue[n++]!.text.length;
    const batch = queue.splice(0, n);
    try {
      store.appendOutput(batch);
    } catch (err) {
      reply({ error: `job output not stored (${n} chunks): ${String(err)}` });
    }
  }
}

function schedule(): void {
  // Messages that arrived together are written together.
  if (!scheduled) setImmediate(writeQueued);
  scheduled = true;
}

setInterval(() => {
  const chunks = decoder.quiet(QUIET_MS);
  if (chunks.length) {
    queue.push(...chunks);
    schedule();
  }
}, QUIET_MS / 2).unref();

port.on("message", (message: WorkerRequest) => {
  if ("flush" in message) {
    writeQueued();
    reply({ flushed: message.flush });
    return;
  }
  if ("chunk" in message) {
    const { jobId, stream, bytes } = message.chunk;
    const chunk = decoder.decode(jobId, stream, bytes);
    if (chunk) queue.push(chunk);
  } else queue.push(...decoder.end(message.end));
  schedule();
});
