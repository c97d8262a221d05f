// The drift lane: the newest release (`npm view <pkg> version`) of every CLI in install-clis.mjs,
// run through a subset of the real-CLI lane, and the matrix CLI × version × check printed next to
// the pinned run's. Reports only: exit 1 when a newest version fails a check, never used to gate CI.
//   npm run build && node test/realcli/drift.mjs [--pinned <pinned lane's vitest.json>] [--out <dir>]
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DRIFT_FILES, formatMatrix } from "./drift-matrix.mjs";

const RUN_LIMIT_MS = 6 * 60_000; // keeps .ci/run under ~25 min whatever the CLIs do

const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const envName = (cli) => `REALCLI_${cli.toUpperCase()}_VERSION`;

// The pins are install-clis.mjs's defaults: read them with no override in this process's env.
for (const key of Object.keys(process.env))
  if (/^REALCLI_\w+_VERSION$/.test(key)) delete process.env[key];
const pins = await import("./install-clis.mjs");
const PACKAGES = { ...pins.PACKAGES, ...pins.EXTRA_PACKAGES };
const PINNED = { ...pins.VERSIONS, ...pins.EXTRA_VERSIONS };
const clis = Object.keys(PACKAGES);

const latest = {};
for (const cli of clis) {
  try {
    latest[cli] = execFileSync("npm", ["view", PACKAGES[cli], "version"], {
      encoding: "utf8",
      timeout: 60_000,
    }).trim();
  } catch (err) {
    console.log(`drift: cannot ask the npm registry for ${PACKAGES[cli]}'s latest: ${err.message}`);
    process.exit(0);
  }
}
const spec = (versions) =>
  Object.entries(versions)
    .map(([c, v]) => `${c}@${v}`)
    .join(", ");
console.log(`pinned: ${spec(PINNED)}\nnewest: ${spec(latest)}`);
// Only the CLIs whose newest release differs: the pinned lane has run the others already.
const changed = clis.filter((c) => latest[c] !== PINNED[c]);
const same = clis.filter((c) => latest[c] === PINNED[c]);
if (changed.length === 0) {
  console.log("drift: the newest releases are the pinned ones; nothing to reinstall or run");
  process.exit(0);
}

const out = arg("--out") ?? mkdtempSync(join(tmpdir(), "realcli-drift-"));
const env = { ...process.env };
for (const cli of clis) env[envName(cli)] = latest[cli];
execFileSync(process.execPath, ["test/realcli/install-clis.mjs"], { env, stdio: "inherit" });

const reportFile = join(out, "latest.json");
// Tests that name an unchanged CLI are left out (vitest matches -t against the full name).
const skipSame = same.length ? ["-t", `^(?!.*\\b(${same.join("|")})\\b)`] : [];
const code = await run(
  "npx",
  [
    "vitest",
    "run",
    "--project",
    "real-cli",
    ...DRIFT_FILES,
    ...skipSame,
    "--reporter=default",
  ].concat(["--reporter=json", `--outputFile.json=${reportFile}`]),
  env,
);
writeFileSync(join(out, "versions.json"), JSON.stringify({ pinned: PINNED, latest }));

const load = (file) => {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined; // the run died before its reporter wrote: the matrix says "no results"
  }
};
const pinnedFile = arg("--pinned");
const newest = Object.fromEntries(changed.map((c) => [c, latest[c]]));
const runs = [
  ...(pinnedFile ? [{ label: "pinned", versions: PINNED, report: load(pinnedFile) }] : []),
  { label: "newest", versions: newest, report: load(reportFile) },
];
const { table, failures } = formatMatrix(runs);
console.log(`\ndrift matrix (newest: ${DRIFT_FILES.map((f) => f.split("/").pop()).join(", ")})`);
console.log(table);
if (same.length)
  console.log(`newest = pinned, not run again: ${same.map((c) => `${c}@${PINNED[c]}`).join(", ")}`);
if (failures.length) console.log(`\nfailed:\n${failures.join("\n")}`);
console.log(`\nresults in ${out}`);
const newestFailed = failures.some((f) => f.startsWith("newest "));
process.exit(code === 0 && !newestFailed ? 0 : 1);

/** Runs a command in its own process group, killed whole after RUN_LIMIT_MS. */
function run(command, args, runEnv) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: runEnv, stdio: "inherit", detached: true });
    const timer = setTimeout(() => {
      console.log(`drift: the run took over ${RUN_LIMIT_MS / 60_000} min; stopping it`);
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, RUN_LIMIT_MS);
    child.on("exit", (c) => {
      clearTimeout(timer);
      resolve(c ?? 1);
    });
  });
}
