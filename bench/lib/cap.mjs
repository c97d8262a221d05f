// Output cap: a fake CLI that would print 6x the cap (LLM_GATEWAY_MAX_OUTPUT_BYTES), sync and async.
// Targets (issue 14): peak RSS at most idle + 2x cap, at most the cap stored in gateway.db, and the
// result says `truncated` with the byte counts. Each run is its own process (cap-case.mjs).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCaseProcess } from "./proc.mjs";
import { CLIS } from "./sandbox.mjs";

const CASE = join(dirname(fileURLToPath(import.meta.url)), "cap-case.mjs");

export async function capSuite({ caps, modes, log = () => {} }) {
  const runs = [];
  for (const cap of caps)
    for (const mode of modes)
      for (const cli of CLIS) {
        log(`  cap ${cap / 2 ** 20} MB, ${cli} ${mode}, output 6x the cap`);
        runs.push(await runCase({ cli, cap, bytes: 6 * cap, mode }));
      }
  return { caps, modes, runs };
}

function runCase(spec) {
  return runCaseProcess(CASE, spec, (code, error) => ({
    ...spec,
    ok: false,
    category: `bench case crashed (exit ${code})`,
    error,
  }));
}
