// A stand-in for the real claude, codex and gemini CLIs, for the fast test lane.
// It answers in each CLI's real output format (built from the captured samples in
// test/fixtures/samples), records how it was called, and obeys [[fake:...]] directives
// found in the prompt it reads from stdin.
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SAMPLES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "samples");

export async function main(cli) {
  const argv = process.argv.slice(2);
  const stdin = await readStdin();
  const directives = { ...parseDirectives(stdin), ...scripted(cli, stdin) };
  if (process.env.FAKE_CLI_LOG) {
    appendFileSync(
      process.env.FAKE_CLI_LOG,
      JSON.stringify({ cli, argv, stdin, cwd: process.cwd(), pid: process.pid }) + "\n",
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
    argValue(argv, "--resume") ?? argValue(argv, "--session-id") ?? resumeId(argv) ?? randomUUID();
  const model = argValue(argv, "--model") ?? argValue(argv, "-m");
  const streaming =
    argValue(argv, "--output-format") === "stream-json" || argValue(argv, "-o") === "stream-json";
  process.stdout.write((streaming ? STREAMS : FORMATS)[cli]({ text, sessionId, model }));
  process.exitCode = directives.exit ? Number(directives.exit) : 0;
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
    const events = [{ ...init, session_id: sessionId, model: m }, user, ...deltas, result];
    return events.map((e) => JSON.stringify(e)).join("\n") + "\n";
  },
};

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
