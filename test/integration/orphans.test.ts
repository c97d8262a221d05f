import { readdirSync, readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeLane, type FakeLane } from "../helpers/fake-lane.js";
import { delay, sc, survivors, type StartedGateway } from "../helpers/gateway.js";

// Each test has a lane of its own: no other gateway over the same home may sweep its orphans.
let lane: FakeLane;
// On PostgreSQL a dead gateway is found by its lease alone (never by its pid): a short one here.
const PG = process.env.LLM_GATEWAY_TEST_BACKEND === "postgres";
const newLane = async () =>
  (lane = await startFakeLane({
    LLM_GATEWAY_KILL_GRACE_MS: "500",
    ...(PG ? { LLM_GATEWAY_LEASE_MS: "1500" } : {}),
  }));
afterEach(() => lane.close());

/** Pids of the processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid)
        found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}

/** Starts a hanging fake CLI (with a grandchild) from `gw`; returns the CLI, grandchild and helper pids. */
async function hangingCli(gw: StartedGateway, directives = "") {
  const { jobId } = sc(
    await gw.call("codex_request_async", { prompt: `[[fake:hang]] [[fake:child]] ${directives}` }),
  );
  for (let i = 0; i < 200 && lane.grandchildren().length === 0; i++) await delay(25);
  const cli = lane.invocations()[0]!.pid;
  const [grandchild] = lane.grandchildren();
  const helpers = childrenOf(gw.pid).filter((pid) =>
    readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("spawner-main"),
  );
  expect(helpers).toHaveLength(1);
  return { cli, grandchild: grandchild!, helper: helpers[0]!, jobId: jobId as string };
}

describe("a CLI never outlives the gateway that started it", () => {
  it("SIGKILL of the gateway: its spawner process stops the CLI's process group, then exits", async () => {
    const { gw } = await newLane();
    const { cli, grandchild, helper } = await hangingCli(gw);
    process.kill(gw.pid, "SIGKILL");
    // No other gateway starts: the helper alone must do it.
    expect(await survivors([cli, grandchild, helper], 2500)).toEqual([]);
  });

  it("a CLI that ignores SIGTERM is killed after the grace", async () => {
    const { gw } = await newLane();
    const { cli, grandchild, helper } = await hangingCli(gw, "[[fake:ignore-term]]");
    process.kill(gw.pid, "SIGKILL");
    await delay(200);
    expect(await survivors([cli], 0)).toEqual([cli]); // still within the 500 ms grace
    expect(await survivors([cli, grandchild, helper], 2500)).toEqual([]);
  });

  it("the gateway and its spawner process killed together: the next start stops the orphans it owns, and only those", async () => {
    const { gw } = await newLane();
    const { cli, grandchild, helper, jobId: first } = await hangingCli(gw);
    // A live gateway's running job is not an orphan.
    lane.reset();
    const live = await lane.startAnother();
    const mine = await hangingCli(live);
    process.kill(helper, "SIGKILL");
    process.kill(gw.pid, "SIGKILL");
    await delay(300);
    expect(await survivors([cli, grandchild], 0)).toEqual([cli, grandchild]);
    const next = await lane.startAnother();
    expect(await survivors([cli, grandchild], PG ? 5000 : 2500)).toEqual([]);
    expect(await survivors([mine.cli], 0)).toEqual([mine.cli]);
    expect(sc(await next.call("llm_job_status", { jobId: first })).status).toBe("interrupted");
    await live.close();
    expect(await survivors([mine.cli, mine.grandchild, mine.helper], 4000)).toEqual([]);
  });
});
