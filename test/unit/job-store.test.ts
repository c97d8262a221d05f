import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/db.js";
import { SqliteDb, type SqlDb } from "../../src/store/sql.js";
import { JOB_MIGRATIONS, JobStore } from "../../src/store/jobs.js";
import { OutputDecoder } from "../../src/store/output-decoder.js";
import { GATEWAY_MIGRATIONS } from "../../src/store/schema.js";
import { SESSION_MIGRATIONS } from "../../src/store/sessions.js";
import { BACKENDS } from "../helpers/postgres.js";
import { openTestStore } from "../helpers/store-db.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const dbPath = () => {
  const dir = mkdtempSync(join(tmpdir(), "llm-gateway-jobstore-"));
  dirs.push(dir);
  return join(dir, "gateway.db");
};
const job = (id: string) => ({
  id,
  cli: "codex" as const,
  kind: "async" as const,
  correlationId: id,
  owner: "me",
});

describe("JobStore output on gateway.db (SQLite migrations)", () => {
  it("keeps the output stored before the job_output table was rebuilt as a rowid table", () => {
    const path = dbPath();
    // Every migration before the rebuild (the last of JOB_MIGRATIONS).
    const old = openDatabase(path, [...SESSION_MIGRATIONS, ...JOB_MIGRATIONS.slice(0, -1)]);
    old
      .prepare(
        `INSERT INTO jobs (id, cli, kind, status, correlation_id, owner, created_at) VALUES ('j', 'codex', 'async', 'running', 'c', 'me', '2026-11-30T00:00:00Z')`,
      )
      .run();
    old
      .prepare(
        `INSERT INTO job_output VALUES ('j', 'stdout', 0, 5, 'hello'), ('j', 'stdout', 5, 11, ' world')`,
      )
      .run();
    old.close();

    const store = new JobStore(new SqliteDb(openDatabase(path, GATEWAY_MIGRATIONS)));
    expect(store.readOutput("j", "stdout", 0, 100)).toBe("hello world");
    expect(store.readOutput("j", "stdout", 3, 4)).toBe("lo w");
  });
});

describe.each(BACKENDS)("JobStore on %s", (backend) => {
  let store: JobStore;
  let db: SqlDb;
  beforeEach(async () => {
    db = await openTestStore(backend);
    store = new JobStore(db);
  });

  it("appends chunks in one transaction and drops those of jobs deleted meanwhile", () => {
    store.insert(job("a"));
    store.appendOutput([
      { jobId: "a", stream: "stdout", start: 0, text: "one " },
      { jobId: "gone", stream: "stdout", start: 0, text: "lost" },
      { jobId: "a", stream: "stdout", start: 4, text: "two" },
      { jobId: "a", stream: "stderr", start: 0, text: "err" },
    ]);
    expect(store.readOutput("a", "stdout", 0, 100)).toBe("one two");
    expect(store.get("a")).toMatchObject({ stdoutChars: 7, stderrChars: 3 });
    expect(store.get("gone")).toBeUndefined();
  });

  it("pages output across chunks by offset and maxChars; NUL and astral characters keep their offsets", () => {
    store.insert(job("p"));
    const parts = ["0123456789", "ab\0cd🦀ef", "xyz"];
    let start = 0;
    store.appendOutput(
      parts.map((text) => {
        const chunk = { jobId: "p", stream: "stdout" as const, start, text };
        start += text.length;
        return chunk;
      }),
    );
    const whole = parts.join("").replace("\0", backend === "postgres" ? "\uFFFD" : "\0");
    expect(store.readOutput("p", "stdout", 0, 1000)).toBe(whole);
    for (const [offset, max] of [
      [0, 5],
      [8, 6],
      [10, 3],
      [15, 4],
      [19, 10],
      [22, 5],
    ] as const)
      expect(store.readOutput("p", "stdout", offset, max), `${offset}+${max}`).toBe(
        whole.slice(offset, offset + max),
      );
    expect(store.get("p")!.stdoutChars).toBe(whole.length);
  });

  it("finishes a job once, with its result and error; lists newest first, ties in insertion order", () => {
    for (const id of ["j1", "j2", "j3"]) store.insert(job(id));
    db.prepare(`UPDATE jobs SET created_at = '2026-12-01T00:00:00.000Z'`).run(); // one millisecond
    expect(store.list(10).map((j) => j.id)).toEqual(["j3", "j2", "j1"]);
    store.markRunning("j1");
    expect(store.get("j1")!.status).toBe("running");
    expect(store.finish("j1", "completed", { result: { text: "done", n: 2 } })).toBe(true);
    expect(store.finish("j1", "failed")).toBe(false); // already ended
    expect(store.get("j1")).toMatchObject({ status: "completed", cancelRequested: false });
    expect(JSON.parse(store.get("j1")!.result!)).toEqual({ text: "done", n: 2 });
    store.finish("j2", "failed", { error: { category: "timeout", message: "too slow" } });
    expect(store.get("j2")).toMatchObject({
      status: "failed",
      errorCategory: "timeout",
      errorMessage: "too slow",
    });
  });

  it("children oldest first; prunes ended jobs before the cutoff with their output", () => {
    store.insert({ ...job("parent"), cli: "consult" as never });
    store.insert({ ...job("c1"), parentId: "parent" });
    store.insert({ ...job("c2"), parentId: "parent" });
    expect(store.children("parent").map((j) => j.id)).toEqual(["c1", "c2"]);
    store.appendOutput([{ jobId: "c1", stream: "stdout", start: 0, text: "old output" }]);
    store.finish("c1", "completed");
    expect(store.pruneEndedBefore("2000-01-01T00:00:00Z")).toBe(0);
    expect(store.pruneEndedBefore(new Date(Date.now() + 1000).toISOString())).toBe(1);
    expect(store.get("c1")).toBeUndefined();
    expect(store.readOutput("c1", "stdout", 0, 100)).toBe("");
    expect((db.prepare(`SELECT count(*) AS n FROM job_output`).get() as { n: number }).n).toBe(0);
    expect(store.get("c2")!.status).toBe("queued");
  });
});

describe("OutputDecoder", () => {
  it("decodes UTF-8 split across chunks and places each chunk at its UTF-16 offset", () => {
    // Whole lines are stored (redacted a line at a time); the rest at the end.
    const bytes = Buffer.from("a\n🦀é\nb");
    const decoder = new OutputDecoder();
    const chunks = [
      ...decoder.decode("j", "stdout", bytes.subarray(0, 4)), // "a\n" and half the crab
      ...decoder.decode("j", "stdout", bytes.subarray(4, 9)),
      ...decoder.decode("j", "stderr", Buffer.from("e\n")),
      ...decoder.decode("j", "stdout", bytes.subarray(9)),
      ...decoder.end("j"),
    ];
    expect(chunks.filter(Boolean)).toEqual([
      { jobId: "j", stream: "stdout", start: 0, text: "a\n" },
      { jobId: "j", stream: "stdout", start: 2, text: "🦀é\n" },
      { jobId: "j", stream: "stderr", start: 0, text: "e\n" },
      { jobId: "j", stream: "stdout", start: 6, text: "b" },
    ]);
  });

  it("flushes an incomplete character at the end", () => {
    const decoder = new OutputDecoder();
    decoder.decode("j", "stdout", Buffer.from([0x61, 0x0a, 0xf0, 0x9f]));
    expect(decoder.end("j")).toEqual([{ jobId: "j", stream: "stdout", start: 2, text: "\ufffd" }]);
  });
});
