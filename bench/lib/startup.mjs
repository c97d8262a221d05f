// Cold start (process start to the initialize answer and to the first tools/list answer), idle RSS
// after start, and the size of tools/list. The gateway and the floor alternate; the gateway runs both
// on an existing state directory (the usual start) and on a new one (its very first start).
import { memoryOf } from "./proc.mjs";
import { startServer, gatewayArgs } from "./overhead.mjs";
import { sleep } from "./direct.mjs";
import { fakeBin, sandbox } from "./sandbox.mjs";
import { rotate, summarize } from "./stats.mjs";

export async function startupSuite({ rounds, warmup, idleMs }) {
  const bin = fakeBin();
  const { floorEnv } = await gatewayArgs();
  const existing = sandbox(bin);
  // The usual start finds a gateway.db: the gateway creates it on its first call, not at start.
  const prime = startServer("gateway", existing);
  await prime.initialize();
  await prime.callTool("claude_request", { prompt: "Bench request for claude." });
  await prime.close();
  const variants = {
    gateway: () => startServer("gateway", existing),
    gatewayNewHome: () => startServer("gateway", sandbox(bin)),
    floor: () => startServer("floor", existing, floorEnv),
  };
  const samples = {};
  for (const name of Object.keys(variants))
    samples[name] = { initializeMs: [], toolsListMs: [], idleRssMb: [], idleHwmMb: [] };
  const lists = {};

  for (let r = 0; r < warmup + rounds; r++) {
    for (const name of rotate(Object.keys(variants), r)) {
      const server = variants[name]();
      const init = await server.initialize();
      const list = await server.request("tools/list", {});
      await sleep(idleMs);
      const mem = memoryOf(server.pid);
      await server.close();
      if (r < warmup) continue;
      const s = samples[name];
      s.initializeMs.push(init.at - server.startedAt);
      s.toolsListMs.push(list.at - server.startedAt);
      s.idleRssMb.push(mem.rssKb / 1024);
      s.idleHwmMb.push(mem.hwmKb / 1024);
      lists[name] ??= {
        lineBytes: list.bytes,
        resultBytes: Buffer.byteLength(JSON.stringify(list.msg.result), "utf8"),
        tools: list.msg.result.tools.map((t) => t.name),
      };
    }
  }

  const out = {
    rounds,
    warmup,
    idleMs,
    variants: {},
    toolsList: lists.gateway,
    floorToolsList: lists.floor,
  };
  for (const [name, s] of Object.entries(samples)) {
    out.variants[name] = {
      initializeMs: summarize(s.initializeMs),
      toolsListMs: summarize(s.toolsListMs),
      idleRssMb: summarize(s.idleRssMb),
      idleHwmMb: summarize(s.idleHwmMb),
      raw: s,
    };
  }
  return out;
}
