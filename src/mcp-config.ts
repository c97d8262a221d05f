import { existsSync, readFileSync } from "node:fs";
import type { McpServerDef } from "./providers/types.js";

export const MCP_SERVER_NAME = /^[A-Za-z0-9][\w-]{0,63}$/;

/** The shape of one entry, for fixes. */
export const MCP_ENTRY_FORMAT = '{"command": "...", "args": ["..."], "env": {"KEY": "value"}}';
const FILE_FORMAT = `{"mcpServers": {"<name>": ${MCP_ENTRY_FORMAT}}}`;

/** The operator's MCP server config as read now: what is usable, what is not, and why. */
export interface McpConfigState {
  path: string;
  exists: boolean;
  /** The valid entries. */
  servers: Record<string, McpServerDef>;
  /** Entries left out, each with what is wrong with it. */
  invalid: { name: string; problem: string }[];
  /** Set when the file as a whole is unusable (not JSON, or not `{"mcpServers": {...}}`). */
  fileError?: { problem: string; fix: string };
}

/**
 * Reads the config file; never throws. The file is the user's own choice, so a mistake in it is
 * reported as such (file, entry, fix) to whoever needs it, never silently ignored.
 */
export function loadMcpConfig(path: string): McpConfigState {
  const state: McpConfigState = { path, exists: existsSync(path), servers: {}, invalid: [] };
  if (!state.exists) return state;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const problem = `cannot be read: ${(err as Error).message}`;
    return { ...state, fileError: { problem, fix: `make ${path} readable by the gateway's user` } };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const { line, column } = lineColumn(text, errorOffset(text, (err as Error).message));
    const problem = `is not valid JSON at line ${line}, column ${column}: ${(err as Error).message}`;
    return { ...state, fileError: { problem, fix: `fix the JSON in ${path} (${FILE_FORMAT})` } };
  }
  const servers = isObject(doc) ? doc.mcpServers : undefined;
  if (!isObject(servers)) {
    const problem = !isObject(doc)
      ? `is ${kind(doc)}, not an object`
      : servers === undefined
        ? 'has no "mcpServers" object'
        : `has "mcpServers" as ${kind(servers)}, not an object of servers by name`;
    return { ...state, fileError: { problem, fix: `write ${path} as ${FILE_FORMAT}` } };
  }
  for (const [name, def] of Object.entries(servers)) {
    const problem = entryProblem(name, def);
    if (problem) state.invalid.push({ name, problem });
    else state.servers[name] = def as McpServerDef;
  }
  return state;
}

/** What is wrong with one entry, or undefined when it is usable. */
function entryProblem(name: string, def: unknown): string | undefined {
  if (!MCP_SERVER_NAME.test(name))
    return 'the name must be 1-64 letters, digits, "_" or "-", starting with a letter or digit';
  if (!isObject(def)) return `the entry is ${kind(def)}, not an object ${MCP_ENTRY_FORMAT}`;
  if (def.command === undefined)
    return "command is missing (the program that starts the server; only stdio servers are supported)";
  if (typeof def.command !== "string") return `command must be a string, not ${kind(def.command)}`;
  if (!def.command.trim()) return "command is empty";
  if (def.args !== undefined) {
    if (!Array.isArray(def.args)) return `args must be an array of strings, not ${kind(def.args)}`;
    const bad = def.args.findIndex((a) => typeof a !== "string");
    if (bad >= 0) return `args[${bad}] must be a string, not ${kind(def.args[bad])}`;
  }
  if (def.env !== undefined) {
    if (!isObject(def.env)) return `env must be an object of strings, not ${kind(def.env)}`;
    for (const [key, value] of Object.entries(def.env))
      if (typeof value !== "string") return `env.${key} must be a string, not ${kind(value)}`;
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  return type === "object" ? "an object" : `a ${type}`;
}

/**
 * Where JSON.parse stopped. Node 20 names the position for most errors, not all ("Unexpected
 * token ..."): then the shortest prefix that is already broken (not merely unfinished) finds it.
 */
function errorOffset(text: string, message: string): number {
  const named = /at position (\d+)/.exec(message);
  if (named) return Number(named[1]);
  if (message.startsWith("Unexpected end of JSON input")) return text.length;
  const broken = (length: number) => {
    try {
      JSON.parse(text.slice(0, length));
      return false;
    } catch (err) {
      const m = (err as Error).message;
      if (m.startsWith("Unexpected end of JSON input")) return false;
      const at = /at position (\d+)/.exec(m);
      return !at || Number(at[1]) < length;
    }
  };
  let lo = 1;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (broken(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo - 1;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset)).split("\n");
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}
