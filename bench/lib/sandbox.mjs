// Throw-away homes and fake-CLI bin directories: no bench run touches the user's ~/.llm-cli-gateway,
// ~/.claude, ~/.codex or ~/.gemini, and everything created here is removed by cleanup().
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { installFakeClis } from "../../test/fakes/install-fakes.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, "..", "..");
// BENCH_GATEWAY_MAIN: another build of the gateway (a before/after comparison), dist/main.js otherwise.
export const GATEWAY_MAIN = process.env.BENCH_GATEWAY_MAIN || join(ROOT, "dist", "main.js");
export const FLOOR_SERVER = join(ROOT, "bench", "floor-server.mjs");
export const RELAY = join(ROOT, "bench", "relay.mjs");
export const BIG_CLI = join(HERE, "big-cli.mjs");
export const CLIS = ["claude", "codex", "gemini"];

const created = [];

/** A temp directory removed by cleanup(). */
export function tempDir(label) {
  const dir = mkdtempSync(join(tmpdir(), `llm-gateway-bench-${label}-`));
  created.push(dir);
  return dir;
}

/** The repo's fake CLIs (test/fakes): answer in each CLI's real format, obey [[fake:...]]. */
export function fakeBin() {
  const bin = installFakeClis();
  created.push(bin);
  return bin;
}

/** Fake CLIs that print a large reply (BENCH_BIG_BYTES) in each CLI's format: bench/lib/big-cli.mjs. */
export function bigFakeBin() {
  const bin = tempDir("bigbin");
  for (const cli of CLIS) {
    writeFileSync(
      join(bin, cli),
      `#!/usr/bin/env node\nimport(${JSON.stringify(BIG_CLI)}).then((m) => m.main(${JSON.stringify(cli)}));\n`,
      { mode: 0o755 },
    );
  }
  return bin;
}

/**
 * A HOME, a gateway home and a working directory, plus the minimal environment the gateway, the
 * floor server and the direct spawns all get (the CLIs inherit it). `extra` adds variables.
 */
export function sandbox(bin, extra = {}) {
  const home = tempDir("home");
  const gatewayHome = join(home, ".llm-cli-gateway");
  const work = join(home, "work");
  mkdirSync(work);
  const env = {
    PATH: `${bin}:${process.env.PATH ?? ""}`,
    HOME: home,
    TMPDIR: process.env.TMPDIR ?? tmpdir(),
    LLM_GATEWAY_HOME: gatewayHome,
    ...extra,
  };
  return { home, gatewayHome, work, env };
}

export function cleanup() {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}
