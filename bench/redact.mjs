#!/usr/bin/env node
// The flight recorder redacts every prompt and answer it stores (src/store/redact.ts): its cost on
// large texts that contain no secret (the common case, and the slowest: every pattern is tried to
// the end). Target: under 50 ms per call on ~120 KB of prose or ~100 KB of code.
// Run: node bench/redact.mjs [--short]. Uses the built module (npm run build). Writes
// bench/results/redact.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { machineInfo } from "./lib/proc.mjs";
import { ROOT } from "./lib/sandbox.mjs";
import { roundSummary, summarize } from "./lib/stats.mjs";
import { num, textTable } from "./lib/table.mjs";

const { redactSecrets } = await import(join(ROOT, "dist", "store", "redact.js")).catch((err) => {
  console.error(`cannot load dist/store/redact.js (run npm run build first): ${err.message}`);
  process.exit(2);
});

const short = process.argv.includes("--short");
const ROUNDS = short ? 10 : 40;
const TARGET_MS = 50;
const TEXTS = {
  prose: "The quick brown fox reviews src/main.ts at commit 9fceb02d. ".repeat(2000),
  code: "const token = process.env.TOKEN; headers.authorization = auth;\n".repeat(1500),
};

const cases = Object.entries(TEXTS).map(([name, text]) => {
  for (let i = 0; i < 3; i++) redactSecrets(text); // warm up
  const ms = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    const out = redactSecrets(text);
    ms.push(performance.now() - t0);
    // Nothing here is a secret: a changed text would be a bug, not a figure.
    if (out !== text)
      throw new Error(`redactSecrets changed the ${name} text, which has no secret`);
  }
  const stats = summarize(ms);
  return { name, chars: text.length, ms: roundSummary(stats, 2), pass: stats.median < TARGET_MS };
});

console.log(
  textTable(
    `redactSecrets on large texts without secrets (${ROUNDS} calls each)`,
    ["text", "chars", "median (ms)", "max (ms)", "target"],
    cases.map((c) => [c.name, c.chars, num(c.ms.median, 2), num(c.ms.max, 2), `< ${TARGET_MS}`]),
  ),
);
const result = { machine: machineInfo(), rounds: ROUNDS, targetMs: TARGET_MS, cases };
mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
writeFileSync(join(ROOT, "bench", "results", "redact.json"), JSON.stringify(result, null, 2));
const missed = cases.filter((c) => !c.pass).length;
console.log(`${cases.length - missed} targets met, ${missed} missed (reported, not a failure)`);
