import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/db.js";
import { SqliteDb } from "../../src/store/sql.js";
import { JOB_MIGRATIONS, JobStore } from "../../src/store/jobs.js";
import { OutputDecoder } from "../../src/store/output-decoder.js";
import { GATEWAY_MIGRATIONS } from "../../src/store/schema.js";
import { SESSION_MIGRATIONS } from "../../src/store/sessions.js";

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

describe("JobStore output", () => {
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

  it("appends chunks in one transaction and drops those of jobs deleted meanwhile", () => {
    const store = new JobStore(new SqliteDb(openDatabase(dbPath(), GATEWAY_MIGRATIONS)));
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
