// A fake claude / codex / gemini that answers with a large reply (BENCH_BIG_BYTES bytes of text from
// big-text.mjs) in that CLI's real output format, chosen from its arguments like
// test/fakes/fake-cli.mjs does (json or stream-json) and built from the same captured samples. It
// streams the reply, so the fake itself stays small whatever the size. No directives: the size comes
// from the environment, which the gateway passes on to its CLIs.
import { once } from "node:events";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { textChunks } from "./big-text.mjs";

const SAMPLES = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "test",
  "fixtures",
  "samples",
);
const MARK = "\u0001BENCH-TEXT\u0001";
const ESCAPED_MARK = JSON.stringify(MARK).slice(1, -1);

const sample = (name) => readFileSync(join(SAMPLES, name), "utf8");
const sampleLines = (name) =>
  sample(name)
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

/** Each format as a document with MARK where the reply text goes (claude stream-json has it twice). */
const TEMPLATES = {
  claude(sessionId, streaming) {
    const result = JSON.stringify({
      ...JSON.parse(sample("claude-turn1.json")),
      result: MARK,
      session_id: sessionId,
    });
    if (!streaming) return result + "\n";
    const [init, assistant] = sampleLines("claude-turn3-continue.stream.jsonl");
    assistant.message.content = [{ type: "text", text: MARK }];
    assistant.session_id = sessionId;
    return (
      [{ ...init, session_id: sessionId }, assistant].map((e) => JSON.stringify(e)).join("\n") +
      "\n" +
      result +
      "\n"
    );
  },
  codex(sessionId) {
    const lines = sampleLines("codex-turn1.jsonl");
    lines[0].thread_id = sessionId;
    lines[2].item.text = MARK;
    return lines.map((l) => JSON.stringify(l)).join("\n") + "\n";
  },
  gemini(sessionId) {
    const doc = JSON.parse(sample("gemini-turn1.json"));
    return JSON.stringify({ ...doc, session_id: sessionId, response: MARK }, null, 2);
  },
};

/** `--version` as the real CLIs answer it (the gateway asks it 2 s after start, for doctor). */
const VERSIONS = { claude: "2.1.331 (Claude Code)", codex: "codex-cli 0.169.0", gemini: "0.61.0" };

export async function main(cli) {
  if (process.argv[2] === "--version") return write(`${VERSIONS[cli]}\n`);
  let prompt = "";
  for await (const chunk of process.stdin) prompt += chunk; // a CLI reads its whole prompt first
  const argv = process.argv.slice(2);
  const bytes = Number(process.env.BENCH_BIG_BYTES ?? 0);
  const streaming =
    flag(argv, "--output-format") === "stream-json" || flag(argv, "-o") === "stream-json";
  if (cli === "gemini" && streaming) return geminiStream(bytes, prompt);
  const segments = TEMPLATES[cli](randomUUID(), streaming).split(ESCAPED_MARK);
  for (const [i, segment] of segments.entries()) {
    await write(segment);
    if (i < segments.length - 1)
      for (const chunk of textChunks(bytes)) await write(JSON.stringify(chunk).slice(1, -1));
  }
}

/** gemini -o stream-json: init, the user message, one assistant delta per chunk, the result. */
async function geminiStream(bytes, prompt) {
  const [init, user, , , , result] = sampleLines("gemini-turn3-continue.stream.jsonl");
  await write(JSON.stringify({ ...init, session_id: randomUUID() }) + "\n");
  await write(JSON.stringify({ ...user, content: prompt }) + "\n");
  const timestamp = new Date().toISOString();
  for (const content of textChunks(bytes))
    await write(
      JSON.stringify({ type: "message", timestamp, role: "assistant", content, delta: true }) +
        "\n",
    );
  await write(JSON.stringify(result) + "\n");
}

function flag(argv, name) {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function write(text) {
  if (!process.stdout.write(text)) await once(process.stdout, "drain");
}
