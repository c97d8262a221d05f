#!/usr/bin/env node
// A plain Node relay: `node relay.mjs <command> [args...]` runs the command with this process's stdin
// as its stdin, holds its whole stdout (as any gateway that answers with one reply must), writes it
// to this process's stdout, and reports its own memory on stderr as one JSON line. The bench compares
// the gateway's peak RSS on a big reply with this one's for the same stdout.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { detached: true, stdio: ["pipe", "pipe", "ignore"] });
process.stdin.pipe(child.stdin);
child.stdin.on("error", () => {});
const chunks = [];
let bytes = 0;
child.stdout.on("data", (c) => {
  chunks.push(c);
  bytes += c.length;
});
child.on("close", (code) => {
  const all = Buffer.concat(chunks, bytes);
  chunks.length = 0;
  process.stdout.write(all, () => {
    const status = readFileSync("/proc/self/status", "utf8");
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? NaN);
    process.stderr.write(
      JSON.stringify({ exitCode: code, bytes, rssKb: kb("VmRSS"), hwmKb: kb("VmHWM") }) + "\n",
    );
  });
});
