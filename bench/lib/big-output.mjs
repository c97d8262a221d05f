// Big output: fake CLIs printing 20 MB and 200 MB of reply text in each CLI's format, through the
// gateway (default 50 MB cap, and the cap raised to 256 MB), the floor server, a plain Node relay
// and directly. Each run is its own process (big-case.mjs); variants alternate within a round.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gatewayArgs } from "./overhead.mjs";
import { runCaseProcess } from "./proc.mjs";
import { CLIS } from "./sandbox.mjs";
import { rotate, summarize } from "./stats.mjs";

const CASE = join(dirname(fileURLToPath(import.meta.url)), "big-case.mjs");
export const MiB = 1024 * 1024;
export const DEFAULT_CAP = 50 * MiB;

export async function bigOutputSuite({ sizes, rounds, raisedCap, log = () => {} }) {
  const { args, floorEnv } = await gatewayArgs();
  const groups = [];
  for (const bytes of sizes) {
    for (const cli of CLIS) {
      const variants = [
        { variant: "direct" },
        { variant: "relay" },
        { variant: "floor" },
        { variant: "gateway", label: "gateway (default cap)" },
      ];
      if (bytes > DEFAULT_CAP)
        variants.push({
          variant: "gateway",
          cap: raisedCap,
          label: `gateway (cap ${raisedCap / MiB} MB)`,
        });
      const runs = variants.map((v) => ({ ...v, label: v.label ?? v.variant, results: [] }));
      const n = bytes > 100 * MiB ? 1 : rounds;
      for (let r = 0; r < n; r++) {
        for (const run of rotate(runs, r)) {
          log(`  big ${cli} ${bytes / MiB} MB ${run.label} (${r + 1}/${n})`);
          run.results.push(
            await runCase({
              variant: run.variant,
              cli,
              bytes,
              cap: run.cap,
              args: args[cli],
              floorEnv,
            }),
          );
        }
      }
      groups.push({
        cli,
        bytes,
        runs: runs.map((run) => ({
          label: run.label,
          variant: run.variant,
          cap: run.cap ?? (run.variant === "gateway" ? DEFAULT_CAP : null),
          ms: summarize(run.results.map((x) => x.ms)),
          peakRssMb: summarize(run.results.map((x) => x.peakRssMb)),
          outcome: [...new Set(run.results.map((x) => x.outcome))].join("; "),
          ok: run.results.every((x) => x.ok),
          results: run.results,
        })),
      });
    }
  }
  return { sizes, rounds, raisedCap, defaultCap: DEFAULT_CAP, groups };
}

function runCase(spec) {
  const crashed = (code, error) => ({
    ...spec,
    args: undefined,
    floorEnv: undefined,
    ok: false,
    outcome: `bench case crashed (exit ${code})`,
    error,
  });
  return runCaseProcess(CASE, spec, crashed, ["--max-old-space-size=8192"]);
}
