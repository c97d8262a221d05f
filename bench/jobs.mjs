// Issue #4's load benchmark: N concurrent async jobs whose fake CLI streams ~1 MB each, a cheap
// tool call (list_models) made every 20 ms meanwhile, and the gateway's peak RSS.
// Then cancel latency: from llm_job_cancel to the job reported canceled, a CLI with a child of its
// own hanging meanwhile (the whole process group is stopped). Target: under 2 s.
// Run: node bench/jobs.mjs [--short]. Writes bench/results/jobs.json.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { mb, machineInfo, memoryOf } from "./lib/proc.mjs";
import { resultText, RpcServer } from "./lib/rpc.mjs";
import { copyFileSync } from "node:fs";
import { cleanup, fakeBin, GATEWAY_MAIN, ROOT, sandbox, tempDir } from "./lib/sandbox.mjs";
import { round, roundSummary, summarize } from "./lib/stats.mjs";
import { num, textTable } from "./lib/table.mjs";

const short = process.argv.includes("--short");
// --backend=postgres (bench/multihost.mjs): the gateway on BENCH_DATABASE_URL instead of SQLite.
const postgres = process.argv.includes("--backend=postgres");
const database = postgres ? { LLM_GATEWAY_DATABASE_URL: process.env.BENCH_DATABASE_URL } : {};
if (postgres && !process.env.BENCH_DATABASE_URL)
  throw new Error("--backend=postgres needs BENCH_DATABASE_URL");
const JOBS = short ? 30 : 100;
const EVENTS = 16; // the fake CLI prints 16 padded events, 60 ms apart: ~1 MB over ~1 s
const PAD = 64 * 1024;
const CANCELS = short ? 3 : 10;
const CANCEL_TARGET_MS = 2000;

const delay = (ms) => new Promise((r) => setTimeout(r, ms));
const structured = (res) => res.msg.result?.structuredContent ?? {};

async function main() {
  // codex is a small Perl script here: 100 Node start-ups (or bash printing 1 MB, 16 ms of CPU
  // each) would measure the machine, not the gateway.
  const bin = tempDir("jobsbin");
  copyFileSync(join(ROOT, "bench", "lib", "stream-codex.pl"), join(bin, "codex"));
  const { env, work } = sandbox(bin, {
    LLM_GATEWAY_MAX_CONCURRENT: String(JOBS),
    LLM_GATEWAY_MAX_CONCURRENT_PER_CLI: String(JOBS),
    LLM_GATEWAY_MAX_QUEUE: String(JOBS),
    ...database,
  });
  const gw = new RpcServer(process.execPath, [GATEWAY_MAIN], { env, cwd: work, name: "gateway" });
  await gw.initialize();
  // The thin entry answers initialize while the rest loads: wait for that before measuring.
  await gw.callTool("list_models", {});
  const idle = memoryOf(gw.pid);

  // The cheap call, every 10 ms until the burst is over (enough calls for a p99 that is not the max).
  const cheap = [];
  let bursting = true;
  const prober = (async () => {
    while (bursting) {
      cheap.push((await gw.callTool("list_models", {})).ms);
      await delay(10);
    }
  })();

  const t0 = performance.now();
  const started = await Promise.all(
    Array.from({ length: JOBS }, (_, i) =>
      gw.callTool("codex_request_async", { prompt: `job ${i}` }),
    ),
  );
  const ids = started.map((res) => structured(res).jobId);
  if (ids.some((id) => !id))
    throw new Error(
      `a job was refused: ${resultText(started.find((r) => !structured(r).jobId).msg)}`,
    );

  // Like a client checking on its jobs: one status call at a time, a round every 200 ms.
  const statuses = new Map();
  const open = (s) => !s || ["queued", "running"].includes(s.status);
  while (ids.some((id) => open(statuses.get(id)))) {
    for (const jobId of ids.filter((id) => open(statuses.get(id))))
      statuses.set(jobId, structured(await gw.callTool("llm_job_status", { jobId })));
    await delay(200);
  }
  const wallMs = performance.now() - t0;
  bursting = false;
  await prober;
  const peak = memoryOf(gw.pid);
  await gw.close();

  const cancel = await cancelLatency();
  const completed = [...statuses.values()].filter((s) => s.status === "completed").length;
  const streamedMb =
    [...statuses.values()].reduce((sum, s) => sum + (s.stdoutChars ?? 0), 0) / 1024 / 1024;
  // Any job that did not complete: how it ended, and one error of each kind.
  const others = {};
  for (const s of statuses.values())
    if (s.status !== "completed")
      others[`${s.status}: ${s.error?.category ?? ""} ${s.error?.message ?? ""}`.slice(0, 200)] =
        (others[
          `${s.status}: ${s.error?.category ?? ""} ${s.error?.message ?? ""}`.slice(0, 200)
        ] ?? 0) + 1;
  if (Object.keys(others).length) console.log("jobs not completed:", others);
  const cheapStats = summarize(cheap);
  const p99 = [...cheap].sort((a, b) => a - b)[Math.max(0, Math.ceil(0.99 * cheap.length) - 1)];
  const result = {
    machine: machineInfo(),
    backend: postgres ? "postgres" : "sqlite",
    jobs: JOBS,
    completed,
    notCompleted: others,
    wallMs: round(wallMs, 0),
    streamedMb: round(streamedMb, 1),
    cheapCallMs: { ...roundSummary(cheapStats, 2), p99: round(p99, 2) },
    rssMb: { idle: round(mb(idle.rssKb), 1), peak: round(mb(peak.hwmKb), 1) },
    cancelMs: { canceled: roundSummary(cancel.canceled, 0), gone: roundSummary(cancel.gone, 0) },
    targets: { cheapP99Ms: 50, peakRssMb: 300, cancelMs: CANCEL_TARGET_MS },
  };
  console.log(
    textTable(
      `Jobs${postgres ? " on PostgreSQL" : ""}: ${JOBS} concurrent async codex jobs, each streaming ~1 MB (${EVENTS} x ${PAD / 1024} KB, 60 ms apart)`,
      ["measure", "value", "target"],
      [
        ["jobs completed", `${completed}/${JOBS}`, `${JOBS}/${JOBS}`],
        ["wall time (ms)", num(result.wallMs, 0), "-"],
        ["stdout stored (MB)", num(result.streamedMb), "-"],
        [
          `list_models during burst, median (ms, n=${cheap.length})`,
          num(cheapStats.median, 2),
          "-",
        ],
        ["list_models during burst, p99 (ms)", num(p99, 2), "< 50"],
        ["list_models during burst, max (ms)", num(cheapStats.max, 2), "-"],
        ["gateway RSS idle (MB)", num(result.rssMb.idle), "-"],
        ["gateway peak RSS (MB)", num(result.rssMb.peak), "< 300"],
        [
          `cancel to status canceled, median (ms, n=${cancel.canceled.n})`,
          num(cancel.canceled.median, 0),
          `< ${CANCEL_TARGET_MS}`,
        ],
        [
          "cancel to CLI and its child gone, max (ms)",
          num(cancel.gone.max, 0),
          `< ${CANCEL_TARGET_MS}`,
        ],
      ],
    ),
  );
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  writeFileSync(
    join(ROOT, "bench", "results", postgres ? "jobs-postgres.json" : "jobs.json"),
    JSON.stringify(result, null, 2),
  );
}

/**
 * llm_job_cancel on a running job whose CLI hangs with a child: ms until its status is canceled,
 * and until the CLI and its child are gone.
 */
async function cancelLatency() {
  const log = join(tempDir("cancel"), "invocations.jsonl");
  const { env, work } = sandbox(fakeBin(), { FAKE_CLI_LOG: log, ...database });
  const gw = new RpcServer(process.execPath, [GATEWAY_MAIN], { env, cwd: work, name: "gateway" });
  await gw.initialize();
  const canceled = [];
  const gone = [];
  for (let i = 0; i < CANCELS; i++) {
    rmSync(log, { force: true });
    const res = await gw.callTool("claude_request_async", {
      prompt: "[[fake:child]] [[fake:partial=half-done]] [[fake:hang]]",
    });
    const { jobId } = structured(res);
    if (!jobId) throw new Error(`the job was refused: ${resultText(res.msg)}`);
    let pids = [];
    while (pids.length < 2) {
      await delay(10);
      // Complete lines only: the fake may be half-way through writing one.
      pids = existsSync(log)
        ? readFileSync(log, "utf8")
            .split("\n")
            .slice(0, -1)
            .map((l) => JSON.parse(l))
            .flatMap((e) => [e.pid, e.grandchild].filter(Boolean))
        : [];
    }
    await delay(300); // let the CLI print and the sink flush
    const t0 = performance.now();
    await gw.callTool("llm_job_cancel", { jobId });
    let status = { status: "running" };
    while (["queued", "running"].includes(status.status)) {
      status = structured(await gw.callTool("llm_job_status", { jobId }));
      if (status.status === "running") await delay(10);
    }
    canceled.push(performance.now() - t0);
    if (status.status !== "canceled") throw new Error(`a canceled job ended ${status.status}`);
    while (pids.some(alive)) await delay(5);
    gone.push(performance.now() - t0);
  }
  await gw.close();
  return { canceled: summarize(canceled), gone: summarize(gone) };
}

/** Running: a zombie (killed, waiting for whoever reaps it) counts as gone. */
function alive(pid) {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

main()
  .catch((err) => {
    console.error(err);
    process.exit(1); // the gateway child and the prober would keep a failed run alive
  })
  .finally(cleanup);
