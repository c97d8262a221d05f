#!/usr/bin/env node
// Benchmark of optimizePrompt / optimizeResponse on the evaluation corpus
// (test/fixtures/optimize-corpus): token reduction counted with a real tokenizer (gpt-tokenizer,
// offline, o200k_base and cl100k_base), and the preservation check (every code block, inline
// code span, quoted string, URL, path, number and identifier survives byte-exact) on every file.
// Uses the BUILT module: run `npm run build` first. Writes bench/results/optimize.json and exits
// non-zero when a file fails the preservation check.

import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import * as o200k from "gpt-tokenizer/encoding/o200k_base";
import * as cl100k from "gpt-tokenizer/encoding/cl100k_base";
import { missingItems } from "../test/helpers/preservation.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const corpus = join(root, "test/fixtures/optimize-corpus");
const { optimizePrompt, optimizeResponse } = await import(
  join(root, "dist/optimize/index.js")
).catch((err) => {
  console.error(`cannot load dist/optimize/index.js (run npm run build first): ${err.message}`);
  process.exit(2);
});

// Special-token strings such as "<|endoftext|>" are counted as ordinary text.
const noSpecial = { disallowedSpecial: new Set() };
const tokens = (enc, text) => enc.encode(text, noSpecial).length;

const KINDS = {
  prompts: (text) => optimizePrompt(text),
  responses: (text) => optimizeResponse(text),
};

const pct = (before, after) => (before === 0 ? 0 : (100 * (before - after)) / before);
const round1 = (x) => Math.round(x * 10) / 10;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? 0 : s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

function measure(kind, optimize) {
  const dir = join(corpus, kind);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".txt"))
    .sort();
  return files.map((name) => {
    const text = readFileSync(join(dir, name), "utf8");
    const result = optimize(text);
    const again = optimize(result.text);
    const lost = missingItems(text, result.text);
    return {
      file: `${kind}/${name}`,
      chars: [result.originalChars, result.optimizedChars],
      o200k: [tokens(o200k, text), tokens(o200k, result.text)],
      cl100k: [tokens(cl100k, text), tokens(cl100k, result.text)],
      transformations: result.transformations,
      preserved: lost.length === 0,
      lost,
      idempotent: again.text === result.text,
    };
  });
}

function summarize(files) {
  const sum = (key, i) => files.reduce((n, f) => n + f[key][i], 0);
  const part = (key) => ({
    before: sum(key, 0),
    after: sum(key, 1),
    reductionPct: round1(pct(sum(key, 0), sum(key, 1))),
    medianFileReductionPct: round1(median(files.map((f) => pct(f[key][0], f[key][1])))),
  });
  const rules = {};
  for (const f of files) for (const t of f.transformations) rules[t] = (rules[t] ?? 0) + 1;
  return {
    files: files.length,
    tokens: part("o200k"),
    tokensCl100k: part("cl100k"),
    chars: part("chars"),
    preservation: { passed: files.filter((f) => f.preserved).length, total: files.length },
    idempotent: { passed: files.filter((f) => f.idempotent).length, total: files.length },
    filesChangedByRule: rules,
  };
}

// A 10 KB prompt should cost well under a millisecond (reported, not asserted: it is the machine's).
const SPEED_TARGET_MS = 1;

function timing() {
  // A 10 KB prompt made of corpus text: mean time of one optimizePrompt call.
  const sample = readdirSync(join(corpus, "prompts"))
    .sort()
    .map((f) => readFileSync(join(corpus, "prompts", f), "utf8"))
    .join("\n\n")
    .slice(0, 10_240);
  for (let i = 0; i < 100; i++) optimizePrompt(sample);
  const n = 1000;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < n; i++) optimizePrompt(sample);
  const wallMs = (performance.now() - start) / n;
  const cpu = process.cpuUsage(cpu0);
  const ms = (x) => Math.round(x * 1000) / 1000;
  // CPU time is the better figure on a shared machine; wall time includes waiting for a core.
  return {
    inputChars: sample.length,
    cpuMsPerCall: ms((cpu.user + cpu.system) / 1000 / n),
    wallMsPerCall: ms(wallMs),
    targetMs: SPEED_TARGET_MS,
  };
}

const perKind = Object.fromEntries(
  Object.entries(KINDS).map(([kind, fn]) => [kind, measure(kind, fn)]),
);
const all = Object.values(perKind).flat();
const summary = {
  prompts: summarize(perKind.prompts),
  responses: summarize(perKind.responses),
  overall: summarize(all),
};
const results = {
  tokenizer: "gpt-tokenizer o200k_base (cl100k_base alongside)",
  generatedAt: new Date().toISOString(),
  node: process.version,
  summary,
  timing: timing(),
  files: all,
};

const outDir = join(root, "bench/results");
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "optimize.json"), JSON.stringify(results, null, 2) + "\n");

const row = (cells, widths) =>
  cells.map((c, i) => String(c)[i === 0 ? "padEnd" : "padStart"](widths[i])).join("  ");
const widths = [10, 6, 14, 13, 10, 12, 10, 13, 12];
console.log("optimizePrompt / optimizeResponse on test/fixtures/optimize-corpus");
console.log("tokens: gpt-tokenizer o200k_base (cl100k_base in the last column)\n");
console.log(
  row(
    [
      "corpus",
      "files",
      "tokens before",
      "tokens after",
      "reduction",
      "median file",
      "chars red.",
      "preservation",
      "cl100k red.",
    ],
    widths,
  ),
);
for (const [name, s] of Object.entries(summary)) {
  console.log(
    row(
      [
        name,
        s.files,
        s.tokens.before,
        s.tokens.after,
        `${s.tokens.reductionPct}%`,
        `${s.tokens.medianFileReductionPct}%`,
        `${s.chars.reductionPct}%`,
        `${s.preservation.passed}/${s.preservation.total}`,
        `${s.tokensCl100k.reductionPct}%`,
      ],
      widths,
    ),
  );
}
console.log(
  `\nrules (files changed): ${Object.entries(summary.overall.filesChangedByRule)
    .sort((a, b) => b[1] - a[1])
    .map(([r, n]) => `${r} ${n}`)
    .join(", ")}`,
);
console.log(`idempotent: ${summary.overall.idempotent.passed}/${summary.overall.idempotent.total}`);
console.log(
  `speed: ${results.timing.cpuMsPerCall} ms CPU (${results.timing.wallMsPerCall} ms wall) per optimizePrompt call on ${results.timing.inputChars} chars` +
    ` (target < ${SPEED_TARGET_MS} ms: ${results.timing.cpuMsPerCall < SPEED_TARGET_MS ? "met" : "missed"})`,
);
console.log("wrote bench/results/optimize.json");

const failed = all.filter((f) => !f.preserved || !f.idempotent);
for (const f of failed) {
  console.error(
    `FAIL ${f.file}: ${f.preserved ? "not idempotent" : `lost ${JSON.stringify(f.lost.slice(0, 5))}`}`,
  );
}
process.exit(failed.length ? 1 : 0);
