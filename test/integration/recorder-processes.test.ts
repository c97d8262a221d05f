import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { BACKENDS } from "../helpers/postgres.js";
import { recordDb } from "../helpers/recorder-db.js";

// Child processes need JavaScript: the recorder and what it imports are compiled on their own into
// a temporary directory (so this test does not depend on the rest of the tree building), next to
// a node_modules link so that better-sqlite3 resolves.
const ROOT = resolve(import.meta.dirname, "../..");
let work: string;
let recorderModule: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "llm-gateway-recorder-procs-"));
  symlinkSync(join(ROOT, "node_modules"), join(work, "node_modules"), "dir");
  execFileSync(
    process.execPath,
    [
      join(ROOT, "node_modules", "typescript", "bin", "tsc"),
      "--outDir",
      join(work, "out"),
      "--rootDir",
      join(ROOT, "src"),
      "--module",
      "NodeNext",
      "--moduleResolution",
      "NodeNext",
      "--target",
      "ES2023",
      "--strict",
      "--skipLibCheck",
      "--types",
      "node",
      join(ROOT, "src", "recorder", "writer.ts"),
    ],
    { stdio: "pipe" },
  );
  recorderModule = join(work, "out", "recorder", "writer.js");
  writeFileSync(
    join(work, "next.mjs"),
    `import { Recorder } from ${JSON.stringify(recorderModule)};
const [p] = process.argv.slice(2);
Recorder.open(p.startsWith("{") ? JSON.parse(p) : p).close();
`,
  );
  writeFileSync(
    join(work, "writer.mjs"),
    `
import { Recorder } from ${JSON.stringify(recorderModule)};
const [path, name, count, mode] = process.argv.slice(2);
// A logs.db path, or a PostgreSQL location as JSON; LEASE_MS: the PostgreSQL lease.
const where = path.startsWith("{") ? JSON.parse(path) : path;
const recorder = Recorder.open(where, { leaseMs: Number(process.env.LEASE_MS) || undefined, onError: (e) => { console.error("recorder error", e); process.exitCode = 1; } });
const prompt = "Review the diff below and list every bug. ".repeat(40);
const response = "1. The loop is off by one. 2. The error is swallowed. ".repeat(120);
if (mode === "hold") {
  // Start calls, report them, and finish them only when stdin closes (a gateway mid-request).
  const ids = [];
  for (let i = 0; i < Number(count); i++) ids.push(recorder.start({ correlationId: name + "-" + i, cli: "claude", prompt }));
  process.stdout.write("ready\\n");
  process.stdin.resume();
  process.stdin.on("end", () => {
    for (const id of ids) recorder.finish(id, { responseText: "finished late" });
    recorder.close();
  });
} else if (mode === "crash") {
  for (let i = 0; i < Number(count); i++) recorder.start({ correlationId: name + "-" + i, cli: "codex", prompt });
  // One call ends just before the crash, too soon for the background indexer to see it.
  const id = recorder.start({ correlationId: name + "-ended", cli: "codex", prompt: "ended before the crash" });
  recorder.finish(id, { responseText: "zanzibar" });
  process.stdout.write("ready\\n");
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000); // killed with SIGKILL by the test
} else {
  for (let i = 0; i < Number(count); i++) {
    const cli = ["claude", "codex", "gemini"][i % 3];
    if (i % 50 === 49) {
      recorder.rejected({ correlationId: name + "-" + i, cli, prompt }, { category: "invalid_input", message: "bad cwd" });
      continue;
    }
    const id = recorder.start({ correlationId: name + "-" + i, cli, model: cli === "codex" ? "gpt-6.1-sol" : undefined, prompt, cwd: "/tmp" });
    if (!id) throw new Error("start failed");
    const ok = recorder.finish(id, { responseText: response + i, exitCode: 0, usage: { inputTokens: 100, outputTokens: 10 } });
    if (!ok) throw new Error("finish failed for " + id);
  }
  recorder.close();
}
`,
  );
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; done: Promise<number>; ready: Promise<void> } {
  const child = spawn(process.execPath, [join(work, "writer.mjs"), ...args], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  const done = new Promise<number>((res) =>
    child.on("exit", (code, signal) => res(code ?? (signal ? -1 : 0))),
  );
  const ready = new Promise<void>((res) =>
    child.stdout!.on("data", (d: Buffer) => {
      if (d.toString().includes("ready")) res();
    }),
  );
  return { child, done, ready };
}

describe.each(BACKENDS)("on %s", (backend) => {
  const at = (where: string | object) =>
    typeof where === "string" ? where : JSON.stringify(where);

  it("two processes writing 1,000 calls each into one database lose none", async () => {
    const path = join(work, `shared-${backend}`, "logs.db");
    const record = await recordDb(backend, path);
    const a = run([at(record.where), "a", "1000", "normal"]);
    const b = run([at(record.where), "b", "1000", "normal"]);
    expect(await Promise.all([a.done, b.done])).toEqual([0, 0]);

    try {
      const counts = record.rows(
        `SELECT substr(correlation_id, 1, 1) AS p, status, count(*) AS n, count(DISTINCT correlation_id) AS ids
       FROM calls GROUP BY substr(correlation_id, 1, 1), status ORDER BY p, status`,
      );
      expect(counts).toEqual([
        { p: "a", status: "completed", n: 980, ids: 980 },
        { p: "a", status: "rejected", n: 20, ids: 20 },
        { p: "b", status: "completed", n: 980, ids: 980 },
        { p: "b", status: "rejected", n: 20, ids: 20 },
      ]);
      expect(
        record.rows(
          `SELECT count(*) AS n FROM calls WHERE response IS NULL AND status = 'completed'`,
        ),
      ).toEqual([{ n: 0 }]);
      expect(record.rows(`SELECT sum(calls) AS n FROM usage_daily`)).toEqual([{ n: 2000 }]);
      // The writers really overlapped: each one's rows sit among the other's.
      const spanOf = (p: string) =>
        record.rows(
          `SELECT min(id) AS lo, max(id) AS hi FROM calls WHERE correlation_id LIKE ?`,
          `${p}-%`,
        )[0] as { lo: number; hi: number };
      const [ra, rb] = [spanOf("a"), spanOf("b")];
      expect(ra.lo < rb.hi && rb.lo < ra.hi).toBe(true);
      expect(record.rows(`SELECT count(*) AS n FROM instances`)).toEqual([{ n: 2 }]);
      expect(record.match("swallowed")).toHaveLength(1960);
    } finally {
      record.close();
    }
    if (backend !== "sqlite") return;
    const rw = new Database(path);
    expect(rw.pragma("integrity_check", { simple: true })).toBe("ok");
    rw.prepare(`INSERT INTO calls_fts (calls_fts) VALUES ('integrity-check')`).run();
    rw.close();
  }, 120_000);

  it("a crashed gateway's calls become interrupted at the next start; a live one's stay running", async () => {
    const record = await recordDb(backend, join(work, `crash-${backend}`, "logs.db"));
    const path = at(record.where);
    // PostgreSQL judges by lease, not pid: a short one, so that the crashed one's has lapsed when
    // the next gateway starts, while the live one renews its own.
    const lease = { LEASE_MS: "600" };
    const crashed = run([path, "crashed", "3", "crash"], lease);
    await crashed.ready;
    const live = run([path, "live", "2", "hold"], lease);
    onTestFinished(() => void live.child.kill("SIGKILL"));
    await live.ready;
    crashed.child.kill("SIGKILL");
    await crashed.done;
    if (backend === "postgres") await new Promise((resolve) => setTimeout(resolve, 1000));

    // The next gateway to start: a third process.
    const next = spawn(
      process.execPath,
      [
        // A script file, not -e: a worker thread (the PostgreSQL driver's) inherits
        // --input-type=module and would read its CommonJS code as a module.
        join(work, "next.mjs"),
        path,
      ],
      { stdio: "inherit" },
    );
    expect(await new Promise((res) => next.on("exit", res))).toBe(0);

    const statuses = () =>
      record.rows(`SELECT correlation_id AS id, status FROM calls ORDER BY correlation_id`) as {
        id: string;
        status: string;
      }[];
    expect(statuses()).toEqual([
      { id: "crashed-0", status: "interrupted" },
      { id: "crashed-1", status: "interrupted" },
      { id: "crashed-2", status: "interrupted" },
      { id: "crashed-ended", status: "completed" },
      { id: "live-0", status: "started" },
      { id: "live-1", status: "started" },
    ]);

    // The next gateway indexed what the crashed one left pending, and the interrupted calls.
    const found = (q: string) => record.match(q).length;
    expect([found("zanzibar"), found("crash"), found("bug")]).toEqual([1, 1, 3]);

    live.child.stdin!.end();
    expect(await live.done).toBe(0);
    expect(
      statuses()
        .filter((s) => s.id.startsWith("live"))
        .map((s) => s.status),
    ).toEqual(["completed", "completed"]);
    record.close();
  }, 60_000);
});
