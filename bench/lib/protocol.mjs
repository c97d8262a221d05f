// Protocol hardening (issue #14): the cost of one 50 MB JSON-RPC line (peak RSS, time until it is
// answered, whether the gateway still answers after it), and the time to answer `server/discover`
// sent as the very first message (a real client's first call, a method the gateway does not have).
import { performance } from "node:perf_hooks";
import { sleep } from "./direct.mjs";
import { startServer } from "./overhead.mjs";
import { memoryOf } from "./proc.mjs";
import { fakeBin, sandbox } from "./sandbox.mjs";
import { summarize } from "./stats.mjs";

export const BIG_LINE_BYTES = 50 * 1024 * 1024;

export async function protocolSuite({ rounds, idleMs }) {
  const bin = fakeBin();
  const bigLine = { bytes: BIG_LINE_BYTES, runs: [] };
  for (let r = 0; r < rounds; r++) bigLine.runs.push(await oneBigLine(sandbox(bin), idleMs));
  const discoverMs = [];
  const initializeMs = [];
  for (let r = 0; r < rounds + 2; r++) {
    const { discover, initialize } = await firstDiscover(sandbox(bin));
    if (r < 2) continue; // warm-up: file cache
    discoverMs.push(discover);
    initializeMs.push(initialize);
  }
  for (const key of ["ms", "consumedMs", "peakRssMb", "growthMb"])
    bigLine[key] = summarize(bigLine.runs.map((run) => run[key]));
  return {
    rounds,
    bigLine,
    discover: {
      fromStartMs: summarize(discoverMs),
      initializeFromStartMs: summarize(initializeMs),
    },
  };
}

/** A tools/call whose line is BIG_LINE_BYTES long, after `idleMs` of rest; then a ping. */
async function oneBigLine(box, idleMs) {
  const server = startServer("gateway", box);
  try {
    await server.initialize();
    await sleep(idleMs);
    const before = memoryOf(server.pid);
    const id = server.nextId++;
    const head = `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"claude_request","arguments":{"prompt":"`;
    const tail = `"}}}\n`;
    const line = Buffer.alloc(BIG_LINE_BYTES, "x");
    line.write(head, 0);
    line.write(tail, BIG_LINE_BYTES - tail.length);
    const started = performance.now();
    const answer = await new Promise((resolve, reject) => {
      server.pending.set(id, { resolve, reject, sentAt: started });
      server.child.stdin.write(line);
    });
    const ms = answer.at - started;
    const ping = await server.request("ping", {});
    const after = memoryOf(server.pid);
    return {
      ms,
      // The ping is read after the whole line: this is the time the line costs the gateway.
      consumedMs: ping.at - started,
      peakRssMb: after.hwmKb / 1024,
      growthMb: (after.hwmKb - before.hwmKb) / 1024,
      answer: describe(answer.msg),
      servedAfter: ping.msg.result !== undefined,
    };
  } finally {
    await server.close();
  }
}

/** `server/discover` as the first line a fresh gateway reads, then initialize. */
async function firstDiscover(box) {
  const server = startServer("gateway", box);
  try {
    const discover = await server.request("server/discover", {});
    if (discover.msg.error?.code !== -32601)
      throw new Error(`server/discover: expected -32601, got ${JSON.stringify(discover.msg)}`);
    const init = await server.initialize();
    return { discover: discover.at - server.startedAt, initialize: init.at - server.startedAt };
  } finally {
    await server.close();
  }
}

function describe(msg) {
  if (msg.error) return `error ${msg.error.code}`;
  return msg.result?.isError ? "tool error (isError)" : "result";
}
