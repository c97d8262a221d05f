// consult of three CLIs against each CLI run alone: the fake CLIs answer in `latencyMs`, and
// consult runs them as three jobs at once, so its wall time should be that of the slowest single
// run plus the gateway's own cost, not the sum of the three.
import { resultText } from "./rpc.mjs";
import { startServer } from "./overhead.mjs";
import { CLIS, fakeBin, sandbox } from "./sandbox.mjs";
import { summarize } from "./stats.mjs";

export async function consultSuite({ rounds, latencyMs }) {
  const box = sandbox(fakeBin());
  const server = startServer("gateway", box);
  await server.initialize();
  const failures = [];
  const call = async (name, args) => {
    const res = await server.callTool(name, args);
    if (res.msg.result?.isError) failures.push(`${name}: ${resultText(res.msg).slice(0, 200)}`);
    return res.ms;
  };
  const slowest = [];
  const consult = [];
  for (let round = 0; round < rounds; round++) {
    const alone = [];
    for (const cli of CLIS)
      alone.push(await call(`${cli}_request`, { prompt: `alone [[fake:sleep=${latencyMs}]]` }));
    slowest.push(Math.max(...alone));
    consult.push(await call("consult", { prompt: `together [[fake:sleep=${latencyMs}]]` }));
  }
  await server.close();
  const s = summarize(slowest);
  const c = summarize(consult);
  return {
    latencyMs,
    slowestAloneMs: s,
    consultMs: c,
    overheadMs: c.median - s.median,
    failures: failures.length ? failures : undefined,
  };
}
