// Issue #20's rows: the job store's cost per request on PostgreSQL next to SQLite (the statements one
// async request makes, in one run), then bench/jobs.mjs's load test with the gateway on PostgreSQL.
// A throwaway cluster is started with test/helpers/pg-cluster.mjs when initdb is on PATH; without
// it the rows are skipped with the reason. Run: node bench/multihost.mjs [--short].
// Writes bench/results/multihost.json (and jobs-postgres.json through jobs.mjs).
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { canRunPostgres, startCluster, stopCluster } from "../test/helpers/pg-cluster.mjs";
import { machineInfo } from "./lib/proc.mjs";
import { cleanup, ROOT, tempDir } from "./lib/sandbox.mjs";
import { round, roundSummary, summarize } from "./lib/stats.mjs";
import { num, textTable } from "./lib/table.mjs";

const short = process.argv.includes("--short");
const REQUESTS = short ? 200 : 1000;
const dist = (p) => join(ROOT, "dist", p);
const { openGatewayStore } = await import(dist("store/open.js"));
const { JobStore } = await import(dist("store/jobs.js"));

/**
 * What the job layer asks of the store for one async request, as the gateway asks it: insert,
 * running, pid, two output batches, two status reads (a client polling), one cancel poll, finish,
 * the result read. Returns ms per request.
 */
function storeCost(db) {
  const store = new JobStore(db);
  const owner = "bench-host";
  store.registerInstance({
    id: owner,
    pid: process.pid,
    pidStart: null,
    hostname: "bench",
    bootId: null,
    leaseMs: 20_000,
  });
  const perRequest = [];
  const chunk = "x".repeat(4096);
  for (let i = 0; i < REQUESTS + 20; i++) {
    const id = `job-${i}-${Math.random().toString(16).slice(2)}`;
    const t0 = performance.now();
    store.insert({ id, cli: "codex", kind: "async", correlationId: id, owner });
    store.markRunning(id);
    store.setPid(id, process.pid, undefined);
    store.appendOutput([{ jobId: id, stream: "stdout", start: 0, text: chunk }]);
    store.get(id);
    store.appendOutput([{ jobId: id, stream: "stdout", start: chunk.length, text: chunk }]);
    store.cancelRequestedOf(owner);
    store.get(id);
    store.finish(id, "completed", { result: { text: "done" } });
    store.get(id);
    store.readOutput(id, "stdout", 0, 1000);
    if (i >= 20) perRequest.push(performance.now() - t0); // the first 20 warm up
  }
  store.heartbeat(owner);
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) store.heartbeat(owner);
  const heartbeatMs = (performance.now() - t0) / 100;
  db.close();
  return { perRequest: summarize(perRequest), heartbeatMs };
}

async function main() {
  const result = { machine: machineInfo(), requests: REQUESTS };
  if (!canRunPostgres()) {
    result.skipped = "initdb and pg_ctl are not on PATH: no PostgreSQL to measure";
    console.log(`multihost bench skipped: ${result.skipped}`);
    return write(result);
  }
  const cluster = await startCluster();
  try {
    const sqlite = storeCost(openGatewayStore({ sqlite: join(tempDir("store"), "gateway.db") }));
    const settings = { url: cluster.url, statementTimeoutMs: 10_000, connectTimeoutMs: 5_000 };
    const postgres = storeCost(openGatewayStore({ postgres: settings }));
    result.storeMs = {
      sqlite: { ...roundSummary(sqlite.perRequest, 3), heartbeat: round(sqlite.heartbeatMs, 3) },
      postgres: {
        ...roundSummary(postgres.perRequest, 3),
        heartbeat: round(postgres.heartbeatMs, 3),
      },
    };
    console.log(
      textTable(
        `Job store per async request (11 statements; ${REQUESTS} requests, one process, loopback PostgreSQL 15)`,
        ["measure", "SQLite", "PostgreSQL"],
        [
          ["median (ms)", num(sqlite.perRequest.median, 3), num(postgres.perRequest.median, 3)],
          ["p90 (ms)", num(sqlite.perRequest.p90, 3), num(postgres.perRequest.p90, 3)],
          ["lease heartbeat (ms)", num(sqlite.heartbeatMs, 3), num(postgres.heartbeatMs, 3)],
        ],
      ),
    );
    // The 100-job load test (30 with --short) with the gateway on PostgreSQL: its own database.
    const db = new URL(cluster.url);
    db.pathname = "/jobs_bench";
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query("CREATE DATABASE jobs_bench");
    await admin.end();
    const run = spawnSync(
      process.execPath,
      [join(ROOT, "bench", "jobs.mjs"), ...(short ? ["--short"] : []), "--backend=postgres"],
      { stdio: "inherit", cwd: ROOT, env: { ...process.env, BENCH_DATABASE_URL: db.toString() } },
    );
    if (run.status !== 0) throw new Error(`bench/jobs.mjs on PostgreSQL failed (${run.status})`);
    result.jobsOnPostgres = "bench/results/jobs-postgres.json";
  } finally {
    stopCluster(cluster.dir);
  }
  write(result);
}

function write(result) {
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  writeFileSync(join(ROOT, "bench", "results", "multihost.json"), JSON.stringify(result, null, 2));
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(cleanup);
