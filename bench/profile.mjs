#!/usr/bin/env node
// Where the gateway spends its CPU: starts the built gateway under --cpu-prof, sends N requests
// (claude, codex, gemini in turn) against the 0 ms fake CLI, and prints the profile's self time by
// package and function and the inclusive time of the gateway's own functions. Not part of npm run
// bench; used to find the causes behind its figures. Run: node bench/profile.mjs [N] [--startup]
// (--startup: no requests, the profile of a start only).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RpcServer } from "./lib/rpc.mjs";
import { cleanup, fakeBin, GATEWAY_MAIN, sandbox, tempDir } from "./lib/sandbox.mjs";

const startupOnly = process.argv.includes("--startup");
const n = startupOnly ? 0 : Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 150);
const dir = tempDir("profile");
const box = sandbox(fakeBin());
const flags = ["--cpu-prof", `--cpu-prof-dir=${dir}`, "--cpu-prof-interval=100"];
const server = new RpcServer(process.execPath, [...flags, GATEWAY_MAIN], {
  env: box.env,
  cwd: box.work,
});
await server.initialize();
await server.request("tools/list", {});
const clis = ["claude", "codex", "gemini"];
for (let i = 0; i < n; i++) await server.callTool(`${clis[i % 3]}_request`, { prompt: `hi ${i}` });
await server.close(15000);

const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
const profile = JSON.parse(readFileSync(join(dir, file), "utf8"));
cleanup();
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parentOf.set(child, node.id);
const selfUs = new Map();
profile.samples.forEach((id, i) =>
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
);

/** A package (node_modules/<name>), a dist/ file, a node: module, or a V8 pseudo-frame. */
function place(url) {
  if (!url) return "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.includes("/dist/")) return `dist/${url.split("/dist/")[1]}`;
  return url.startsWith("node:") ? url : url.split("/").slice(-2).join("/");
}
/** Native frames count for the nearest JavaScript caller's place. */
function ownerPlace(node) {
  let at = node;
  while (at && !at.callFrame.url && parentOf.has(at.id)) at = nodes.get(parentOf.get(at.id));
  return place(at?.callFrame.url);
}

const byPlace = new Map();
const byFunction = new Map();
let busyUs = 0;
for (const [id, us] of selfUs) {
  const node = nodes.get(id);
  const { functionName, url, lineNumber } = node.callFrame;
  if (functionName === "(idle)") continue;
  busyUs += us;
  const where = functionName.startsWith("(") ? functionName : ownerPlace(node);
  byPlace.set(where, (byPlace.get(where) ?? 0) + us);
  const key = `${functionName || "(anonymous)"} ${place(url)}:${lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
}
const inclusive = new Map();
const total = (id) => {
  const node = nodes.get(id);
  return (selfUs.get(id) ?? 0) + (node.children ?? []).reduce((s, c) => s + total(c), 0);
};
for (const node of profile.nodes) {
  const { functionName, url } = node.callFrame;
  if (!url.includes("/dist/") || !functionName) continue;
  const key = `${functionName} ${place(url)}`;
  inclusive.set(key, (inclusive.get(key) ?? 0) + total(node.id));
}

const ms = (us) => (us / 1000).toFixed(1).padStart(8);
const top = (map, count) => [...map].sort((a, b) => b[1] - a[1]).slice(0, count);
console.log(
  `${n} requests; gateway CPU busy ${ms(busyUs)} ms` +
    (n ? ` (${(busyUs / 1000 / n).toFixed(2)} ms per request, start included)` : " (start only)"),
);
console.log("\nself time by place (ms):");
for (const [k, v] of top(byPlace, 20)) console.log(`  ${k.padEnd(60)}${ms(v)}`);
console.log("\nself time by function (ms):");
for (const [k, v] of top(byFunction, 25)) console.log(`  ${k.padEnd(70)}${ms(v)}`);
console.log("\ninclusive time of the gateway's functions (ms):");
for (const [k, v] of top(inclusive, 25)) console.log(`  ${k.padEnd(60)}${ms(v)}`);
