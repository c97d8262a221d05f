import type { CallRecord, CallSummary, UsageRow } from "../recorder/read-model.js";

/** `logs`' tables and call views as text: what the read model answers, for a terminal. */

/** Recent or found calls, one line each; `search` shows the match instead of the prompt. */
export function formatList(rows: CallSummary[], width: number, search = false): string {
  if (rows.length === 0) return "No calls match.\n";
  const header = [
    "ID",
    "STARTED (UTC)",
    "CLI",
    "MODEL",
    "STATUS",
    "TIME",
    "IN/OUT",
    "COST",
    "CORRELATION ID",
  ];
  const table = rows.map((r) => [
    String(r.id),
    shortTime(r.started_at),
    r.cli,
    r.model ?? "-",
    r.status === "failed" || r.status === "rejected"
      ? `${r.status}:${r.error_category ?? "?"}`
      : r.status,
    duration(r.duration_ms),
    r.input_tokens === null && r.output_tokens === null
      ? "-"
      : `${compact(r.input_tokens)}/${compact(r.output_tokens)}`,
    money(r.cost_usd, r.cost_estimated > 0),
    r.correlation_id,
  ]);
  const texts = rows.map((r) => oneLine((search ? r.snippet : r.prompt_start) ?? ""));
  return renderTable([...header, search ? "MATCH" : "PROMPT"], table, texts, width);
}

/** Columns padded to their widest cell; the last (free text) column gets what width is left. */
function renderTable(header: string[], rows: string[][], texts: string[], width: number): string {
  const widths = header
    .slice(0, -1)
    .map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fixed = widths.reduce((a, b) => a + b + 2, 0);
  const room = Math.max(20, width - fixed);
  const line = (cells: string[], text: string) =>
    `${cells.map((c, i) => c.padEnd(widths[i]!)).join("  ")}  ${truncate(text, room)}`.trimEnd();
  return (
    [line(header.slice(0, -1), header.at(-1)!), ...rows.map((r, i) => line(r, texts[i]!))].join(
      "\n",
    ) + "\n"
  );
}

/** One call in full: its fields, then its texts (error, prompts, thinking, response). */
export function formatCall(row: CallRecord): string {
  const out: string[] = [];
  const field = (label: string, value: unknown) => {
    if (value !== null && value !== undefined && value !== "")
      out.push(`${label.padEnd(20)}${value}`);
  };
  field("id", row.id);
  field("correlation id", row.correlation_id);
  field("status", row.status);
  field("cli", row.cli);
  field("model", row.model);
  field("started at", row.started_at);
  field("ended at", row.ended_at);
  field("duration", row.duration_ms === null ? null : duration(row.duration_ms as number));
  field("exit code", row.exit_code);
  field("error", row.error_category);
  field("gateway session", row.gateway_session_id);
  field("native session", row.native_session_id);
  field("job", row.job_id);
  field("consultation", row.consultation_id);
  field("cwd", row.cwd);
  const tokens = ["input", "output", "cache_read", "cache_write", "reasoning"]
    .map((k) => [k.replace("_", " "), row[`${k}_tokens`]] as const)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k} ${v}`);
  field("tokens", tokens.join(", "));
  field(
    "cost",
    row.cost_usd === null
      ? null
      : `${money(row.cost_usd as number, row.cost_estimated === 1)}${row.cost_estimated === 1 ? " (estimated)" : ""}`,
  );
  field("retries", row.retry_count);
  field("circuit breaker", row.breaker_state);
  if (row.approval_decision) field("approval", JSON.stringify(row.approval_decision));
  if (row.optimization) field("optimization", JSON.stringify(row.optimization));
  const section = (title: string, text: unknown) => {
    if (typeof text === "string" && text !== "") out.push("", `--- ${title} ---`, text);
  };
  section("error message", row.error_message);
  section("original prompt", row.original_prompt);
  section("prompt", row.prompt);
  if (Array.isArray(row.thinking))
    row.thinking.forEach((t, i) =>
      section(`thinking ${i + 1}/${(row.thinking as unknown[]).length}`, t),
    );
  section("response", row.response);
  return `${out.join("\n")}\n`;
}

/** Usage totals, a total line, and a note when costs include estimates. */
export function formatUsage(rows: UsageRow[], days: number, byDay: boolean): string {
  if (rows.length === 0) return `No calls in the last ${days} day(s).\n`;
  const header = [
    ...(byDay ? ["DAY"] : []),
    "CLI",
    "MODEL",
    "CALLS",
    "FAILED",
    "INPUT",
    "OUTPUT",
    "CACHE R/W",
    "REASONING",
    "COST",
    "AVG TIME",
  ];
  const total = rows.reduce(
    (t, r) => {
      t.calls += r.calls;
      t.failed += r.failed;
      t.in += r.input_tokens;
      t.out += r.output_tokens;
      t.cr += r.cache_read_tokens;
      t.cw += r.cache_write_tokens;
      t.reasoning += r.reasoning_tokens;
      t.cost += r.cost_usd;
      t.estimated ||= r.estimated_cost_calls > 0;
      return t;
    },
    { calls: 0, failed: 0, in: 0, out: 0, cr: 0, cw: 0, reasoning: 0, cost: 0, estimated: false },
  );
  const body = rows.map((r) => [
    ...(byDay ? [r.day ?? ""] : []),
    r.cli,
    r.model ?? "(default)",
    String(r.calls),
    String(r.failed),
    compact(r.input_tokens),
    compact(r.output_tokens),
    `${compact(r.cache_read_tokens)}/${compact(r.cache_write_tokens)}`,
    compact(r.reasoning_tokens),
    money(r.cost_usd, r.estimated_cost_calls > 0),
    duration(r.avg_duration_ms),
  ]);
  body.push([
    ...(byDay ? [""] : []),
    "total",
    "",
    String(total.calls),
    String(total.failed),
    compact(total.in),
    compact(total.out),
    `${compact(total.cr)}/${compact(total.cw)}`,
    compact(total.reasoning),
    money(total.cost, total.estimated),
    "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const numeric = (i: number) => i >= header.indexOf("CALLS");
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const notes = total.estimated
    ? "\n~ includes estimated costs (price table; see docs/SCHEMA.md)"
    : "";
  return `Last ${days} day(s)\n${[line(header), ...body.map(line)].join("\n")}${notes}\n`;
}

const shortTime = (iso: string) => iso.slice(0, 19).replace("T", " ");

function duration(ms: number | null): string {
  if (ms === null || ms === undefined) return "-";
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return m < 60 ? `${m}m${Math.round((ms % 60_000) / 1000)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}

function compact(n: number | null): string {
  if (n === null || n === undefined) return "-";
  if (n < 10_000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 100_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(n < 10_000_000 ? 2 : 1)}M`;
}

function money(usd: number | null, estimated: boolean): string {
  if (usd === null || usd === undefined) return "-";
  const s = usd >= 100 ? usd.toFixed(0) : usd >= 1 ? usd.toFixed(2) : usd.toFixed(4);
  return `${estimated ? "~" : ""}$${s}`;
}

const oneLine = (text: string) => text.replace(/\s+/g, " ").trim();

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
