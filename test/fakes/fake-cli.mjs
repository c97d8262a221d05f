// A stand-in for the real claude, codex and gemini CLIs, for the fast test lane.
// It answers in each CLI's real output format (built from the captured samples in
// test/fixtures/samples), records how it was called, and obeys [[fake:...]] directives
// found in the prompt it reads from stdin.
import { spawn } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  lstatSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SAMPLES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "samples");

/** A CLI added after the first three keeps its fake in test/fakes/<cli>.mjs (see qwen.mjs). */
async function pluginFor(cli) {
  if (cli in FORMATS) return undefined;
  const plugin = await import(new URL(`./${cli}.mjs`, import.meta.url).href);
  FORMATS[cli] = STREAMS[cli] = plugin.output;
  MCP_SEEN[cli] = plugin.mcpSeen;
  PROGRESS_EVENTS[cli] = plugin.progressEvent;
  TESTED[cli] = plugin.tested;
  return plugin;
}

export async function main(cli) {
  const argv = process.argv.slice(2);
  const plugin = await pluginFor(cli);
  if (answerModelFree(cli, argv, plugin)) return;
  const stdin = await readStdin();
  const directives = { ...parseDirectives(stdin), ...scripted(cli, stdin) };
  if (process.env.FAKE_CLI_LOG) {
    appendFileSync(
      process.env.FAKE_CLI_LOG,
      JSON.stringify({
        cli,
        argv,
        stdin,
        cwd: process.cwd(),
        pid: process.pid,
        mcp: MCP_SEEN[cli](argv),
      }) + "\n",
    );
  }
  if (directives["ignore-term"] !== undefined) process.on("SIGTERM", () => {});
  if (directives.child !== undefined) {
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
      stdio: "ignore",
    });
    if (process.env.FAKE_CLI_LOG)
      appendFileSync(process.env.FAKE_CLI_LOG, JSON.stringify({ grandchild: child.pid }) + "\n");
  }
  if (directives.sleep) await sleep(Number(directives.sleep));
  if (directives.hang !== undefined) {
    process.stdout.write(directives.partial ?? "");
    setInterval(() => {}, 1000);
    return;
  }
  // [[fake:stream=N]] [[fake:every=MS]] [[fake:pad=BYTES]]: N progress events, MS apart, each
  // padded with BYTES of filler, before the answer.
  const pad = "p".repeat(Number(directives.pad ?? 0));
  for (let i = 0; i < Number(directives.stream ?? 0); i++) {
    process.stdout.write(
      JSON.stringify({ ...PROGRESS_EVENTS[cli](i), ...(pad ? { pad } : {}) }) + "\n",
    );
    await sleep(Number(directives.every ?? 100));
  }
  // [[fake:fails=N]] with [[fake:sample=X]]: only the first N runs with this prompt replay X.
  if (
    directives.sample &&
    (directives.fails === undefined || runNumber(stdin) <= Number(directives.fails))
  ) {
    return replaySample(directives.sample);
  }
  if (directives.stderr) process.stderr.write(directives.stderr + "\n");

  const text =
    directives.reply ??
    (directives.bytes ? "x".repeat(Number(directives.bytes)) : `FAKE-REPLY: ${stdin.slice(0, 40)}`);
  const sessionId =
    plugin?.sessionId(argv) ??
    argValue(argv, "--resume") ??
    argValue(argv, "--session-id") ??
    resumeId(argv) ??
    randomUUID();
  const model = argValue(argv, "--model") ?? argValue(argv, "-m");
  const streaming =
    argValue(argv, "--output-format") === "stream-json" || argValue(argv, "-o") === "stream-json";
  process.stdout.write((streaming ? STREAMS : FORMATS)[cli]({ text, sessionId, model }));
  process.exitCode = directives.exit ? Number(directives.exit) : 0;
}

/**
 * The MCP servers each CLI would load, and with what env, read the way the real ones read them:
 * claude --mcp-config (a file or JSON); codex -c mcp_servers.<name>.env_vars (names of variables
 * forwarded from its own environment); gemini's system settings file, which gemini 0.61 skips
 * unless root owns it and every directory above it, none writable by group or others.
 */
const MCP_SEEN = {
  claude(argv) {
    const config = argValue(argv, "--mcp-config");
    if (config === undefined) return undefined;
    const doc = JSON.parse(
      config.trimStart().startsWith("{") ? config : readFileSync(config, "utf8"),
    );
    return { servers: doc.mcpServers };
  },
  codex(argv) {
    const servers = {};
    for (const setting of argv.filter((_, i) => argv[i - 1] === "-c")) {
      const m = /^mcp_servers\.([\w-]+)\.env_vars=(.*)$/.exec(setting);
      if (m)
        servers[m[1]] = {
          env: Object.fromEntries(JSON.parse(m[2]).map((k) => [k, process.env[k]])),
        };
    }
    return Object.keys(servers).length ? { servers } : undefined;
  },
  gemini() {
    const path = process.env.GEMINI_CLI_SYSTEM_SETTINGS_PATH;
    if (!path || !existsSync(path)) return undefined;
    const skipped = insecureForGemini(path);
    if (skipped) return { path, skipped };
    return { path, servers: JSON.parse(readFileSync(path, "utf8")).mcpServers };
  },
};

function insecureForGemini(file) {
  for (let p = file; ; p = dirname(p)) {
    const link = lstatSync(p);
    const stat = statSync(p);
    if (link.isSymbolicLink() && link.uid !== 0) return `${p} is a symlink not owned by root`;
    if (stat.uid !== 0) return `${p} is not owned by root`;
    if (stat.mode & 0o022) return `${p} is writable by group or others`;
    if (dirname(p) === p) return undefined;
  }
}

/** One streamed event per CLI, as the real ones print while they work. */
const PROGRESS_EVENTS = {
  claude: (i) => ({
    type: "assistant",
    message: { role: "assistant", content: [{ type: "tool_use", name: "Read", input: { n: i } }] },
  }),
  codex: (i) => ({
    type: "item.started",
    item: { id: `item_${i}`, type: "command_execution", status: "in_progress" },
  }),
  gemini: (i) => ({ type: "tool_use", tool_name: "read_file", tool_id: `t${i}`, parameters: {} }),
};

/** Stream formats: claude stream-json (init, assistant, result), gemini stream-json (init, deltas, result). */
const STREAMS = {
  claude(args) {
    const { sessionId, text } = args;
    const init = {
      type: "system",
      subtype: "init",
      session_id: sessionId,
      model: args.model ?? "claude-opus-5-5",
    };
    const message = { role: "assistant", content: [{ type: "text", text }] };
    const events = [init, { type: "assistant", message, session_id: sessionId }];
    return events.map((e) => JSON.stringify(e)).join("\n") + "\n" + FORMATS.claude(args);
  },
  codex: (args) => FORMATS.codex(args),
  gemini({ text, sessionId, model }) {
    const sample = readFileSync(join(SAMPLES, "gemini-turn3-continue.stream.jsonl"), "utf8");
    const [init, user, , , , result] = sample
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const m = model ?? "gemini-2.5-pro";
    const half = Math.ceil(text.length / 2);
    const deltas = [text.slice(0, half), text.slice(half)].map((content) => ({
      type: "message",
      role: "assistant",
      content,
      delta: true,
    }));
    result.stats.models = { [m]: result.stats.models["gemini-2.5-pro"] };
    // Without -m gemini routes the turn: init names "auto", and the router's model is listed too.
    if (!model) result.stats.models = { "gemini-3.5-flash-lite": ROUTER, ...result.stats.models };
    const events = [
      { ...init, session_id: sessionId, model: model ?? "auto" },
      user,
      ...deltas,
      result,
    ];
    return events.map((e) => JSON.stringify(e)).join("\n") + "\n";
  },
};

/** The router's stats entry in a stream result (captured from gemini 0.61). */
const ROUTER = { total_tokens: 861, input_tokens: 847, output_tokens: 14, cached: 0, input: 847 };

const FORMATS = {
  claude({ text, sessionId, model }) {
    const sample = JSON.parse(readFileSync(join(SAMPLES, "claude-turn1.json"), "utf8"));
    const m = model ?? "claude-opus-5-5";
    return (
      JSON.stringify({
        ...sample,
        result: text,
        session_id: sessionId,
        modelUsage: { [m]: sample.modelUsage["claude-sonnet-4-5"] },
      }) + "\n"
    );
  },
  codex({ text, sessionId }) {
    const lines = readFileSync(join(SAMPLES, "codex-turn1.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    lines[0].thread_id = sessionId;
    lines[2].item.text = text;
    return lines.map((l) => JSON.stringify(l)).join("\n") + "\n";
  },
  gemini({ text, sessionId, model }) {
    const sample = JSON.parse(readFileSync(join(SAMPLES, "gemini-turn1.json"), "utf8"));
    const m = model ?? "gemini-2.5-pro";
    return JSON.stringify(
      {
        ...sample,
        session_id: sessionId,
        response: text,
        stats: { ...sample.stats, models: { [m]: sample.stats.models["gemini-2.5-pro"] } },
      },
      null,
      2,
    );
  },
};

function replaySample(name) {
  const base = join(SAMPLES, name);
  for (const ext of [".json", ".jsonl", ".stream.jsonl"]) {
    if (existsSync(base + ext)) {
      process.stdout.write(readFileSync(base + ext));
      return;
    }
  }
  if (existsSync(base + ".stdout")) process.stdout.write(readFileSync(base + ".stdout"));
  if (existsSync(base + ".stderr")) process.stderr.write(readFileSync(base + ".stderr"));
  const exit = existsSync(base + ".exit")
    ? /exit=(\d+)/.exec(readFileSync(base + ".exit", "utf8"))
    : null;
  process.exitCode = exit ? Number(exit[1]) : 0;
}

/** How many times a prompt has been run (counted in a file beside FAKE_CLI_LOG). */
function runNumber(prompt) {
  const file = `${process.env.FAKE_CLI_LOG}.runs.json`;
  const runs = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  runs[prompt] = (runs[prompt] ?? 0) + 1;
  writeFileSync(file, JSON.stringify(runs));
  return runs[prompt];
}

// FAKE_CLI_SCRIPT: a JSON file of rules [{ cli?, match?, directives }]; the first rule whose cli
// and prompt substring match adds its directives (replies with "]]" and per-CLI behaviour).
function scripted(cli, prompt) {
  const file = process.env.FAKE_CLI_SCRIPT;
  if (!file || !existsSync(file)) return {};
  const rules = JSON.parse(readFileSync(file, "utf8"));
  const rule = rules.find(
    (r) => (!r.cli || r.cli === cli) && (!r.match || prompt.includes(r.match)),
  );
  return rule?.directives ?? {};
}

function parseDirectives(prompt) {
  const found = {};
  for (const [, name, value] of prompt.matchAll(/\[\[fake:([\w-]+)(?:=([^\]]*))?\]\]/g))
    found[name] = value ?? "";
  return found;
}

function argValue(argv, flag) {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** codex exec ... resume <id> - */
function resumeId(argv) {
  const i = argv.indexOf("resume");
  return i >= 0 && argv[i + 1] !== "--last" ? argv[i + 1] : undefined;
}

function readStdin() {
  return new Promise((resolve) => {
    const chunks = [];
    process.stdin.on("data", (c) => chunks.push(c));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", () => resolve(""));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The model-free commands doctor and list_models use, answered as the real CLIs answer them
// (test/realcli): `--version` (FAKE_CLI_VERSION, else the tested version), claude's
// `auth status` and codex's `login status` (signed in by an API key variable or a credential file).
const TESTED = { claude: "2.1.331", codex: "0.169.0", gemini: "0.61.0" };
function answerModelFree(cli, argv, plugin) {
  const home = process.env.HOME ?? "";
  if (argv[0] === "--version") {
    const v = process.env.FAKE_CLI_VERSION || TESTED[cli];
    if (v === "broken") process.exit(3);
    const line = plugin
      ? plugin.versionLine(v)
      : { claude: `${v} (Claude Code)`, codex: `codex-cli ${v}`, gemini: v }[cli];
    process.stdout.write(`${line}\n`);
    return true;
  }
  if (cli === "claude" && argv[0] === "auth" && argv[1] === "status") {
    const dir = process.env.CLAUDE_CONFIG_DIR || join(home, ".claude");
    const loggedIn =
      Boolean(process.env.ANTHROPIC_API_KEY) || existsSync(join(dir, ".credentials.json"));
    process.stdout.write(JSON.stringify({ loggedIn, authMethod: loggedIn ? "api_key" : "none" }));
    process.exitCode = loggedIn ? 0 : 1;
    return true;
  }
  if (cli === "codex" && argv[0] === "login" && argv[1] === "status") {
    const dir = process.env.CODEX_HOME || join(home, ".codex");
    const loggedIn = existsSync(join(dir, "auth.json"));
    process.stderr.write(loggedIn ? "Logged in using an API key\n" : "Not logged in\n");
    process.exitCode = loggedIn ? 0 : 1;
    return true;
  }
  return false;
}
