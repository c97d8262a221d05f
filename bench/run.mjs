#!/usr/bin/env node
// npm run bench: measures the gateway's own cost (issue #9) against fake CLIs, next to a floor MCP
// server with no dependencies, direct spawns and a plain relay; prints tables and writes
// bench/results/bench.json. `--short` is the CI mode (few repetitions, 20 MB only, 10 concurrent).
// `--only=overhead,startup,tree,concurrency,big,protocol,cap,consult,http` runs a subset (and not the other bench scripts);
// `--out=FILE` writes elsewhere. Method and figures: docs/PERFORMANCE.md.
//
// Exit status: 1 when something is wrong (a request failed, a big reply came back cut or empty or
// without its cap named, another bench script failed); timing and memory targets are reported, never
// asserted: they depend on the machine.
import { spawnSync, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bigOutputSuite, MiB } from "./lib/big-output.mjs";
import { capSuite } from "./lib/cap.mjs";
import { concurrencySuite } from "./lib/concurrency.mjs";
import { consultSuite } from "./lib/consult.mjs";
import { httpSuite } from "./lib/http.mjs";
import { overheadSuite } from "./lib/overhead.mjs";
import { protocolSuite } from "./lib/protocol.mjs";
import { machineInfo } from "./lib/proc.mjs";
import { evaluate, markdown, tables, TARGETS } from "./lib/report.mjs";
import { cleanup, GATEWAY_MAIN, ROOT } from "./lib/sandbox.mjs";
import { startupSuite } from "./lib/startup.mjs";
import { treeSuite } from "./lib/tree.mjs";

const argv = process.argv.slice(2);
const short = argv.includes("--short");
const only = argv
  .find((a) => a.startsWith("--only="))
  ?.slice(7)
  .split(",");
const outFile =
  argv.find((a) => a.startsWith("--out="))?.slice(6) ??
  join(ROOT, "bench", "results", "bench.json");
const wanted = (suite) => !only || only.includes(suite);
const log = (line) => process.stderr.write(`${line}\n`);

const SETTINGS = short
  ? {
      overhead: { rounds: 5, warmup: 1, latencies: [0, 50] },
      startup: { rounds: 3, warmup: 1, idleMs: 500 },
      tree: { rounds: 2, warmup: 0, idleMs: 1000, settledMs: 6500 },
      concurrency: { rounds: 2, concurrency: 10, latencyMs: 500 },
      big: { sizes: [20 * MiB], rounds: 1, raisedCap: 256 * MiB },
      protocol: { rounds: 1, idleMs: 500 },
      cap: { caps: [32 * MiB], modes: ["sync", "async"] },
      consult: { rounds: 2, latencyMs: 1000 },
      http: { rounds: 3, warmup: 1, clients: 20, latencyMs: 500 },
    }
  : {
      overhead: { rounds: 30, warmup: 3, latencies: [0, 50] },
      startup: { rounds: 15, warmup: 2, idleMs: 1000 },
      tree: { rounds: 5, warmup: 1, idleMs: 1000, settledMs: 6500 },
      concurrency: { rounds: 3, concurrency: 50, latencyMs: 500 },
      big: { sizes: [20 * MiB, 200 * MiB], rounds: 3, raisedCap: 256 * MiB },
      protocol: { rounds: 3, idleMs: 1000 },
      cap: { caps: [50 * MiB, 400 * MiB], modes: ["sync", "async"] },
      consult: { rounds: 5, latencyMs: 1000 },
      http: { rounds: 20, warmup: 2, clients: 100, latencyMs: 500 },
    };

if (!existsSync(GATEWAY_MAIN)) {
  log(`${GATEWAY_MAIN} is missing: run npm run build first (npm run bench does).`);
  process.exit(1);
}

const started = new Date();
const results = {
  startedAt: started.toISOString(),
  mode: short ? "short" : "full",
  machine: machineInfo(),
  gateway: gatewayInfo(),
  settings: SETTINGS,
  targetValues: TARGETS,
};
let failed = false;
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});

try {
  if (wanted("overhead")) {
    log(`== overhead per request (${SETTINGS.overhead.rounds} rounds)`);
    results.overhead = await overheadSuite(SETTINGS.overhead);
  }
  if (wanted("startup")) {
    log(`== cold start, idle RSS, tools/list (${SETTINGS.startup.rounds} rounds)`);
    results.startup = await startupSuite(SETTINGS.startup);
  }
  if (wanted("tree")) {
    log(`== process tree after one request per CLI (${SETTINGS.tree.rounds} rounds)`);
    results.tree = await treeSuite(SETTINGS.tree);
  }
  if (wanted("concurrency")) {
    log(
      `== concurrency (${SETTINGS.concurrency.concurrency} at once, ${SETTINGS.concurrency.rounds} rounds)`,
    );
    results.concurrency = await concurrencySuite(SETTINGS.concurrency);
    if (results.concurrency.failures) failed = true;
  }
  if (wanted("big")) {
    log(`== big output (${SETTINGS.big.sizes.map((s) => s / MiB).join(", ")} MB)`);
    results.bigOutput = await bigOutputSuite({ ...SETTINGS.big, log });
    if (results.bigOutput.groups.some((g) => g.runs.some((r) => !r.ok))) failed = true;
  }
  if (wanted("protocol")) {
    log(
      `== protocol: a 50 MB JSON-RPC line, server/discover first (${SETTINGS.protocol.rounds} rounds)`,
    );
    results.protocol = await protocolSuite(SETTINGS.protocol);
    if (results.protocol.bigLine.runs.some((r) => !r.servedAfter)) failed = true;
  }
  if (wanted("cap")) {
    log(
      `== output cap (${SETTINGS.cap.caps.map((c) => c / MiB).join(", ")} MB, output 6x the cap)`,
    );
    results.cap = await capSuite({ ...SETTINGS.cap, log });
    if (results.cap.runs.some((r) => !r.category || r.category.startsWith("bench case")))
      failed = true;
  }
  if (wanted("consult")) {
    log(`== consult of 3 CLIs vs the slowest alone (${SETTINGS.consult.rounds} rounds)`);
    results.consult = await consultSuite(SETTINGS.consult);
    if (results.consult.failures) failed = true;
  }
  if (wanted("http")) {
    const h = SETTINGS.http;
    log(`== HTTP: overhead vs stdio (${h.rounds} rounds), ${h.clients} clients at once`);
    results.http = await httpSuite(h);
    if (results.http.failures) failed = true;
  }
} catch (err) {
  failed = true;
  results.error = err instanceof Error ? err.stack : String(err);
  log(`bench failed: ${results.error}`);
} finally {
  cleanup();
}

results.targets = evaluate(results);
results.finishedAt = new Date().toISOString();
results.durationS = Math.round((Date.now() - started.getTime()) / 1000);
results.machine.loadAvgAtEnd = machineInfo().loadAvg;
mkdirSync(join(outFile, ".."), { recursive: true });
writeFileSync(outFile, JSON.stringify(results, null, 2) + "\n");
const header =
  `llm-cli-gateway bench (${results.mode}), ${results.startedAt}\n` +
  `machine: ${results.machine.cpuModel}, ${results.machine.cores} cores, ${results.machine.memoryGb} GB, ${results.machine.os}, Node ${results.machine.node}; ` +
  `load average ${results.machine.loadAvg.join(" ")} at start, ${results.machine.loadAvgAtEnd.join(" ")} at end\n` +
  `gateway: ${results.gateway.version} at ${results.gateway.commit ?? "unknown commit"}`;
const mdFile = outFile.replace(/\.json$/, "") + ".md";
writeFileSync(mdFile, `${header.replace(/\n/g, "  \n")}\n\n${markdown(results)}\n`);

console.log(header);
console.log(tables(results));
if (results.consult) {
  const c = results.consult;
  console.log(
    `\nconsult of 3 CLIs (each ${c.latencyMs} ms): median ${Math.round(c.consultMs.median)} ms; slowest CLI alone: median ${Math.round(c.slowestAloneMs.median)} ms; difference ${Math.round(c.overheadMs)} ms`,
  );
}
const missed = results.targets.filter((t) => !t.pass).length;
console.log(
  `\n${results.targets.length - missed} targets met, ${missed} missed. Results: ${outFile}`,
);

// The other benchmarks, when present (not with --only): the prompt optimizer, the flight
// recorder, redaction, the job load test with cancel latency, and the job store on PostgreSQL
// next to SQLite with the load test on PostgreSQL (multihost.mjs). Each takes --short and writes
// its own bench/results/*.json.
for (const script of only
  ? []
  : ["optimize.mjs", "recorder.mjs", "redact.mjs", "jobs.mjs", "multihost.mjs"]) {
  const path = join(ROOT, "bench", script);
  if (!existsSync(path)) continue;
  log(`\n== bench/${script}${short ? " --short" : ""}`);
  const run = spawnSync(process.execPath, [path, ...(short ? ["--short"] : [])], {
    stdio: "inherit",
    cwd: ROOT,
  });
  if (run.status !== 0) {
    failed = true;
    log(`bench/${script} failed (exit ${run.status ?? run.signal})`);
  }
}

if (failed) log("\nbench: FAILED (see above)");
process.exit(failed ? 1 : 0);

function gatewayInfo() {
  const info = {
    version: JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version,
    commit: null,
  };
  try {
    info.commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: ROOT,
      encoding: "utf8",
    }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], {
      cwd: ROOT,
      encoding: "utf8",
    }).trim();
    if (dirty) info.commit += " (src/ modified)";
  } catch {
    // not a git checkout
  }
  return info;
}
