import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startFakeLane, type FakeLane } from "../helpers/fake-lane.js";
import { ON_POSTGRES, sc, textOf, type StartedGateway } from "../helpers/gateway.js";

const OPS_PER_PROCESS = 200;
let lane: FakeLane;

beforeAll(async () => {
  lane = await startFakeLane();
});
afterAll(() => lane.close());

/** 200 mixed operations: create, request on a shared session, read, delete. */
async function workload(gw: StartedGateway, shared: string[]) {
  const created: string[] = [];
  const deleted: string[] = [];
  let requests = 0;
  for (let i = 0; i < OPS_PER_PROCESS; i++) {
    let r;
    switch (i % 4) {
      case 0:
        r = await gw.call("session_create", { cli: "codex", setAsActive: false });
        created.push(sc(r).session.id);
        break;
      case 1:
        r = await gw.call("claude_request", {
          prompt: `op ${i}`,
          sessionId: shared[i % shared.length],
        });
        requests++;
        break;
      case 2:
        r = await gw.call("session_get", { sessionId: created.at(-1)! });
        break;
      default:
        if (created.length % 2 === 0) {
          r = await gw.call("session_delete", { sessionId: created.at(-1)! });
          deleted.push(created.at(-1)!);
        } else r = await gw.call("session_list", { cli: "codex" });
    }
    expect(r.isError, textOf(r)).toBeFalsy();
  }
  return { created, deleted, requests };
}

it("two gateway processes sharing one store lose no update and corrupt nothing", async () => {
  const a = lane.gw;
  const b = await lane.startAnother();
  const shared: string[] = [];
  for (let i = 0; i < 3; i++)
    shared.push(sc(await a.call("claude_request", { prompt: "start" })).sessionId);

  const [ra, rb] = await Promise.all([workload(a, shared), workload(b, shared)]);

  const counts = await Promise.all(
    shared.map(
      async (id) => sc(await b.call("session_get", { sessionId: id })).session.requestCount,
    ),
  );
  expect(counts.reduce((x, y) => x + y, 0)).toBe(shared.length + ra.requests + rb.requests);
  const remaining = sc(await a.call("session_list", { cli: "codex" }))
    .sessions.map((s: any) => s.id)
    .sort();
  const expected = [...ra.created, ...rb.created]
    .filter((id) => !ra.deleted.includes(id) && !rb.deleted.includes(id))
    .sort();
  expect(remaining).toEqual(expected);

  // gateway.db's own check; PostgreSQL has no file to check (its constraints held above).
  if (ON_POSTGRES) return;
  const db = new Database(join(a.home, ".llm-cli-gateway", "gateway.db"), { readonly: true });
  try {
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
  } finally {
    db.close();
  }
}, 120_000);
