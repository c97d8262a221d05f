// Overhead per request: claude_request, codex_request and gemini_request through the gateway and
// through the floor server, against the fake CLI answering in 0 ms and in 50 ms and against the canned
// CLIs, each paired with a direct spawn of the same CLI with the same arguments in the same round.
// Variants alternate.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cannedBin, cannedPrompt } from "./canned-cli.mjs";
import { spawnDirect } from "./direct.mjs";
import { memoryOf } from "./proc.mjs";
import { RpcServer, resultText } from "./rpc.mjs";
import { CLIS, FLOOR_SERVER, GATEWAY_MAIN, fakeBin, sandbox, tempDir } from "./sandbox.mjs";
import { pairedDiff, rotate, summarize } from "./stats.mjs";

const prompt = (cli, latencyMs) =>
  `Bench request for ${cli}.${latencyMs ? ` [[fake:sleep=${latencyMs}]]` : ""}`;

export function startServer(kind, box, extraEnv = {}) {
  const script = kind === "gateway" ? GATEWAY_MAIN : FLOOR_SERVER;
  return new RpcServer(process.execPath, [script], {
    env: { ...box.env, ...extraEnv },
    cwd: box.work,
    name: kind,
  });
}

/** The argv each server hands each CLI, recorded by the fake CLI (FAKE_CLI_LOG) in a separate run. */
export async function captureArgs(kind, bin, extraEnv = {}) {
  const box = sandbox(bin);
  const log = join(tempDir("argv"), "argv.jsonl");
  const server = startServer(kind, box, { ...extraEnv, FAKE_CLI_LOG: log });
  await server.initialize();
  for (const cli of CLIS) {
    const res = await server.callTool(`${cli}_request`, { prompt: prompt(cli, 0) });
    if (res.msg.result?.isError) throw new Error(`${kind} ${cli}: ${resultText(res.msg)}`);
  }
  await server.close();
  const args = {};
  for (const line of readFileSync(log, "utf8").trim().split("\n")) {
    const entry = JSON.parse(line);
    if (entry.cli) args[entry.cli] = entry.argv;
  }
  return args;
}

let gatewayArgsCache;
/** The gateway's argv per CLI, and the floor environment that makes the floor use the same. */
export async function gatewayArgs() {
  if (!gatewayArgsCache) {
    const args = await captureArgs("gateway", fakeBin());
    gatewayArgsCache = { args, floorEnv: { BENCH_FLOOR_ARGS: JSON.stringify(args) } };
  }
  return gatewayArgsCache;
}

/**
 * `latencies`: the fake CLI answering after each of these ms; `canned`: also the canned CLIs
 * (canned-cli.mjs), whose case has latencyMs "canned".
 */
export async function overheadSuite({ rounds, warmup, latencies, canned = true }) {
  const { args, floorEnv } = await gatewayArgs();
  const floorArgs = await captureArgs("floor", fakeBin(), floorEnv);
  const fake = await measure(fakeBin(), latencies, { rounds, warmup, args, floorEnv });
  const cases = [...fake.cases];
  if (canned) {
    const run = await measure(cannedBin(args), ["canned"], { rounds, warmup, args, floorEnv });
    cases.push(...run.cases);
  }
  return {
    rounds,
    warmup,
    args,
    floorArgs,
    sameArgs: JSON.stringify(args) === JSON.stringify(floorArgs),
    rssAfterWorkKb: fake.rssAfterWorkKb,
    cases,
  };
}

/** Interleaved rounds of direct spawn, gateway and floor for each CLI at each latency. */
async function measure(bin, latencies, { rounds, warmup, args, floorEnv }) {
  const box = sandbox(bin);
  const servers = {
    gateway: startServer("gateway", box),
    floor: startServer("floor", box, floorEnv),
  };
  await servers.gateway.initialize();
  await servers.floor.initialize();

  const cases = [];
  for (const latencyMs of latencies)
    for (const cli of CLIS) cases.push({ cli, latencyMs, direct: [], gateway: [], floor: [] });

  const once = async (variant, c) => {
    const p = c.latencyMs === "canned" ? cannedPrompt(c.cli) : prompt(c.cli, c.latencyMs);
    if (variant === "direct") {
      return (await spawnDirect(c.cli, args[c.cli], { prompt: p, env: box.env, cwd: box.work })).ms;
    }
    const res = await servers[variant].callTool(`${c.cli}_request`, { prompt: p });
    const text = resultText(res.msg);
    if (res.msg.result?.isError || !text.includes("FAKE-REPLY"))
      throw new Error(`${variant} ${c.cli} failed: ${text.slice(0, 500)}`);
    return res.ms;
  };

  for (let r = 0; r < warmup + rounds; r++) {
    for (const [i, c] of cases.entries()) {
      for (const variant of rotate(["direct", "gateway", "floor"], r + i)) {
        const ms = await once(variant, c);
        if (r >= warmup) c[variant].push(ms);
      }
    }
  }

  const afterWork = { gateway: memoryOf(servers.gateway.pid), floor: memoryOf(servers.floor.pid) };
  await servers.gateway.close();
  await servers.floor.close();
  return {
    rssAfterWorkKb: {
      gateway: afterWork.gateway.rssKb,
      floor: afterWork.floor.rssKb,
      requests: (warmup + rounds) * cases.length,
    },
    cases: cases.map((c) => ({
      tool: `${c.cli}_request`,
      latencyMs: c.latencyMs,
      directMs: summarize(c.direct),
      gatewayMs: summarize(c.gateway),
      floorMs: summarize(c.floor),
      gatewayOverheadMs: summarize(pairedDiff(c.gateway, c.direct)),
      floorOverheadMs: summarize(pairedDiff(c.floor, c.direct)),
      raw: { direct: c.direct, gateway: c.gateway, floor: c.floor },
    })),
  };
}
