// Order statistics for repeated measurements: median, p90 and max (plus min and n), nothing fancier.

/** Summary of a list of numbers; null fields when the list is empty. */
export function summarize(values) {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = xs.length;
  if (n === 0) return { n: 0, min: null, median: null, p90: null, max: null };
  const mid = Math.floor(n / 2);
  const median = n % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
  // Nearest-rank p90: the smallest value with at least 90% of the runs at or below it.
  const p90 = xs[Math.min(n - 1, Math.ceil(0.9 * n) - 1)];
  return { n, min: xs[0], median, p90, max: xs[n - 1] };
}

/** Element-wise a[i] - b[i] for paired runs (same round, adjacent in time). */
export function pairedDiff(a, b) {
  const n = Math.min(a.length, b.length);
  const out = [];
  for (let i = 0; i < n; i++) out.push(a[i] - b[i]);
  return out;
}

/** Round to `digits` decimals for reports (keeps JSON readable). */
export function round(value, digits = 1) {
  if (value === null || value === undefined || !Number.isFinite(value)) return value ?? null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A summary with every field rounded. */
export function roundSummary(summary, digits = 1) {
  const out = {};
  for (const [k, v] of Object.entries(summary)) out[k] = k === "n" ? v : round(v, digits);
  return out;
}

/** Rotate an array by k (used to alternate which variant of a comparison runs first). */
export function rotate(items, k) {
  const n = items.length;
  const s = ((k % n) + n) % n;
  return [...items.slice(s), ...items.slice(0, s)];
}
