import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { narrowIfPresent } from "../store/private-files.js";
import { recorderConfigFromEnv } from "../store/recorder.js";
import { runDatasette } from "./logs-datasette.js";

/**
 * `llm-cli-gateway logs`: the flight recorder's common look-ups without SQL. Opens logs.db
 * read-only. Output goes to stdout (this is a command, not the MCP server).
 */

export interface LogsIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Terminal width for tables (default: stdout's, else 120). */
  columns?: number;
}

const defaultIo: LogsIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

export const LOGS_USAGE = `Usage:
  llm-cli-gateway logs [filters] [--limit N] [--json]   recent calls, newest first
  llm-cli-gateway logs show <correlationId | consultationId | id> [--json]
                                                        one call in full (every row with that id; every
                                                        call of a consult/review)
  llm-cli-gateway logs search <text> [filters] [--limit N] [--raw] [--json]
                                                        full-text search of ended calls' prompts and responses
  llm-cli-gateway logs usage [--days N] [--by-day] [filters] [--json]
                                                        calls, tokens and cost per CLI and model
  llm-cli-gateway logs datasette [--run] [-- datasette options]
                                                        the Datasette command for logs.db with its metadata
                                                        (prints it; --run runs it)

Filters: --cli claude|codex|gemini  --model ID  --session ID (gateway or CLI session id)
         --status started|completed|failed|canceled|interrupted|rejected  --job ID
Other:   --db PATH (default: LLM_GATEWAY_LOGS_DB, else <LLM_GATEWAY_HOME>/logs.db)
         --raw  pass the search text to SQLite FTS5 as a query (AND, OR, NOT, "phrases", prefix*)
Costs marked ~ include estimates from the price table (see docs/SCHEMA.md).
`;

const OPTIONS = {
  cli: { type: "string" },
  model: { type: "string" },
  session: { type: "string" },
  status: { type: "string" },
  job: { type: "string" },
  limit: { type: "string" },
  days: { type: "string" },
  "by-day": { type: "boolean" },
  raw: { type: "boolean" },
  json: { type: "boolean" },
  run: { type: "boolean" },
  db: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const STATUSES = ["started", "completed", "failed", "canceled", "interrupted", "rejected"];

class UsageError extends Error {}

/** Runs `logs …` (argv without the `logs` word). Returns the exit code. */
export async function runLogsCommand(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  io: LogsIo = defaultIo,
): Promise<number> {
  let db: Database.Database | undefined;
  // `logs | head` closes the pipe early: that is not an error.
  if (io === defaultIo)
    process.stdout.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(0);
      throw err;
    });
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.stdout(LOGS_USAGE);
      return 0;
    }
    const [sub, ...rest] = positionals;
    if (sub !== undefined && !["show", "search", "usage", "datasette"].includes(sub))
      throw new UsageError(`unknown logs command "${sub}"`);

    const path = values.db ?? dbPath(env);
    if (path === null) {
      io.stderr(
        "The flight recorder is disabled (LLM_GATEWAY_LOGS_DB is empty or none): there are no logs.\n",
      );
      return 1;
    }
    if (!existsSync(path)) {
      // A fresh home: not an error, there is just nothing to show yet.
      io.stderr(`Nothing recorded yet: no flight recorder database at ${path}.\n`);
      if (values.json) io.stdout(sub === "usage" ? '{ "days": 0, "rows": [] }\n' : "[]\n");
      return sub === "show" ? 1 : 0;
    }
    if (sub === "datasette") return await runDatasette(path, rest, !!values.run, io);
    db = openReadOnly(path);
    const filters = filtersOf(values);
    const limit = positiveInt(values.limit, "--limit") ?? 20;
    const width = io.columns ?? process.stdout.columns ?? 120;

    switch (sub) {
      case undefined:
        return printList(io, width, !!values.json, listCalls(db, filters, limit));
      case "show": {
        if (rest.length !== 1) throw new UsageError("logs show needs one correlation id or row id");
        const rows = showCall(db, rest[0]!);
        if (rows.length === 0) {
          io.stderr(`No call with correlation id or row id "${rest[0]}".\n`);
          return 1;
        }
        if (values.json) io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
        else io.stdout(rows.map(formatCall).join("\n"));
        return 0;
      }
      case "search": {
        const text = rest.join(" ").trim();
        if (!text) throw new UsageError("logs search needs some text");
        const query = values.raw ? text : ftsQuery(text);
        let found: CallSummary[];
        try {
          found = searchCalls(db, query, filters, limit);
        } catch (err) {
          io.stderr(
            `Search query not understood by SQLite FTS5 (${err instanceof Error ? err.message : String(err)}). Without --raw, words are searched as they are.\n`,
          );
          return 2;
        }
        return printList(io, width, !!values.json, found, true);
      }
      case "usage": {
        const days = positiveInt(values.days, "--days") ?? 30;
        const rows = usageSummary(db, days, !!values["by-day"], filters);
        if (values.json) io.stdout(`${JSON.stringify({ days, rows }, null, 2)}\n`);
        else io.stdout(formatUsage(rows, days, !!values["by-day"]));
        return 0;
      }
    }
    return 0;
  } catch (err) {
    if (
      err instanceof UsageError ||
      (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
    ) {
      io.stderr(`${(err as Error).message}\n\n${LOGS_USAGE}`);
      return 2;
    }
    io.stderr(`logs: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    db?.close();
  }
}

function dbPath(env: NodeJS.ProcessEnv): string | null {
  const home = env.LLM_GATEWAY_HOME || join(env.HOME || homedir(), ".llm-cli-gateway");
  return recorderConfigFromEnv({ ...env, LLM_GATEWAY_PRICES: undefined }, home).path;
}

/** Read-only; where the WAL index cannot be opened read-only, a query-only connection. */
function openReadOnly(path: string): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.prepare("SELECT 1 FROM sqlite_master LIMIT 1").get();
  } catch {
    db = new Database(path, { fileMustExist: true });
    db.pragma("query_only = ON");
  }
  db.pragma("busy_timeout = 5000");
  // Opening may create the -wal and -shm files: owner-only, like the database (they hold its pages).
  for (const file of [path, `${path}-wal`, `${path}-shm`]) narrowIfPresent(file);
  const isRecorder = db
    .prepare(
      `SELECT count(*) FROM sqlite_master WHERE name IN ('calls', 'usage_daily', 'calls_fts')`,
    )
    .pluck()
    .get();
  if (isRecorder !== 3) {
    db.close();
    throw new Error(`${path} is not a flight recorder database (no calls table)`);
  }
  return db;
}

// ---------------------------------------------------------------------------------------------
// Queries

interface Filters {
  cli?: string;
  model?: string;
  session?: string;
  status?: string;
  job?: string;
}

function filtersOf(v: Record<string, unknown>): Filters {
  const status = v.status as string | undefined;
  if (status !== undefined && !STATUSES.includes(status))
    throw new UsageError(`--status must be one of ${STATUSES.join(", ")}`);
  return {
    cli: v.cli as string | undefined,
    model: v.model as string | undefined,
    session: v.session as string | undefined,
    status,
    job: v.job as string | undefined,
  };
}

function where(f: Filters, alias = "calls"): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const eq = (column: string, value: string | undefined) => {
    if (!value) return;
    parts.push(`${alias}.${column} = ?`);
    params.push(value);
  };
  eq("cli", f.cli);
  eq("model", f.model);
  eq("status", f.status);
  eq("job_id", f.job);
  if (f.session) {
    // Each id from its index, no table lookups: fast even for a session of thousands of calls.
    parts.push(
      `${alias}.id IN (SELECT id FROM calls WHERE gateway_session_id = ? UNION ALL SELECT id FROM calls WHERE native_session_id = ?)`,
    );
    params.push(f.session, f.session);
  }
  return { sql: parts.length ? parts.join(" AND ") : "1", params };
}

export interface CallSummary {
  id: number;
  correlation_id: string;
  started_at: string;
  duration_ms: number | null;
  status: string;
  cli: string;
  model: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
  cost_estimated: number;
  error_category: string | null;
  gateway_session_id: string | null;
  native_session_id: string | null;
  job_id: string | null;
  prompt_start: string | null;
  snippet?: string;
}

const SUMMARY = `calls.id, calls.correlation_id, calls.started_at, calls.duration_ms, calls.status,
  calls.cli, calls.model, calls.input_tokens, calls.output_tokens, calls.cost_usd,
  calls.cost_estimated, calls.error_category, calls.gateway_session_id, calls.native_session_id,
  calls.job_id, substr(calls.prompt, 1, 300) AS prompt_start`;

export function listCalls(db: Database.Database, f: Filters, limit: number): CallSummary[] {
  const w = where(f);
  return db
    .prepare(`SELECT ${SUMMARY} FROM calls WHERE ${w.sql} ORDER BY calls.id DESC LIMIT ?`)
    .all(...w.params, limit) as CallSummary[];
}

export function searchCalls(
  db: Database.Database,
  query: string,
  f: Filters,
  limit: number,
): CallSummary[] {
  const w = where(f);
  return db
    .prepare(
      `SELECT ${SUMMARY}, snippet(calls_fts, -1, '[', ']', '…', 12) AS snippet
       FROM calls_fts JOIN calls ON calls.id = calls_fts.rowid
       WHERE calls_fts MATCH ? AND ${w.sql}
       ORDER BY calls_fts.rowid DESC LIMIT ?`,
    )
    .all(query, ...w.params, limit) as CallSummary[];
}

export function showCall(db: Database.Database, key: string): Record<string, unknown>[] {
  let rows = db
    .prepare(`SELECT * FROM calls WHERE correlation_id = ? ORDER BY id DESC`)
    .all(key) as Record<string, unknown>[];
  // A consult/review: all its calls, in the order they started (older databases lack the column).
  const hasConsultations = (
    db.prepare(`SELECT name FROM pragma_table_info('calls')`).pluck().all() as string[]
  ).includes("consultation_id");
  if (rows.length === 0 && hasConsultations)
    rows = db
      .prepare(`SELECT * FROM calls WHERE consultation_id = ? ORDER BY id`)
      .all(key) as Record<string, unknown>[];
  if (rows.length === 0 && /^\d+$/.test(key))
    rows = db.prepare(`SELECT * FROM calls WHERE id = ?`).all(Number(key)) as Record<
      string,
      unknown
    >[];
  for (const row of rows)
    for (const col of ["thinking", "approval_decision", "optimization"])
      if (typeof row[col] === "string") {
        try {
          row[col] = JSON.parse(row[col] as string);
        } catch {
          /* keep the text */
        }
      }
  return rows;
}

export interface UsageRow {
  day?: string;
  cli: string;
  model: string | null;
  calls: number;
  completed: number;
  failed: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
  estimated_cost_calls: number;
  avg_duration_ms: number | null;
}

/**
 * Totals per CLI and model (and day) over the last `days` UTC days, today included, from the
 * usage_daily table the recorder's triggers keep: instant on any number of calls. It counts calls
 * that have ended (or were rejected).
 */
export function usageSummary(
  db: Database.Database,
  days: number,
  byDay: boolean,
  f: Filters = {},
): UsageRow[] {
  if (f.session || f.status || f.job)
    throw new UsageError("logs usage filters by --cli and --model only");
  const since = new Date(Date.now() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  const params: unknown[] = [since];
  let filter = "";
  if (f.cli) {
    filter += " AND cli = ?";
    params.push(f.cli);
  }
  if (f.model) {
    filter += " AND model = ?";
    params.push(f.model);
  }
  const group = byDay ? "day, cli, model" : "cli, model";
  return db
    .prepare(
      `SELECT ${byDay ? "day," : ""} cli, nullif(model, '') AS model,
        sum(calls) AS calls,
        sum(completed) AS completed,
        sum(failed + interrupted) AS failed,
        sum(input_tokens) AS input_tokens,
        sum(output_tokens) AS output_tokens,
        sum(cache_read_tokens) AS cache_read_tokens,
        sum(cache_write_tokens) AS cache_write_tokens,
        sum(reasoning_tokens) AS reasoning_tokens,
        round(sum(cost_usd), 6) AS cost_usd,
        sum(estimated_cost_calls) AS estimated_cost_calls,
        cast(round(1.0 * sum(duration_ms) / nullif(sum(calls - rejected), 0)) AS INTEGER)
          AS avg_duration_ms
       FROM usage_daily WHERE day >= ?${filter}
       GROUP BY ${group} ORDER BY ${byDay ? "day DESC, " : ""}sum(cost_usd) DESC, sum(calls) DESC`,
    )
    .all(...params) as UsageRow[];
}

/** Plain words become an AND of quoted terms, so punctuation never reads as FTS5 syntax. */
export function ftsQuery(text: string): string {
  return text
    .split(/\s+/)
    .filter(Boolean)
    .map((t) => `"${t.replace(/"/g, '""')}"`)
    .join(" ");
}

// ---------------------------------------------------------------------------------------------
// Output

function printList(
  io: LogsIo,
  width: number,
  json: boolean,
  rows: CallSummary[],
  search = false,
): number {
  if (json) {
    io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    io.stdout("No calls match.\n");
    return 0;
  }
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
  io.stdout(renderTable([...header, search ? "MATCH" : "PROMPT"], table, texts, width));
  return 0;
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

function formatCall(row: Record<string, unknown>): string {
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

function formatUsage(rows: UsageRow[], days: number, byDay: boolean): string {
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

function positiveInt(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new UsageError(`${name} must be a positive integer`);
  return n;
}
