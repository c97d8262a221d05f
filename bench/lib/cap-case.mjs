// One output-cap run, in its own Node process: `node cap-case.mjs '<json spec>'`. A fake CLI would
// print 6x the cap; the gateway must stop (or discard) past the cap. Prints one JSON line: idle and
// peak RSS of the gateway, the job's stored output and gateway.db's size (with its -wal) afterwards,
// and what the caller
// was told (category, `truncated` counts).
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { memoryOf } from "./proc.mjs";
import { RpcServer, resultText } from "./rpc.mjs";
import { bigFakeBin, cleanup, GATEWAY_MAIN, sandbox } from "./sandbox.mjs";

const spec = JSON.parse(process.argv[2]);
const { cli, cap, bytes, mode } = spec;
const box = sandbox(bigFakeBin(), {
  BENCH_BIG_BYTES: String(bytes),
  LLM_GATEWAY_MAX_OUTPUT_BYTES: String(cap),
  LLM_GATEWAY_LOGS_DB: "none", // what is measured is gateway.db
});
const MB = 1024 * 1024;
const delay = (ms) => new Promise((r) => setTimeout(r, ms));

try {
  process.stdout.write(JSON.stringify({ ...spec, ...(await run()) }) + "\n");
} finally {
  cleanup();
}

async function run() {
  const server = new RpcServer(process.execPath, [GATEWAY_MAIN], {
    env: box.env,
    cwd: box.work,
    name: "gateway",
  });
  await server.initialize();
  await server.request("tools/list", {});
  // The gateway loads its modules (SDK, zod, SQLite) on the first tools/call: idle is measured
  // loaded, so that peak - idle is what the run's output cost.
  await server.callTool("list_models", {});
  await delay(1000);
  const idleRssMb = memoryOf(server.pid).rssKb / 1024;
  const prompt = `Print ${bytes} bytes.`;
  const started = performance.now();
  let msg;
  let storedChars = 0; // a sync job's output is not stored
  if (mode === "async") {
    const { msg: started } = await server.callTool(`${cli}_request_async`, { prompt });
    const jobId = started.result.structuredContent.jobId;
    for (;;) {
      const { msg: status } = await server.callTool("llm_job_status", { jobId });
      const sc = status.result.structuredContent;
      storedChars = sc.stdoutChars + sc.stderrChars;
      if (!["queued", "running"].includes(sc.status)) break;
      await delay(200);
    }
    msg = (await server.callTool("llm_job_result", { jobId, maxChars: 1000 })).msg;
  } else msg = (await server.callTool(`${cli}_request`, { prompt })).msg;
  const ms = performance.now() - started;
  const peakRssMb = memoryOf(server.pid).hwmKb / 1024;
  const dbBytes = ["gateway.db", "gateway.db-wal"]
    .map((f) => join(box.gatewayHome, f))
    .reduce((sum, f) => sum + (existsSync(f) ? statSync(f).size : 0), 0);
  await server.close();
  const sc = msg.result?.structuredContent ?? {};
  const result = mode === "async" ? (sc.result ?? {}) : sc;
  const category = result.error?.category ?? /^\[(\w+)\]/.exec(resultText(msg))?.[1] ?? null;
  const truncated = result.truncated ?? null;
  const peakOverIdleMb = peakRssMb - idleRssMb;
  const ok =
    category === "output_overflow" &&
    truncated !== null &&
    peakOverIdleMb <= (2 * cap) / MB &&
    storedChars <= cap;
  return {
    ms,
    idleRssMb,
    peakRssMb,
    peakOverIdleMb,
    storedChars,
    dbMb: dbBytes / MB,
    category,
    truncated,
    ok,
  };
}
