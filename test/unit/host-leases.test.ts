import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hostIdFromEnv } from "../../src/host.js";
import { isDeadInstance, needsGatewayAtStart, onThisMachine } from "../../src/jobs/peer-check.js";
import { anySessionFileExists } from "../../src/session-files.js";
import { JobStore } from "../../src/store/jobs.js";
import { openGatewayStore } from "../../src/store/open.js";
import type { SqlDb } from "../../src/store/sql.js";
import { BACKENDS, freshPgDatabase } from "../helpers/postgres.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), "llm-gateway-hosts-"));
  dirs.push(dir);
  return dir;
};

async function open(backend: string): Promise<SqlDb> {
  if (backend === "postgres")
    return openGatewayStore({
      postgres: { url: await freshPgDatabase(), statementTimeoutMs: 5000, connectTimeoutMs: 5000 },
    });
  return openGatewayStore({ sqlite: join(scratch(), "gateway.db") });
}

const host = (id: string, leaseMs: number) => ({
  id,
  pid: process.pid,
  pidStart: null,
  hostname: `machine-${id}`,
  bootId: "boot-1",
  leaseMs,
});
const interrupted = { category: "interrupted", message: "gone" };

describe.each(BACKENDS)("leases in the job store (%s)", (backend) => {
  it("a lease runs out by the database's clock; reaping ends the open jobs once, in one go", async () => {
    const db = await open(backend);
    const store = new JobStore(db);
    store.registerInstance(host("a", 150));
    store.registerInstance(host("b", 60_000));
    store.insert({ id: "j1", cli: "codex", kind: "async", correlationId: "c1", owner: "a" });
    store.insert({ id: "j2", cli: "codex", kind: "async", correlationId: "c2", owner: "b" });
    store.markRunning("j1");
    const a = store.instance("a")!;
    expect(a).toMatchObject({ hostname: "machine-a", bootId: "boot-1", leaseMs: 150 });
    expect(a.expired).toBe(false);
    // Still live: a reap that insists on an expired lease gets nothing.
    expect(store.reapDeadInstance("a", true, interrupted)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(store.instance("a")!.expired).toBe(true);
    expect(store.instance("b")!.expired).toBe(false);
    const ended = store.reapDeadInstance("a", true, interrupted)!;
    expect(ended.map((j) => j.id)).toEqual(["j1"]);
    expect(store.get("j1")).toMatchObject({ status: "interrupted", errorCategory: "interrupted" });
    expect(store.get("j2")!.status).toBe("queued");
    // A second reaper finds nothing left to claim.
    expect(store.reapDeadInstance("a", true, interrupted)).toBeUndefined();
    expect(store.heartbeat("a")).toBe(false);
    expect(store.heartbeat("b")).toBe(true);
    db.close();
  });

  it("a cancel request is found by the job's owner, for its open jobs only", async () => {
    const db = await open(backend);
    const store = new JobStore(db);
    const jobs: [string, string][] = [
      ["x1", "a"],
      ["x2", "a"],
      ["x3", "b"],
    ];
    for (const [id, owner] of jobs)
      store.insert({ id, cli: "claude", kind: "async", correlationId: id, owner });
    store.requestCancel("x1");
    store.requestCancel("x3");
    store.requestCancel("x2");
    store.finish("x2", "completed");
    expect(store.cancelRequestedOf("a")).toEqual(["x1"]);
    expect(store.cancelRequestedOf("b")).toEqual(["x3"]);
    db.close();
  });
});

describe("liveness rules", () => {
  it("on PostgreSQL a dead pid does not make a host dead; on SQLite it does", () => {
    const gone = { pid: 2 ** 22 + 1, pidStart: null, bootId: "boot-1", expired: false };
    expect(isDeadInstance(gone, false)).toBe(false);
    expect(isDeadInstance(gone, true)).toBe(true);
    expect(isDeadInstance({ ...gone, pid: process.pid, expired: true }, false)).toBe(true);
  });

  it("pids are trusted only on the same machine and boot", () => {
    expect(onThisMachine({ bootId: "b1" }, { bootId: "b1" }, true)).toBe(true);
    expect(onThisMachine({ bootId: "b2" }, { bootId: "b1" }, true)).toBe(false);
    expect(onThisMachine({ bootId: null }, { bootId: "b1" }, true)).toBe(false);
    expect(onThisMachine({ bootId: null }, { bootId: "b1" }, false)).toBe(true);
  });

  it("the gateway loads at start on PostgreSQL (it must reap), on SQLite only for a dead peer", async () => {
    const home = scratch(); // no gateway.db: nothing left behind on SQLite
    expect(await needsGatewayAtStart({}, home)).toBe(false);
    expect(await needsGatewayAtStart({ LLM_GATEWAY_DATABASE_URL: " " }, home)).toBe(false);
    expect(await needsGatewayAtStart({ LLM_GATEWAY_DATABASE_URL: "postgres://h/db" }, home)).toBe(
      true,
    );
    expect(await needsGatewayAtStart({ LLM_GATEWAY_DATABASE_URL: "env" }, home)).toBe(true);
    // Invalid: the gateway loads and reports it as a start does.
    expect(await needsGatewayAtStart({ LLM_GATEWAY_DATABASE_URL: "mysql://h" }, home)).toBe(true);
  });

  it("LLM_GATEWAY_HOST_ID is checked, naming the variable", () => {
    expect(hostIdFromEnv({ LLM_GATEWAY_HOST_ID: "review-box.1" })).toBe("review-box.1");
    expect(hostIdFromEnv({})).toBeUndefined();
    expect(() => hostIdFromEnv({ LLM_GATEWAY_HOST_ID: "-bad id" })).toThrow(
      /LLM_GATEWAY_HOST_ID must be 1 to 100 characters.*got "-bad id"/,
    );
  });
});

describe("session files on this machine", () => {
  it("matches * within one segment, literal segments as they are", () => {
    const home = scratch();
    const project = join(home, ".claude", "projects", "-work-repo");
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, "abc.jsonl"), "{}");
    const pattern = (id: string) => [join(home, ".claude", "projects", "*", `${id}.jsonl`)];
    expect(anySessionFileExists(pattern("abc"))).toBe(true);
    expect(anySessionFileExists(pattern("abd"))).toBe(false);
    expect(anySessionFileExists([join(home, ".claude", "projects", "*")])).toBe(false); // a directory
    expect(anySessionFileExists(["relative/*.jsonl"])).toBe(false);
  });
});
