import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_PRICES, estimateCost, findPrice } from "../../src/store/prices.js";
import { recorderConfigFromEnv } from "../../src/recorder/config.js";
import { Recorder, type CallStart, type RecorderOptions } from "../../src/recorder/writer.js";
import { BACKENDS } from "../helpers/postgres.js";
import { recordDb, type RecordDb } from "../helpers/recorder-db.js";

let dir: string;
let path: string;
const opened: Recorder[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "llm-gateway-recorder-"));
  path = join(dir, "state", "logs.db");
});
afterEach(() => {
  for (const r of opened.splice(0)) r.close();
  rmSync(dir, { recursive: true, force: true });
});

const call = (over: Partial<CallStart> = {}): CallStart => ({
  correlationId: "corr-1",
  cli: "codex",
  model: "gpt-6.1-sol",
  prompt: "Review src/main.ts",
  cwd: "/work/project",
  ...over,
});

describe("recorderConfigFromEnv", () => {
  const home = "/home/u/.llm-cli-gateway";

  it("defaults to <home>/logs.db, 90 days, 500 MB and the built-in prices", () => {
    const c = recorderConfigFromEnv({}, home);
    expect(c.path).toBe(join(home, "logs.db"));
    expect(c.maxAgeDays).toBe(90);
    expect(c.maxBytes).toBe(500 * 1024 * 1024);
    expect(c.prices).toBe(DEFAULT_PRICES);
  });

  it('"" and "none" disable recording', () => {
    for (const value of ["", "none", "NONE", " none "])
      expect(recorderConfigFromEnv({ LLM_GATEWAY_LOGS_DB: value }, home).path).toBeNull();
  });

  it("takes a path, expanding ~ and resolving relative ones", () => {
    expect(recorderConfigFromEnv({ LLM_GATEWAY_LOGS_DB: "/var/log/gw.db" }, home).path).toBe(
      "/var/log/gw.db",
    );
    expect(
      recorderConfigFromEnv({ LLM_GATEWAY_LOGS_DB: "~/logs/gw.db", HOME: "/home/u" }, home).path,
    ).toBe("/home/u/logs/gw.db");
    expect(recorderConfigFromEnv({ LLM_GATEWAY_LOGS_DB: "gw.db" }, home).path).toBe(
      join(process.cwd(), "gw.db"),
    );
  });

  it("reads the limits; 0 means unlimited; nonsense is refused", () => {
    const c = recorderConfigFromEnv(
      { LLM_GATEWAY_LOGS_MAX_AGE_DAYS: "0", LLM_GATEWAY_LOGS_MAX_MB: "1.5" },
      home,
    );
    expect(c.maxAgeDays).toBe(0);
    expect(c.maxBytes).toBe(Math.round(1.5 * 1024 * 1024));
    expect(() => recorderConfigFromEnv({ LLM_GATEWAY_LOGS_MAX_MB: "-1" }, home)).toThrow(
      /LLM_GATEWAY_LOGS_MAX_MB must be a non-negative number/,
    );
    expect(() => recorderConfigFromEnv({ LLM_GATEWAY_LOGS_MAX_AGE_DAYS: "ninety" }, home)).toThrow(
      /LLM_GATEWAY_LOGS_MAX_AGE_DAYS/,
    );
  });

  it("LLM_GATEWAY_PRICES overrides and extends the price table", () => {
    const file = join(dir, "prices.json");
    writeFileSync(
      file,
      JSON.stringify({
        $comment: "USD per million tokens",
        "gpt-6.1-sol": { input: 2, output: 20 },
        "my-model": { input: 1, output: 1, cacheRead: 0.1 },
      }),
    );
    const c = recorderConfigFromEnv({ LLM_GATEWAY_PRICES: file }, home);
    expect(c.prices["gpt-6.1-sol"]).toEqual({ input: 2, output: 20 });
    expect(c.prices["my-model"]).toEqual({ input: 1, output: 1, cacheRead: 0.1 });
    expect(c.prices["gemini-2.5-pro"]).toEqual(DEFAULT_PRICES["gemini-2.5-pro"]);
    writeFileSync(file, JSON.stringify({ "bad-model": { input: "cheap" } }));
    expect(() => recorderConfigFromEnv({ LLM_GATEWAY_PRICES: file }, home)).toThrow(/bad-model/);
    expect(() =>
      recorderConfigFromEnv({ LLM_GATEWAY_PRICES: join(dir, "missing.json") }, home),
    ).toThrow(/LLM_GATEWAY_PRICES: cannot read/);
  });
});

describe("prices", () => {
  it("finds a model by id, case-insensitively, or by the longest known prefix", () => {
    expect(findPrice(DEFAULT_PRICES, "gemini-2.5-flash")).toBe(DEFAULT_PRICES["gemini-2.5-flash"]);
    expect(findPrice(DEFAULT_PRICES, "Gemini-2.5-Flash-Lite")).toBe(
      DEFAULT_PRICES["gemini-2.5-flash-lite"],
    );
    expect(findPrice(DEFAULT_PRICES, "claude-sonnet-4-5-20250929")).toBe(
      DEFAULT_PRICES["claude-sonnet-4-5"],
    );
    expect(findPrice(DEFAULT_PRICES, "gpt-6.1-solar")).toBeUndefined();
    expect(findPrice(DEFAULT_PRICES, "unknown")).toBeUndefined();
    expect(findPrice(DEFAULT_PRICES, undefined)).toBeUndefined();
  });

  it("counts tokens the way each CLI reports them", () => {
    const usage = { inputTokens: 1_000_000, outputTokens: 1_000_000, cacheReadTokens: 400_000 };
    // codex: input includes the cached tokens; reasoning is part of output.
    expect(
      estimateCost(DEFAULT_PRICES, "codex", "gpt-6.1-sol", { ...usage, reasoningTokens: 5 }),
    ).toBe(0.6 * 1.25 + 10 + 0.4 * 0.125);
    // gemini: input includes cached tokens; thoughts are billed as output on top.
    expect(
      estimateCost(DEFAULT_PRICES, "gemini", "gemini-2.5-pro", {
        ...usage,
        reasoningTokens: 1_000_000,
      }),
    ).toBe(0.6 * 1.25 + 2 * 10 + 0.4 * 0.125);
    // claude: input excludes cache reads and writes.
    expect(
      estimateCost(DEFAULT_PRICES, "claude", "claude-sonnet-5-5", {
        ...usage,
        cacheWriteTokens: 1_000_000,
      }),
    ).toBe(3 + 15 + 0.4 * 0.3 + 3.75);
    expect(estimateCost(DEFAULT_PRICES, "codex", "no-such-model", usage)).toBeUndefined();
    expect(estimateCost(DEFAULT_PRICES, "codex", "gpt-6.1-sol", {})).toBeUndefined();
  });
});

describe("Recorder on SQLite", () => {
  it("a disabled recorder does nothing and creates no file", () => {
    const config = recorderConfigFromEnv({ LLM_GATEWAY_LOGS_DB: "none" }, join(dir, "home"));
    const r = Recorder.fromConfig(config);
    expect(r.enabled).toBe(false);
    const id = r.start(call());
    expect(id).toBe(0);
    expect(r.finish(id, { responseText: "x" })).toBe(false);
    expect(r.rejected(call(), { category: "invalid_input", message: "no" })).toBe(0);
    expect(r.markInterrupted()).toBe(0);
    expect(r.prune().deletedByAge).toBe(0);
    r.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("creates the file owner-only, in WAL mode, with incremental auto-vacuum", () => {
    opened.push(Recorder.open(path, { maintenance: false }));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const db = new Database(path, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("auto_vacuum", { simple: true })).toBe(2);
    db.close();
  });
});

describe.each(BACKENDS)("Recorder (%s)", (backend) => {
  let db: RecordDb;
  beforeEach(async () => {
    db = await recordDb(backend, path);
  });
  afterEach(() => {
    for (const r of opened.splice(0)) r.close();
    db.close();
  });

  function open(options: RecorderOptions = {}): Recorder {
    const r = Recorder.open(db.where, { maintenance: false, onError: () => {}, ...options });
    opened.push(r);
    return r;
  }
  const rows = (sql?: string) => db.rows(sql);

  it("start writes a started row; finish completes it with every outcome field", () => {
    const r = open();
    const id = r.start(
      call({
        gatewaySessionId: "gw-1",
        jobId: "job-1",
        originalPrompt: "Please review src/main.ts thoroughly",
        breakerState: "closed",
        optimization: { promptCharsBefore: 36, promptCharsAfter: 18 },
      }),
    );
    expect(id).toBeGreaterThan(0);
    let [row] = rows();
    expect(row).toMatchObject({
      id,
      status: "started",
      correlation_id: "corr-1",
      cli: "codex",
      model: "gpt-6.1-sol",
      prompt: "Review src/main.ts",
      prompt_chars: 18,
      original_prompt: "Please review src/main.ts thoroughly",
      gateway_session_id: "gw-1",
      job_id: "job-1",
      breaker_state: "closed",
      cwd: "/work/project",
      ended_at: null,
      instance_id: r.instance,
    });
    expect(JSON.parse(row!.optimization)).toEqual({ promptCharsBefore: 36, promptCharsAfter: 18 });

    expect(
      r.finish(id, {
        responseText: "Looks good.",
        model: "gpt-6.1-sol-2026",
        nativeSessionId: "thread-9",
        exitCode: 0,
        durationMs: 1234,
        usage: {
          inputTokens: 1000,
          outputTokens: 200,
          cacheReadTokens: 600,
          cacheWriteTokens: 0,
          reasoningTokens: 50,
        },
        retryCount: 1,
        breakerState: "half_open",
        approvalDecision: { decision: "approved", policy: "balanced" },
        thinking: ["First, read the file.", "Then check the types."],
      }),
    ).toBe(true);
    [row] = rows();
    expect(row).toMatchObject({
      status: "completed",
      response: "Looks good.",
      response_chars: 11,
      model: "gpt-6.1-sol-2026",
      native_session_id: "thread-9",
      gateway_session_id: "gw-1",
      exit_code: 0,
      duration_ms: 1234,
      input_tokens: 1000,
      output_tokens: 200,
      cache_read_tokens: 600,
      cache_write_tokens: 0,
      reasoning_tokens: 50,
      retry_count: 1,
      breaker_state: "half_open",
      error_category: null,
      cost_estimated: 1,
    });
    expect(row!.ended_at >= row!.started_at).toBe(true);
    expect(row!.cost_usd).toBeCloseTo((400 * 1.25 + 200 * 10 + 600 * 0.125) / 1e6, 10);
    expect(JSON.parse(row!.thinking)).toEqual(["First, read the file.", "Then check the types."]);
    expect(JSON.parse(row!.approval_decision)).toEqual({
      decision: "approved",
      policy: "balanced",
    });
    expect(JSON.parse(row!.optimization)).toEqual({ promptCharsBefore: 36, promptCharsAfter: 18 });
  });

  it("keeps a reported cost as it is, and estimates none for an unknown model", () => {
    const r = open();
    const a = r.start(call({ cli: "claude", model: "claude-sonnet-5-5" }));
    r.finish(a, { responseText: "a", costUsd: 0.0123, usage: { inputTokens: 5 } });
    const b = r.start(call({ model: "some-future-model" }));
    r.finish(b, { responseText: "b", usage: { inputTokens: 5, outputTokens: 5 } });
    const c = r.start(call({ model: null }));
    r.finish(c, { responseText: "c", usage: {} });
    expect(rows().map((x) => [x.cost_usd, x.cost_estimated])).toEqual([
      [0.0123, 0],
      [null, 0],
      [null, 0],
    ]);
  });

  it("derives the end status from the outcome", () => {
    const r = open();
    const ids = [r.start(call()), r.start(call()), r.start(call()), r.start(call())];
    r.finish(ids[0]!, { responseText: "ok" });
    r.finish(ids[1]!, { errorCategory: "rate_limited", errorMessage: "429 Too Many Requests" });
    r.finish(ids[2]!, { errorCategory: "canceled", errorMessage: "The request was canceled" });
    r.finish(ids[3]!, { status: "interrupted", errorMessage: "gateway stopped" });
    expect(rows().map((x) => [x.status, x.error_category])).toEqual([
      ["completed", null],
      ["failed", "rate_limited"],
      ["canceled", "canceled"],
      ["interrupted", null],
    ]);
  });

  it("finish completes a row once; unknown ids and rows already ended are left alone", () => {
    const r = open();
    const id = r.start(call());
    expect(r.finish(id, { responseText: "first" })).toBe(true);
    expect(r.finish(id, { responseText: "second" })).toBe(false);
    expect(r.finish(9999, { responseText: "x" })).toBe(false);
    expect(r.finish(0, { responseText: "x" })).toBe(false);
    expect(rows().map((x) => x.response)).toEqual(["first"]);
  });

  it("finish works for a row started by another Recorder (another process)", () => {
    const a = open();
    const b = open();
    const id = a.start(call({ cli: "gemini", model: "gemini-2.5-flash" }));
    expect(
      b.finish(id, { responseText: "done", usage: { inputTokens: 10, outputTokens: 10 } }),
    ).toBe(true);
    const [row] = rows();
    expect(row).toMatchObject({ status: "completed", cost_estimated: 1 });
    expect(row!.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it("rejected writes one ended row with the error", () => {
    const r = open();
    const id = r.rejected(call({ prompt: "x" }), {
      category: "invalid_input",
      message: "cwd: /nope does not exist",
    });
    expect(id).toBeGreaterThan(0);
    const all = rows();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({
      status: "rejected",
      error_category: "invalid_input",
      error_message: "cwd: /nope does not exist",
      duration_ms: 0,
      cost_usd: null,
    });
    expect(all[0]!.ended_at).toBe(all[0]!.started_at);
  });

  it("redacts every text column before writing", () => {
    const key = `sk-ant-api03-${"x1Y2z3".repeat(10)}`;
    const r = open();
    const id = r.start(
      call({
        prompt: `use ${key}`,
        originalPrompt: `please use ${key}`,
        cwd: "/home/u/project",
        approvalDecision: { note: `password: hunter22` },
      }),
    );
    r.finish(id, {
      responseText: "Authorization: Bearer abcdefghijklmnop123456",
      errorMessage: "connect postgres://app:s3cr3t@db/prod failed",
      errorCategory: "cli_error",
      thinking: [`the key ${key} looks valid`],
      optimization: { sample: `token=${key}` },
    });
    r.rejected(call({ prompt: `again ${key}` }), { category: "invalid_input", message: key });
    r.flushIndex();
    const text = JSON.stringify(rows());
    expect(text).not.toContain(key);
    expect(text).not.toContain("hunter22");
    expect(text).not.toContain("abcdefghijklmnop123456");
    expect(text).not.toContain("s3cr3t");
    expect(text).toContain("[REDACTED:anthropic-key]");
    // The full-text index holds the redacted text only.
    expect(db.match("x1Y2z3")).toEqual([]);
    expect(db.match("REDACTED")).toHaveLength(2);
  });

  it("cuts very long texts and says so", () => {
    const r = open({ maxTextChars: 100 });
    const id = r.start(call({ prompt: "p".repeat(250) }));
    r.finish(id, { responseText: "r".repeat(1000) });
    const [row] = rows();
    expect(row!.prompt).toBe(`${"p".repeat(100)}\n[… 150 more characters not recorded]`);
    expect(row!.prompt_chars).toBe(250);
    expect(row!.response_chars).toBe(1000);
    expect(row!.response.startsWith("r".repeat(100))).toBe(true);
  });

  it("records a response given by its start and its whole length (a large reply)", () => {
    const r = open({ maxTextChars: 100 });
    const id = r.start(call());
    r.finish(id, { responseText: "r".repeat(101), responseChars: 5000 });
    const [row] = rows();
    expect(row!.response).toBe(`${"r".repeat(100)}\n[… 4900 more characters not recorded]`);
    expect(row!.response_chars).toBe(5000);
  });

  it("a failed write is reported, never thrown", () => {
    const errors: unknown[] = [];
    const r = open({ onError: (e) => errors.push(e) });
    db.run(backend === "postgres" ? "DROP TABLE calls CASCADE" : "DROP TABLE calls");
    expect(r.start(call())).toBe(0);
    expect(r.rejected(call(), { category: "invalid_input", message: "x" })).toBe(0);
    expect(errors.length).toBe(2);
  });

  it("close marks this process's running calls interrupted; later calls do nothing", () => {
    const r = open();
    const running = r.start(call({ correlationId: "running" }));
    const done = r.start(call({ correlationId: "done" }));
    r.finish(done, { responseText: "ok" });
    r.close();
    expect(r.enabled).toBe(false);
    expect(r.finish(running, { responseText: "late" })).toBe(false);
    expect(r.start(call())).toBe(0);
    expect(rows().map((x) => [x.correlation_id, x.status, x.error_message])).toEqual([
      ["running", "interrupted", "The gateway shut down before the call finished"],
      ["done", "completed", null],
    ]);
  });
});

describe.each(BACKENDS)("markInterrupted (%s)", (backend) => {
  let db: RecordDb;
  beforeEach(async () => {
    db = await recordDb(backend, path);
  });
  afterEach(() => {
    for (const r of opened.splice(0)) r.close();
    db.close();
  });
  function open(options: RecorderOptions = {}): Recorder {
    const r = Recorder.open(db.where, { maintenance: false, onError: () => {}, ...options });
    opened.push(r);
    return r;
  }
  const rows = (sql?: string) => db.rows(sql);

  function deadPid(): number {
    const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
    return Number(child.stdout.toString());
  }

  /** A started row owned by a fake gateway instance. */
  function startedRowOf(pid: number, processStart: string | null, host?: string): string {
    const r = open();
    const id = r.start(call({ correlationId: `pid-${pid}-${processStart}` }));
    const instance = `fake-${pid}-${processStart}-${host ?? "here"}`;
    db.run(
      `INSERT INTO instances (id, pid, process_start, hostname, started_at) VALUES (?, ?, ?, coalesce(?, (SELECT hostname FROM instances LIMIT 1)), ?)`,
      instance,
      pid,
      processStart,
      host ?? null,
      new Date().toISOString(),
    );
    db.run(`UPDATE calls SET instance_id = ? WHERE id = ?`, instance, id);
    return `pid-${pid}-${processStart}`;
  }

  it.runIf(backend === "sqlite")(
    "SQLite: marks the rows of gateway processes that are gone, and only those",
    async () => {
      const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
      try {
        await new Promise((resolve) => sleeper.once("spawn", resolve));
        const { processStartTime } = await import("../../src/process/liveness.js");
        const sleeperStart = processStartTime(sleeper.pid!) ?? null;

        const dead = startedRowOf(deadPid(), null);
        const reused = startedRowOf(sleeper.pid!, "1"); // that pid now belongs to another process
        const alive = startedRowOf(sleeper.pid!, sleeperStart);
        const remote = startedRowOf(deadPid(), null, "another-host");

        // A second gateway in this very process (same pid, live): its running call must survive.
        const live = open();
        const liveId = live.start(call({ correlationId: "live-same-process" }));

        const fresh = open();
        expect(fresh.markInterrupted()).toBe(2);
        const status = Object.fromEntries(rows().map((x) => [x.correlation_id, x.status]));
        expect(status[dead]).toBe("interrupted");
        expect(status[reused]).toBe("interrupted");
        expect(status[alive]).toBe("started");
        expect(status[remote]).toBe("started");
        expect(status["live-same-process"]).toBe("started");
        const marked = rows(`SELECT * FROM calls WHERE status = 'interrupted'`);
        expect(marked[0]!.error_message).toMatch(/ended before the call finished/);
        expect(marked[0]!.ended_at).not.toBeNull();
        expect(live.finish(liveId, { responseText: "still mine" })).toBe(true);
      } finally {
        sleeper.kill("SIGKILL");
      }
    },
  );

  it.runIf(backend === "postgres")(
    "PostgreSQL: an instance is gone when its lease lapses, never by its pid",
    () => {
      const r = open();
      const now = new Date().toISOString();
      const plant = (name: string, pid: number, leaseUntil: number | null) => {
        const id = r.start(call({ correlationId: name }));
        db.run(
          `INSERT INTO instances (id, pid, process_start, hostname, started_at, lease_until) VALUES (?, ?, NULL, ?, ?, ?)`,
          `inst-${name}`,
          pid,
          hostname(),
          now,
          leaseUntil,
        );
        db.run(`UPDATE calls SET instance_id = ? WHERE id = ?`, `inst-${name}`, id);
      };
      plant("lapsed-but-pid-alive", process.pid, Date.now() - 1000);
      plant("leased-but-pid-dead", deadPid(), Date.now() + 60_000);
      plant("copied-without-lease", deadPid(), null);
      const orphan = r.start(call({ correlationId: "no-instance-row" }));
      db.run(`UPDATE calls SET instance_id = 'nobody' WHERE id = ?`, orphan);
      r.start(call({ correlationId: "mine" }));

      expect(open().markInterrupted()).toBe(3);
      const status = Object.fromEntries(rows().map((x) => [x.correlation_id, x.status]));
      expect(status).toEqual({
        "lapsed-but-pid-alive": "interrupted",
        "leased-but-pid-dead": "started",
        "copied-without-lease": "interrupted",
        "no-instance-row": "interrupted",
        mine: "started",
      });
    },
  );

  it.runIf(backend === "postgres")(
    "PostgreSQL: the heartbeat renews the lease and sweeps lapsed ones",
    async () => {
      const r = open({ leaseMs: 300 });
      const mine = r.start(call({ correlationId: "mine" }));
      db.run(`UPDATE instances SET lease_until = 1 WHERE id = ?`, r.instance);
      const other = open({ leaseMs: 300 });
      const theirs = other.start(call({ correlationId: "theirs" }));
      // "other" dies without a word: its heartbeat stops, its lease runs out.
      (other as unknown as { instances: { stop(): void } }).instances.stop();
      await new Promise((resolve) => setTimeout(resolve, 900));
      const status = Object.fromEntries(rows().map((x) => [x.id, x.status]));
      expect(status).toEqual({ [mine]: "started", [theirs]: "interrupted" });
      expect(r.finish(mine, { responseText: "still mine" })).toBe(true);
    },
  );

  it("open() runs it by default", () => {
    const r = open();
    r.start(call({ correlationId: "orphan" }));
    // Gone: on SQLite its pid has ended, on PostgreSQL its lease has lapsed.
    db.run(
      `UPDATE instances SET pid = ?, process_start = NULL${backend === "postgres" ? ", lease_until = 1" : ""}`,
      Number(deadPid()),
    );
    const next = Recorder.open(db.where, { onError: () => {} });
    opened.push(next);
    expect(rows()[0]!.status).toBe("interrupted");
  });
});

describe.each(BACKENDS)("retention (%s)", (backend) => {
  let db: RecordDb;
  beforeEach(async () => {
    db = await recordDb(backend, path);
  });
  afterEach(() => {
    for (const r of opened.splice(0)) r.close();
    db.close();
  });
  function open(options: RecorderOptions = {}): Recorder {
    const r = Recorder.open(db.where, { maintenance: false, onError: () => {}, ...options });
    opened.push(r);
    return r;
  }
  const rows = (sql?: string) => db.rows(sql);

  const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();

  it("prunes rows older than maxAgeDays, and their usage totals; 0 keeps everything", () => {
    const keep = open({ maxAgeDays: 0, maxBytes: 0 });
    for (const d of [120, 100, 80, 1]) {
      const id = keep.start(call({ correlationId: `d${d}`, startedAt: daysAgo(d) }));
      keep.finish(id, { responseText: `answer ${d}` });
    }
    expect(keep.prune().deletedByAge).toBe(0);
    keep.flushIndex();
    const r = open({ maxAgeDays: 90, maxBytes: 0 });
    const result = r.prune();
    expect(result.deletedByAge).toBe(2);
    expect(rows().map((x) => x.correlation_id)).toEqual(["d80", "d1"]);
    expect(rows(`SELECT day FROM usage_daily ORDER BY day`).map((x) => x.day)).toEqual([
      daysAgo(80).slice(0, 10),
      daysAgo(1).slice(0, 10),
    ]);
    expect(db.match("answer")).toHaveLength(2);
  });

  it("prunes the oldest rows to stay under maxBytes, keeps running calls, shrinks the file", () => {
    const big = open({ maxAgeDays: 0, maxBytes: 0 });
    const running = big.start(call({ correlationId: "running-oldest" }));
    const words = (i: number) =>
      Array.from({ length: 1500 }, (_, k) => `w${(i * 31 + k * 7) % 5000}`).join(" ");
    for (let i = 0; i < 400; i++) {
      const id = big.start(call({ correlationId: `c${i}`, prompt: words(i) }));
      big.finish(id, { responseText: words(i + 1) });
    }
    big.flushIndex();
    const before = big.usedBytes();
    // SQLite: the file's pages; PostgreSQL: the rows' bytes.
    expect(before).toBeGreaterThan(backend === "sqlite" ? 8 * 1024 * 1024 : 4 * 1024 * 1024);
    const limit = Math.round(before * 0.35);
    const r = open({ maxAgeDays: 0, maxBytes: limit });
    const result = r.prune();
    expect(result.deletedBySize).toBeGreaterThan(200);
    expect(result.bytesAfter).toBeLessThan(limit);
    const left = rows(`SELECT correlation_id FROM calls ORDER BY id`).map((x) => x.correlation_id);
    expect(left[0]).toBe("running-oldest");
    expect(left.at(-1)).toBe("c399");
    expect(left.length).toBeLessThan(200);
    expect(big.finish(running, { responseText: "done" })).toBe(true);
    // A second pass finds nothing more to do (PostgreSQL's tables keep their size: the count is
    // of the rows, so pruning does not go on and on).
    expect(r.prune()).toMatchObject({ deletedBySize: 0, deletedByAge: 0 });
    big.flushIndex();
    // usage_daily keeps the totals of calls pruned for size.
    expect(rows(`SELECT sum(calls) AS n FROM usage_daily`)).toEqual([{ n: 401 }]);
    if (backend !== "sqlite") return;
    for (const x of opened.splice(0)) x.close();
    expect(statSync(path).size).toBeLessThan(before / 2);
    const file = new Database(path);
    expect(file.pragma("integrity_check", { simple: true })).toBe("ok");
    file.prepare(`INSERT INTO calls_fts (calls_fts) VALUES ('integrity-check')`).run();
    file.close();
  });

  it("checks retention in the background every pruneEvery calls", async () => {
    const r = open({ maxAgeDays: 30, maxBytes: 0, pruneEvery: 5 });
    for (let i = 0; i < 4; i++) r.start(call({ correlationId: `old${i}`, startedAt: daysAgo(40) }));
    expect(rows()).toHaveLength(4);
    r.start(call({ correlationId: "new" })); // the 5th call schedules a prune
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(rows().map((x) => x.correlation_id)).toEqual(["new"]);
  });
});

describe.each(BACKENDS)("views and full-text search (%s)", (backend) => {
  let db: RecordDb;
  beforeEach(async () => {
    db = await recordDb(backend, path);
  });
  afterEach(() => {
    for (const r of opened.splice(0)) r.close();
    db.close();
  });
  function open(options: RecorderOptions = {}): Recorder {
    const r = Recorder.open(db.where, { maintenance: false, onError: () => {}, ...options });
    opened.push(r);
    return r;
  }
  const rows = (sql?: string) => db.rows(sql);

  it("answer usage, error and latency questions", () => {
    const r = open();
    const today = new Date().toISOString().slice(0, 10);
    const run = (over: Partial<CallStart>, outcome: Parameters<Recorder["finish"]>[1]) =>
      r.finish(r.start(call(over)), outcome);
    run(
      { cli: "claude", model: "claude-sonnet-5-5" },
      {
        responseText: "a",
        costUsd: 0.5,
        durationMs: 100,
        usage: { inputTokens: 10, outputTokens: 20 },
      },
    );
    run(
      { cli: "claude", model: "claude-sonnet-5-5" },
      { errorCategory: "rate_limited", errorMessage: "429", durationMs: 300 },
    );
    run(
      { cli: "codex" },
      { responseText: "b", durationMs: 5000, usage: { inputTokens: 1_000_000, outputTokens: 0 } },
    );
    r.rejected(call({ cli: "gemini", model: null }), {
      category: "invalid_input",
      message: "bad cwd",
    });
    r.start(call({ cli: "gemini", model: null })); // still running: not counted yet

    expect(rows(`SELECT * FROM usage_by_day ORDER BY cli`)).toEqual([
      expect.objectContaining({
        day: today,
        cli: "claude",
        model: "claude-sonnet-5-5",
        calls: 2,
        completed: 1,
        failed: 1,
        input_tokens: 10,
        output_tokens: 20,
        cost_usd: 0.5,
        estimated_cost_calls: 0,
        avg_duration_ms: 200,
        max_duration_ms: 300,
      }),
      expect.objectContaining({
        cli: "codex",
        model: "gpt-6.1-sol",
        calls: 1,
        completed: 1,
        cost_usd: 1.25,
        estimated_cost_calls: 1,
      }),
      expect.objectContaining({ cli: "gemini", model: null, calls: 1, rejected: 1, completed: 0 }),
    ]);
    expect(
      rows(`SELECT cli, model, calls, failed, failure_rate FROM error_rates ORDER BY cli`),
    ).toEqual([
      { cli: "claude", model: "claude-sonnet-5-5", calls: 2, failed: 1, failure_rate: 0.5 },
      { cli: "codex", model: "gpt-6.1-sol", calls: 1, failed: 0, failure_rate: 0 },
      { cli: "gemini", model: null, calls: 1, failed: 0, failure_rate: null },
    ]);
    expect(
      rows(`SELECT cli, category, errors, last_message FROM errors_by_category ORDER BY cli`),
    ).toEqual([
      { cli: "claude", category: "rate_limited", errors: 1, last_message: "429" },
      { cli: "gemini", category: "invalid_input", errors: 1, last_message: "bad cwd" },
    ]);
    expect(rows(`SELECT duration_ms FROM slowest_calls LIMIT 2`).map((x) => x.duration_ms)).toEqual(
      [5000, 300],
    );
    expect(rows(`SELECT status FROM recent_calls LIMIT 1`)).toEqual([{ status: "started" }]);
  });

  it("indexes a call for search once it ends, and keeps the index in step", async () => {
    const r = open({ maxAgeDays: 1 });
    const match = (q: string) => db.match(q);
    const integrity = () => {
      if (backend !== "sqlite") return;
      const file = new Database(path);
      file.prepare(`INSERT INTO calls_fts (calls_fts) VALUES ('integrity-check')`).run();
      file.close();
    };
    const id = r.start(call({ prompt: "refactor the tokenizer module" }));
    r.flushIndex();
    expect(match("tokenizer")).toEqual([]);
    r.finish(id, { responseText: "Renamed parseChunk to splitChunk" });
    expect(rows(`SELECT id FROM fts_pending`)).toEqual([{ id }]);
    expect(r.flushIndex()).toBe(1);
    expect(rows(`SELECT id FROM fts_pending`)).toEqual([]);
    expect(match("splitChunk")).toEqual([id]);
    expect(match("tokenizer")).toEqual([id]);
    const old = r.start(
      call({ prompt: "ancient tokenizer", startedAt: new Date(Date.now() - 3 * 86_400_000) }),
    );
    r.finish(old, { responseText: "old answer" });
    r.flushIndex();
    expect(match("tokenizer")).toEqual([id, old]);
    r.prune();
    expect(match("tokenizer")).toEqual([id]);
    expect(match("ancient")).toEqual([]);
    integrity();

    // A rebuild (sqlite-utils rebuild-fts) while a call runs indexes that call too: finishing
    // and pruning it must still leave a consistent index.
    const running = r.start(call({ prompt: "rebuild while running" }));
    if (backend === "sqlite") {
      const file = new Database(path);
      file.prepare(`INSERT INTO calls_fts (calls_fts) VALUES ('rebuild')`).run();
      file.close();
      expect(match("running")).toEqual([running]);
    }
    r.finish(running, { responseText: "finished after the rebuild" });
    r.flushIndex();
    expect(match("running")).toEqual([running]);
    expect(match("finished")).toEqual([running]);
    integrity();
    const interrupted = r.start(call({ prompt: "cut short" }));
    r.close(); // marks it interrupted and indexes what is pending
    expect(match("short")).toEqual([interrupted]);
    integrity();

    // In a running gateway the index catches up on its own, shortly after a call ends.
    const bg = open();
    bg.finish(bg.start(call({ prompt: "background indexing" })), { responseText: "soon" });
    expect(match("background")).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(match("background")).toHaveLength(1);
  });
});
