// Concurrency: N requests at once against a fake CLI that answers in 500 ms (claude, codex and gemini
// in turn), through the gateway and the floor, against N direct spawns of the same. During each burst
// a client pings the server back to back (MCP ping) to see whether it stays responsive. The gateway
// runs twice: with its default concurrency limits (it queues what is over them: a policy) and with
// the limits raised to N (its own cost).
import { performance } from "node:perf_hooks";
import { spawnDirect, sleep } from "./direct.mjs";
import { gatewayArgs, startServer } from "./overhead.mjs";
import { resultText } from "./rpc.mjs";
import { CLIS, fakeBin, sandbox } from "./sandbox.mjs";
import { rotate, summarize } from "./stats.mjs";

export async function concurrencySuite({ rounds, concurrency, latencyMs, pingGapMs = 10 }) {
  const bin = fakeBin();
  const { args, floorEnv } = await gatewayArgs();
  const box = sandbox(bin);
  const raisedLimits = {
    LLM_GATEWAY_MAX_CONCURRENT: String(concurrency),
    LLM_GATEWAY_MAX_CONCURRENT_PER_CLI: String(concurrency),
  };
  const servers = {
    gateway: startServer("gateway", box),
    gatewayRaised: startServer("gateway", box, raisedLimits),
    floor: startServer("floor", box, floorEnv),
  };
  const variants = ["direct", ...Object.keys(servers)];
  const [wall, pingIdle, pingBurst] = [{}, {}, {}];
  for (const v of variants) [wall[v], pingIdle[v], pingBurst[v]] = [[], [], []];
  for (const [name, server] of Object.entries(servers)) {
    await server.initialize();
    for (let i = 0; i < 20; i++) pingIdle[name].push((await server.request("ping", {})).ms);
  }
  const prompt = (i) => `Concurrent request ${i}. [[fake:sleep=${latencyMs}]]`;
  const cli = (i) => CLIS[i % CLIS.length];
  const failures = [];

  const burst = async (variant) => {
    const started = performance.now();
    if (variant === "direct") {
      const env = box.env;
      await Promise.all(
        Array.from({ length: concurrency }, (_, i) =>
          spawnDirect(cli(i), args[cli(i)], { prompt: prompt(i), env, cwd: box.work }),
        ),
      );
      return performance.now() - started;
    }
    const server = servers[variant];
    let done = false;
    const calls = Promise.all(
      Array.from({ length: concurrency }, (_, i) =>
        server.callTool(`${cli(i)}_request`, { prompt: prompt(i) }).then((res) => {
          const text = resultText(res.msg);
          if (res.msg.result?.isError || !text.includes("FAKE-REPLY"))
            failures.push(`${variant}: ${text.slice(0, 200)}`);
          return res.at;
        }),
      ),
    );
    const pinger = (async () => {
      while (!done) {
        pingBurst[variant].push((await server.request("ping", {})).ms);
        await sleep(pingGapMs);
      }
    })();
    const ends = await calls;
    done = true;
    await pinger;
    return Math.max(...ends) - started;
  };

  for (let r = 0; r < rounds; r++) {
    for (const variant of rotate(variants, r)) wall[variant].push(await burst(variant));
  }
  for (const server of Object.values(servers)) await server.close();
  const each = (samples) =>
    Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)]));
  return {
    rounds,
    concurrency,
    latencyMs,
    raisedLimits,
    failures: failures.length,
    failureSamples: failures.slice(0, 5),
    wallMs: each(wall),
    pingIdleMs: each(pingIdle),
    pingDuringBurstMs: each(pingBurst),
    raw: { wall },
  };
}
