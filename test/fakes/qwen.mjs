// The fake qwen (Qwen Code), for fake-cli.mjs: its stream-json built from the captured sample
// (test/fixtures/samples/qwen-turn1.stream.jsonl), the flags the real one reads.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SAMPLES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "samples");
const flag = (argv, name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);

export const tested = "0.24.4";
export const versionLine = (v) => v;

/** -r <id> resumes, --session-id <id> names a new session. */
export const sessionId = (argv) => flag(argv, "-r") ?? flag(argv, "--session-id");

/** --mcp-config <file or JSON>, as qwen reads it. */
export function mcpSeen(argv) {
  const config = flag(argv, "--mcp-config");
  if (config === undefined) return undefined;
  const doc = JSON.parse(
    config.trimStart().startsWith("{") ? config : readFileSync(config, "utf8"),
  );
  return { servers: doc.mcpServers };
}

export const progressEvent = (i) => ({
  type: "assistant",
  message: {
    role: "assistant",
    content: [{ type: "tool_use", name: "read_file", input: { n: i } }],
  },
});

export function output({ text, sessionId, model }) {
  const events = readFileSync(join(SAMPLES, "qwen-turn1.stream.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const m = model ?? "qwen3-coder-plus";
  for (const e of events) {
    e.session_id = sessionId;
    if (e.type === "system") e.model = m;
    if (e.type === "assistant") {
      e.message.model = m;
      e.message.content = [{ type: "text", text }];
    }
    if (e.type === "result") e.result = text;
  }
  return events.map((e) => JSON.stringify(e)).join("\n") + "\n";
}
