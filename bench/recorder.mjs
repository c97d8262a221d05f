#!/usr/bin/env node
// Flight recorder benchmark (issue #6).
//
//   node bench/recorder.mjs [--short] [--rows N] [--pairs N] [--dist DIR] [--keep]
//
// 1. Recorder cost per request: start() + finish() pairs with realistic prompt and response sizes
//    (a 2 KB prompt, an 8 KB response, usage, session ids), on a fresh database and on the big one;
//    and, apart, the full-text indexing the recorder does in the background a moment after a call
//    ends (measured one call at a time, its worst case). Target: median under 1 ms. The same on
//    PostgreSQL (the `recorder` schema) side by side: --postgres URL (or
//    LLM_GATEWAY_BENCH_DATABASE_URL), else a throwaway cluster on loopback when initdb is on PATH
//    (test/helpers/pg-cluster.mjs), else skipped.
// 2. `logs` look-ups on a generated database of 1,000,000 calls (--short: 100,000), run in-process
//    through runLogsCommand (argument parsing, read-only open, query, formatting; not Node's own
//    start-up). Target: under 200 ms each.
//
// Everything happens in a temporary directory that is deleted afterwards. Prints a table and writes
// bench/results/recorder.json. Uses the built modules in dist/ (npm run build).
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    short: { type: "boolean" },
    rows: { type: "string" },
    pairs: { type: "string" },
    dist: { type: "string" },
    keep: { type: "boolean" },
    postgres: { type: "string" },
  },
});
const dist = resolve(args.dist ?? join(here, "..", "dist"));
const { Recorder } = await import(pathToFileURL(join(dist, "recorder", "writer.js")).href);
const { runLogsCommand } = await import(pathToFileURL(join(dist, "cli", "logs.js")).href);
const { default: Database } = await import("better-sqlite3");

const ROWS = Number(args.rows ?? (args.short ? 100_000 : 1_000_000));
const PAIRS = Number(args.pairs ?? (args.short ? 2_000 : 5_000));
const LOOKUP_RUNS = 15;

const tmp = mkdtempSync(join(tmpdir(), "llm-gateway-bench-recorder-"));
const results = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: availableParallelism(),
  rows: ROWS,
  pairs: PAIRS,
};

try {
  // ---------------------------------------------------------------------------------------------
  // Text that looks like prompts and responses: a vocabulary of 2,000 words with a Zipf-like skew.
  const vocab = Array.from({ length: 2000 }, (_, i) => word(i));
  // mulberry32: a small seeded PRNG without the correlated draws of a plain LCG.
  let seed = 42;
  const rand = () => {
    let t = (seed = (seed + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = () => vocab[Math.floor(vocab.length * rand() ** 3)];
  const sentence = (n) => Array.from({ length: n }, pick).join(" ");
  const textOf = (chars) => {
    let out = "";
    while (out.length < chars) out += sentence(8 + Math.floor(rand() * 10)) + ". ";
    return out.slice(0, chars);
  };

  // ---------------------------------------------------------------------------------------------
  // 1. Recorder cost on a fresh database.
  const freshPath = join(tmp, "fresh", "logs.db");
  results.recorderFresh = measureRecorder(freshPath, PAIRS, textOf, rand);

  // 1b. The same on PostgreSQL, in a fresh `recorder` schema.
  results.recorderPostgres = await measurePostgres(textOf, rand);

  // ---------------------------------------------------------------------------------------------
  // 2. Generate the big database (schema from the Recorder, rows in one transaction).
  const bigPath = join(tmp, "big", "logs.db");
  Recorder.open(bigPath, { maintenance: false }).close();
  const gen = generate(bigPath, ROWS, textOf, rand, pick);
  results.generation = gen;

  // Look-ups, end to end through runLogsCommand.
  const env = { LLM_GATEWAY_LOGS_DB: bigPath, HOME: tmp };
  const lookups = [
    ["recent calls", ["--limit", "20"]],
    ["filter cli + status", ["--cli", "gemini", "--status", "failed", "--limit", "20"]],
    ["filter model", ["--model", "gemini-2.5-pro", "--limit", "20"]],
    ["filter session", ["--session", gen.sampleSession, "--limit", "20"]],
    ["filter session, 1% of all calls", ["--session", "big-session", "--limit", "20"]],
    ["filter cli + rare status", ["--cli", "gemini", "--status", "interrupted", "--limit", "20"]],
    ["show by correlation id", ["show", gen.sampleCorrelationId]],
    ["search, rare word", ["search", gen.rareWord, "--limit", "20"]],
    ["search, common word", ["search", vocab[0], "--limit", "20"]],
    ["search, two words", ["search", vocab[3], vocab[40], "--limit", "20"]],
    ["usage summary, 7 days", ["usage", "--days", "7"]],
    ["usage summary, 30 days", ["usage", "--days", "30"]],
    ["usage by day, 30 days", ["usage", "--days", "30", "--by-day"]],
    ["usage summary, 90 days (all)", ["usage", "--days", "90"]],
    ["recent calls --json", ["--limit", "20", "--json"]],
  ];
  results.lookups = [];
  for (const [name, argv] of lookups) {
    const times = [];
    let out = "";
    for (let i = 0; i < LOOKUP_RUNS; i++) {
      out = "";
      const io = { stdout: (t) => (out += t), stderr: (t) => (out += t), columns: 120 };
      const t0 = process.hrtime.bigint();
      const code = await runLogsCommand(argv, env, io);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (code !== 0) throw new Error(`logs ${argv.join(" ")} exited ${code}: ${out}`);
    }
    results.lookups.push({
      name,
      argv: argv.join(" "),
      ...stats(times),
      lines: out.split("\n").length - 1,
    });
  }

  // 3. Recorder cost on the big database (deeper indexes and FTS), retention off.
  results.recorderBig = measureRecorder(bigPath, PAIRS, textOf, rand);

  print(results);
  const outDir = join(here, "results");
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "recorder.json"), JSON.stringify(results, null, 2) + "\n");
  console.log(`\nWrote ${join(outDir, "recorder.json")}`);
} finally {
  if (args.keep) console.log(`\nKept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}

// -----------------------------------------------------------------------------------------------

function measureRecorder(path, pairs, textOf, rand) {
  const recorder = Recorder.open(path, { maintenance: false, maxBytes: 0, maxAgeDays: 0 });
  const prompts = Array.from({ length: 50 }, () => textOf(2000));
  const responses = Array.from({ length: 50 }, () => textOf(8000));
  const times = [];
  const indexTimes = [];
  const warmup = 200;
  for (let i = 0; i < pairs + warmup; i++) {
    const t0 = process.hrtime.bigint();
    const id = recorder.start({
      correlationId: randomUUID(),
      cli: "codex",
      model: "gpt-6.1-sol",
      prompt: prompts[i % prompts.length],
      gatewaySessionId: randomUUID(),
      cwd: "/home/user/project",
    });
    recorder.finish(id, {
      responseText: responses[i % responses.length],
      exitCode: 0,
      nativeSessionId: randomUUID(),
      usage: { inputTokens: 1800, outputTokens: 2100, cacheReadTokens: 1200, reasoningTokens: 300 },
      durationMs: Math.round(rand() * 60_000),
    });
    const t1 = process.hrtime.bigint();
    // What the background indexer does a moment later (here: one call at a time, its worst case).
    recorder.indexPending();
    const t2 = process.hrtime.bigint();
    if (i >= warmup) {
      times.push(Number(t1 - t0) / 1e6);
      indexTimes.push(Number(t2 - t1) / 1e6);
    }
  }
  recorder.close();
  return {
    promptChars: 2000,
    responseChars: 8000,
    requestPath: stats(times),
    backgroundIndexing: stats(indexTimes),
    total: stats(times.map((t, i) => t + indexTimes[i])),
  };
}

async function measurePostgres(textOf, rand) {
  let url = args.postgres ?? process.env.LLM_GATEWAY_BENCH_DATABASE_URL;
  const cluster = await import(
    pathToFileURL(join(here, "..", "test", "helpers", "pg-cluster.mjs")).href
  );
  let started;
  if (!url && cluster.canRunPostgres()) ({ dir: started, url } = await cluster.startCluster());
  if (!url) {
    console.log("PostgreSQL: no --postgres URL and no initdb: its rows are skipped");
    return null;
  }
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("DROP SCHEMA IF EXISTS recorder CASCADE");
  await client.end();
  try {
    const where = { postgres: { url, statementTimeoutMs: 30_000, connectTimeoutMs: 5_000 } };
    return measureRecorder(where, PAIRS, textOf, rand);
  } finally {
    if (started) cluster.stopCluster(started);
  }
}

function generate(path, rows, textOf, rand, pick) {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  db.pragma("cache_size = -262144");
  const clis = [
    ["claude", ["claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5"], 0.5],
    ["codex", ["gpt-6.1-sol", "gpt-5.5"], 0.3],
    ["gemini", ["gemini-2.5-pro", "gemini-2.5-flash", "gemini-3.1-pro-preview"], 0.2],
  ];
  const statuses = [
    ["completed", 0.9],
    ["failed", 0.07],
    ["rejected", 0.015],
    ["canceled", 0.01],
    ["interrupted", 0.005],
  ];
  const errorCategories = ["rate_limited", "provider_error", "timeout", "cli_error", "auth_error"];
  const choose = (list) => {
    let r = rand();
    for (const item of list) if ((r -= item.at(-1)) < 0) return item;
    return list[0];
  };
  const insert = db.prepare(`INSERT INTO calls (correlation_id, started_at, ended_at, duration_ms,
    status, cli, model, prompt, response, error_category, error_message, exit_code, input_tokens,
    output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, cost_estimated,
    retry_count, gateway_session_id, native_session_id, cwd, prompt_chars, response_chars, instance_id)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  // Bulk load: indexes and the full-text triggers come off during the insert and are rebuilt after
  // (much faster than maintaining them row by row); the usage_daily triggers stay.
  const deferred = db
    .prepare(
      `SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'calls' AND sql IS NOT NULL
       AND (type = 'index' OR (type = 'trigger' AND name NOT LIKE 'calls_usage_%'))`,
    )
    .all();
  for (const o of deferred) db.exec(`DROP ${o.type.toUpperCase()} ${o.name}`);
  const span = 90 * 86_400_000;
  const t0Ms = Date.now() - span;
  const rareWord = "zyzzogeton";
  const sessions = Array.from({ length: Math.max(1000, rows / 20) }, () => randomUUID());
  let sampleCorrelationId = "";
  let sampleSession = "";
  const start = Date.now();
  db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      const [cli, models] = choose(clis);
      const model = models[Math.floor(rand() * models.length)];
      const [status] = choose(statuses);
      const startedMs = t0Ms + Math.floor((i / rows) * span);
      const duration = status === "rejected" ? 0 : Math.floor(2000 + rand() ** 2 * 300_000);
      const ran = status !== "rejected";
      const input = ran ? Math.floor(500 + rand() * 20_000) : null;
      const output = ran ? Math.floor(50 + rand() * 4_000) : null;
      const prompt =
        textOf(150 + Math.floor(rand() * 250)) + (i % 10_007 === 0 ? ` ${rareWord}` : "");
      const response = status === "completed" ? textOf(300 + Math.floor(rand() * 700)) : null;
      const correlationId = randomUUID();
      // 1% of the calls belong to one long-lived session (the worst case for a session look-up).
      const session =
        rand() < 0.01 ? "big-session" : sessions[Math.floor(rand() * sessions.length)];
      if (i === Math.floor(rows / 2))
        [sampleCorrelationId, sampleSession] = [correlationId, session];
      const failed = status === "failed";
      insert.run(
        correlationId,
        new Date(startedMs).toISOString(),
        new Date(startedMs + duration).toISOString(),
        duration,
        status,
        cli,
        model,
        prompt,
        response,
        failed ? errorCategories[Math.floor(rand() * errorCategories.length)] : null,
        failed ? `the model API failed: ${pick()} ${pick()}` : null,
        ran ? (failed ? 1 : 0) : null,
        input,
        output,
        ran ? Math.floor(rand() * (input ?? 0)) : null,
        ran && cli === "claude" ? Math.floor(rand() * 2000) : null,
        ran ? Math.floor(rand() * 500) : null,
        ran ? Math.round(rand() * 0.2 * 1e6) / 1e6 : null,
        ran && cli !== "claude" ? 1 : 0,
        ran ? 0 : null,
        session,
        session,
        "/home/user/project",
        prompt.length,
        response?.length ?? null,
        "bench",
      );
    }
  })();
  const loaded = Date.now();
  db.transaction(() => {
    for (const o of deferred) db.exec(o.sql);
    db.exec(`INSERT INTO calls_fts (calls_fts) VALUES ('rebuild')`);
  })();
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  const seconds = (Date.now() - start) / 1000;
  return {
    rows,
    seconds,
    insertSeconds: (loaded - start) / 1000,
    indexSeconds: (Date.now() - loaded) / 1000,
    rowsPerSecond: Math.round(rows / seconds),
    fileMB: Math.round(statSync(path).size / 1048576),
    sampleCorrelationId,
    sampleSession,
    rareWord,
  };
}

function stats(times) {
  const s = [...times].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const r = (x) => Math.round(x * 1000) / 1000;
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return {
    runs: s.length,
    medianMs: r(q(0.5)),
    p90Ms: r(q(0.9)),
    p99Ms: r(q(0.99)),
    maxMs: r(s.at(-1)),
    meanMs: r(mean),
  };
}

function print(r) {
  const row = (cells, widths) => cells.map((c, i) => String(c).padEnd(widths[i])).join("  ");
  console.log(`\nFlight recorder benchmark  (${r.node}, ${r.cpus} CPUs, ${r.date})\n`);
  console.log("Recorder cost per request (2 KB prompt, 8 KB response)");
  console.log("  request path: start() + finish(), what a request waits for");
  console.log("  indexing: the background full-text indexing of that call, a moment later");
  const w1 = [20, 14, 7, 10, 10, 10, 10, 10];
  console.log(row(["database", "", "pairs", "median", "p90", "p99", "max", "mean"], w1));
  for (const [name, m] of [
    ["fresh", r.recorderFresh],
    ["fresh, PostgreSQL", r.recorderPostgres],
    [`${r.rows.toLocaleString("en-US")} rows`, r.recorderBig],
  ].filter(([, m]) => m))
    for (const [part, x] of [
      ["request path", m.requestPath],
      ["indexing", m.backgroundIndexing],
      ["total", m.total],
    ])
      console.log(
        row(
          [
            part === "request path" ? name : "",
            part,
            x.runs,
            `${x.medianMs} ms`,
            `${x.p90Ms} ms`,
            `${x.p99Ms} ms`,
            `${x.maxMs} ms`,
            `${x.meanMs} ms`,
          ],
          w1,
        ),
      );
  const g = r.generation;
  console.log(
    `\nGenerated ${g.rows.toLocaleString("en-US")} rows in ${g.seconds.toFixed(1)} s ` +
      `(${g.rowsPerSecond.toLocaleString("en-US")} rows/s: insert ${g.insertSeconds.toFixed(1)} s in one transaction, ` +
      `then indexes and full-text index ${g.indexSeconds.toFixed(1)} s); file ${g.fileMB} MB`,
  );
  console.log(
    `\nlogs look-ups on ${r.rows.toLocaleString("en-US")} rows (in-process runLogsCommand, ${LOOKUP_RUNS} runs each)`,
  );
  const w2 = [30, 58, 10, 10, 10];
  console.log(row(["look-up", "command", "median", "p90", "max"], w2));
  for (const l of r.lookups)
    console.log(
      row(
        [
          l.name,
          `logs ${l.argv}`.slice(0, 58),
          `${l.medianMs} ms`,
          `${l.p90Ms} ms`,
          `${l.maxMs} ms`,
        ],
        w2,
      ),
    );
}

function word(i) {
  const syllables = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "sa",
    "ti",
    "vo",
    "ze",
    "pa",
    "do",
    "gu",
    "fi",
    "he",
    "jo",
    "we",
  ];
  let w = "";
  let n = i + 1;
  while (n > 0) {
    w += syllables[n % syllables.length];
    n = Math.floor(n / syllables.length);
  }
  return w;
}
