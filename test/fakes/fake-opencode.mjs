// A stand-in for the real opencode (`opencode run --format json`), for the fast test lane: it answers
// in opencode's real event format (built from test/fixtures/samples/opencode-turn1.jsonl), records
// how it was called in FAKE_CLI_LOG (with the config it was given in OPENCODE_CONFIG_CONTENT), and
// obeys [[fake:reply=…]], [[fake:sample=NAME]] and [[fake:exit=N]] in the prompt on stdin.
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SAMPLES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "samples");
const VERSION = "1.18.33";

export async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === "--version") {
    process.stdout.write(`${process.env.FAKE_CLI_VERSION || VERSION}\n`);
    return;
  }
  const stdin = await readStdin();
  const directives = {};
  for (const [, name, value] of stdin.matchAll(/\[\[fake:([\w-]+)(?:=([^\]]*))?\]\]/g))
    directives[name] = value ?? "";
  const config = process.env.OPENCODE_CONFIG_CONTENT
    ? JSON.parse(process.env.OPENCODE_CONFIG_CONTENT)
    : undefined;
  if (process.env.FAKE_CLI_LOG) {
    appendFileSync(
      process.env.FAKE_CLI_LOG,
      JSON.stringify({
        cli: "opencode",
        argv,
        stdin,
        cwd: process.cwd(),
        pid: process.pid,
        config,
        mcp: mcpSeen(config),
      }) + "\n",
    );
  }
  if (directives.sample) return replay(directives.sample);
  const session = argValue(argv, "--session") ?? `ses_${randomBytes(13).toString("hex")}`;
  const text = directives.reply ?? `FAKE-REPLY: ${stdin.slice(0, 40)}`;
  const lines = readFileSync(join(SAMPLES, "opencode-turn1.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  for (const line of lines) {
    line.sessionID = session;
    line.part.sessionID = session;
    if (line.type === "text") line.part.text = text;
  }
  process.stdout.write(lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
  process.exitCode = directives.exit ? Number(directives.exit) : 0;
}

/** The MCP servers opencode would start, with the env it would give them ({file:…} read). */
function mcpSeen(config) {
  if (!config?.mcp) return undefined;
  const servers = {};
  for (const [name, def] of Object.entries(config.mcp)) {
    const env = {};
    for (const [k, v] of Object.entries(def.environment ?? {})) {
      const file = /^\{file:(.*)\}$/.exec(v);
      env[k] = file ? (existsSync(file[1]) ? readFileSync(file[1], "utf8") : undefined) : v;
    }
    servers[name] = { command: def.command, env };
  }
  return { servers };
}

function replay(name) {
  const base = join(SAMPLES, name);
  const read = (ext) => (existsSync(base + ext) ? readFileSync(base + ext) : undefined);
  const stdout = read(".jsonl") ?? read(".stdout");
  if (stdout) process.stdout.write(stdout);
  const stderr = read(".stderr");
  if (stderr) process.stderr.write(stderr);
  const exit = /exit=(\d+)/.exec(read(".exit")?.toString() ?? "exit=0");
  process.exitCode = Number(exit?.[1] ?? 0);
}

function argValue(argv, flag) {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

function readStdin() {
  return new Promise((resolve) => {
    const chunks = [];
    process.stdin.on("data", (c) => chunks.push(c));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", () => resolve(""));
  });
}
