// Plain-text tables for the terminal (and Markdown tables for docs/PERFORMANCE.md).

export function textTable(title, headers, rows) {
  const cells = [headers, ...rows].map((r) =>
    r.map((c) => (c === null || c === undefined ? "-" : String(c))),
  );
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [`\n${title}`, line(cells[0]), rule, ...cells.slice(1).map(line)].join("\n");
}

export function markdownTable(headers, rows) {
  const fmt = (r) =>
    `| ${r.map((c) => (c === null || c === undefined ? "-" : String(c))).join(" | ")} |`;
  return [fmt(headers), `| ${headers.map(() => "---").join(" | ")} |`, ...rows.map(fmt)].join("\n");
}

/** "12.3" for numbers, "-" for missing values. */
export function num(value, digits = 1) {
  return value === null || value === undefined || !Number.isFinite(value)
    ? "-"
    : value.toFixed(digits);
}

/** "median / p90 / max" of a summary. */
export function spread(s, digits = 1) {
  return s && s.n
    ? `${num(s.median, digits)} / ${num(s.p90, digits)} / ${num(s.max, digits)}`
    : "-";
}
