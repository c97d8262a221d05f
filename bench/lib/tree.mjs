// Memory of the whole process tree (the server and everything it left running: the gateway's
// spawner process) after one request per CLI, issue #22: right after the requests (1 s) and once
// the spawner process's idle stop has passed. RSS sums count the node binary's pages once per
// process, as `ps` and the issue do; PSS sums share them out, which is what the machine pays.
import { readdirSync, readFileSync } from "node:fs";
import { gatewayArgs, startServer } from "./overhead.mjs";
import { sleep } from "./direct.mjs";
import { resultText } from "./rpc.mjs";
import { CLIS, fakeBin, sandbox } from "./sandbox.mjs";
import { rotate, summarize } from "./stats.mjs";

/** Rss and Pss of a live process from smaps_rollup, in MB; null when it is gone. */
function rollup(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
    return { rss: kb("Rss") / 1024, pss: kb("Pss") / 1024 };
  } catch {
    return null;
  }
}

/** Every live descendant of pid. */
function descendants(pid) {
  const children = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  const out = [];
  const walk = (p) => (children.get(p) ?? []).forEach((c) => (out.push(c), walk(c)));
  walk(pid);
  return out;
}

function tree(pid) {
  const rows = [pid, ...descendants(pid)].map(rollup).filter(Boolean);
  const sum = (k) => rows.reduce((a, r) => a + r[k], 0);
  return { processes: rows.length, rssMb: sum("rss"), pssMb: sum("pss") };
}

export async function treeSuite({ rounds, warmup, idleMs, settledMs }) {
  const bin = fakeBin();
  const { floorEnv } = await gatewayArgs();
  const box = sandbox(bin);
  const variants = {
    gateway: () => startServer("gateway", box),
    floor: () => startServer("floor", box, floorEnv),
  };
  const samples = {};
  for (const name of Object.keys(variants)) samples[name] = { soon: [], settled: [] };
  for (let r = 0; r < warmup + rounds; r++) {
    for (const name of rotate(Object.keys(variants), r)) {
      const server = variants[name]();
      await server.initialize();
      await server.request("tools/list", {});
      for (const cli of CLIS) {
        const res = await server.callTool(`${cli}_request`, {
          prompt: `Bench request for ${cli}.`,
        });
        if (res.msg.result?.isError) throw new Error(`${name} ${cli}: ${resultText(res.msg)}`);
      }
      await sleep(idleMs);
      const soon = tree(server.pid);
      await sleep(settledMs - idleMs);
      const settled = tree(server.pid);
      await server.close();
      if (r < warmup) continue;
      samples[name].soon.push(soon);
      samples[name].settled.push(settled);
    }
  }
  const out = { rounds, warmup, idleMs, settledMs, variants: {} };
  for (const [name, s] of Object.entries(samples)) {
    const of = (list, key) => summarize(list.map((t) => t[key]));
    out.variants[name] = {
      soon: {
        rssMb: of(s.soon, "rssMb"),
        pssMb: of(s.soon, "pssMb"),
        processes: of(s.soon, "processes"),
      },
      settled: {
        rssMb: of(s.settled, "rssMb"),
        pssMb: of(s.settled, "pssMb"),
        processes: of(s.settled, "processes"),
      },
    };
  }
  return out;
}
