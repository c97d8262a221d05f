#!/usr/bin/env node
// A throwaway PostgreSQL cluster on loopback for the tests: `start` prints its URL, `stop DIR` ends
// it. Used by .ci/run and by vitest's global setup when LLM_GATEWAY_TEST_DATABASE_URL is unset.
// As root it runs as the `postgres` user (PostgreSQL refuses to run as root).
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const asRoot = process.getuid?.() === 0;

function pgCommand(cmd, args) {
  const [file, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
  return execFileSync(file, argv, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
}

/** Is initdb on PATH (and, as root, the postgres user there)? */
export function canRunPostgres() {
  try {
    execFileSync("sh", ["-c", "command -v initdb && command -v pg_ctl"], { stdio: "ignore" });
    if (asRoot) execFileSync("id", ["postgres"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** Starts a new cluster; returns { dir, url }. */
export async function startCluster() {
  const dir = mkdtempSync(join(tmpdir(), "lcg-pg-"));
  chmodSync(dir, 0o700);
  if (asRoot)
    chownSync(
      dir,
      Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" })),
      Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" })),
    );
  const data = join(dir, "data");
  pgCommand("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  writeFileSync(join(dir, "port"), String(port));
  startServer(dir);
  return { dir, url: `postgres://postgres@127.0.0.1:${port}/postgres` };
}

/** Starts a stopped cluster again, on its port (tests of a database that drops and comes back). */
export function startServer(dir) {
  const port = readFileSync(join(dir, "port"), "utf8");
  pgCommand("pg_ctl", [
    "-D",
    join(dir, "data"),
    "-l",
    join(dir, "log"),
    "-w",
    "-o",
    `-k ${dir} -p ${port} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`,
    "start",
  ]);
}

/** Stops the server, keeping its data: `-m fast` ends every connection as a shutdown does. */
export function stopServer(dir) {
  pgCommand("pg_ctl", ["-D", join(dir, "data"), "-m", "fast", "-w", "stop"]);
}

export function stopCluster(dir) {
  try {
    pgCommand("pg_ctl", ["-D", join(dir, "data"), "-m", "immediate", "-w", "stop"]);
  } catch {
    // already stopped
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [cmd, dir] = process.argv.slice(2);
  if (cmd === "start") {
    const { dir: d, url } = await startCluster();
    console.log(`${d} ${url}`);
  } else if (cmd === "stop" && dir) stopCluster(dir);
  else {
    console.error("usage: pg-cluster.mjs start | stop DIR");
    process.exit(2);
  }
}
