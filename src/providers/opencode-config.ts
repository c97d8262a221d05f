import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { GatewayError, invalidInput } from "../errors.js";
import { isObject, str, tryJson } from "./parse-util.js";
import type { McpPlan } from "./types.js";

/** The options of an opencode request (defined here, beside the config they become). */
export interface OpencodeOptions {
  /**
   * `--auto` and every permission "allow": opencode runs commands, edits files and calls any MCP
   * tool without asking. opencode's own default allows all of that too; the gateway denies it
   * unless asked (see runtimeConfig).
   */
  bypassPermissions?: boolean;
  /** permission.edit "allow": opencode's edit/write/patch tools change the workspace. */
  workspaceWrite?: boolean;
  /** opencode permission keys set to "allow" (`bash`, `edit`, `webfetch`, an MCP tool name). */
  allowedTools?: string[];
}

type Config = Record<string, unknown>;

const SERVER_NAME = /^[A-Za-z0-9_-]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The config one request adds to opencode's, in OPENCODE_CONFIG_CONTENT: the config opencode
 * merges last, over the user's and the project's (an opencode.json in a repository cannot lift
 * the gateway's permissions). opencode allows commands, edits and MCP tools by default: unless
 * granted, they are denied. The MCP servers' env values go in files (0600, removed after the
 * run) that the config names with `{file:…}`: in the environment, the agent's commands would
 * inherit them.
 */
export function runtimeConfig(
  options: OpencodeOptions,
  mcp: McpPlan | undefined,
  env: Readonly<NodeJS.ProcessEnv>,
  scratchDir: string,
): { content: string; files: Record<string, string> } {
  const base = inheritedContent(env);
  const files: Record<string, string> = {};
  const servers: Config = {};
  const permission: Config = options.bypassPermissions
    ? { "*": "allow" }
    : { bash: "deny", edit: options.workspaceWrite ? "allow" : "deny" };
  for (const [name, def] of Object.entries(mcp?.servers ?? {})) {
    if (!SERVER_NAME.test(name))
      throw invalidInput(
        `mcpServers: opencode needs server names of letters, digits, _ and - ("${name}")`,
      );
    const environment: Record<string, string> = {};
    for (const [key, value] of Object.entries(def.env ?? {})) {
      if (!ENV_NAME.test(key))
        throw invalidInput(
          `mcpServers: the env of MCP server "${name}" has an invalid variable name "${key}"`,
        );
      const file = `mcp-env-${name}-${key}`;
      files[file] = value;
      environment[key] = `{file:${join(scratchDir, file)}}`;
    }
    servers[name] = {
      type: "local",
      command: [def.command, ...(def.args ?? [])],
      enabled: true,
      ...(Object.keys(environment).length ? { environment } : {}),
    };
    // MCP tools are named <server>_<tool>.
    if (!options.bypassPermissions)
      permission[`${name}_*`] = mcp!.callable.includes(name) ? "allow" : "deny";
  }
  if (!options.bypassPermissions)
    for (const tool of options.allowedTools ?? []) permission[tool] = "allow";
  const merged: Config = {
    ...base,
    permission: { ...(isObject(base.permission) ? base.permission : {}), ...permission },
  };
  if (Object.keys(servers).length)
    merged.mcp = { ...(isObject(base.mcp) ? base.mcp : {}), ...servers };
  return { content: JSON.stringify(merged), files };
}

/** The gateway's own OPENCODE_CONFIG_CONTENT, which the request's config extends. */
function inheritedContent(env: Readonly<NodeJS.ProcessEnv>): Config {
  const text = env.OPENCODE_CONFIG_CONTENT;
  if (!text) return {};
  const value = tryJson(text);
  if (!isObject(value))
    throw new GatewayError(
      "config_error",
      "OPENCODE_CONFIG_CONTENT in the gateway's environment is not a JSON object: fix or unset it",
    );
  return value;
}

/**
 * The model `opencode run` uses without `-m`, from the configs it merges (later wins):
 * $XDG_CONFIG_HOME/opencode/{config.json,opencode.json,opencode.jsonc}, $OPENCODE_CONFIG, the
 * project's opencode.json(c) and .opencode/opencode.json(c) from the git root down to cwd,
 * OPENCODE_CONFIG_CONTENT. Undefined when none names one (opencode then picks from its providers).
 */
export function opencodeConfiguredModel(env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME ?? "", ".config");
  const paths = ["config.json", "opencode.json", "opencode.jsonc"].map((f) =>
    join(configHome, "opencode", f),
  );
  if (env.OPENCODE_CONFIG) paths.push(env.OPENCODE_CONFIG);
  for (const dir of projectDirs(cwd))
    for (const f of [
      "opencode.json",
      "opencode.jsonc",
      ".opencode/opencode.json",
      ".opencode/opencode.jsonc",
    ])
      paths.push(join(dir, f));
  let model: string | undefined;
  for (const path of paths) model = modelOf(readJsonc(path)) ?? model;
  if (env.OPENCODE_CONFIG_CONTENT) model = modelOf(tryJson(env.OPENCODE_CONFIG_CONTENT)) ?? model;
  return model;
}

const modelOf = (config: unknown) =>
  isObject(config) && str(config.model) ? str(config.model) : undefined;

/** cwd and its parents up to the nearest git checkout (cwd alone outside one), outermost first. */
function projectDirs(cwd: string): string[] {
  const dirs: string[] = [];
  for (let dir = cwd; ; dir = dirname(dir)) {
    dirs.unshift(dir);
    if (existsSync(join(dir, ".git"))) return dirs;
    if (dirname(dir) === dir) return [cwd];
  }
}

function readJsonc(path: string): unknown {
  try {
    return tryJson(stripJsonc(readFileSync(path, "utf8")));
  } catch {
    return undefined;
  }
}

/** JSON with comments and trailing commas, made JSON (strings left alone). */
export function stripJsonc(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      const end = stringEnd(text, i);
      out += text.slice(i, end);
      i = end - 1;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 1;
    } else out += c;
  }
  return out.replace(/,(\s*[}\]])/g, "$1");
}

function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i + 1;
  }
  return text.length;
}
