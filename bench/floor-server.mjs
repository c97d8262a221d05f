#!/usr/bin/env node
// The floor: the least any Node stdio MCP gateway can cost. No dependencies, no validation, no
// sessions, no parsing: newline-delimited JSON-RPC in, spawn the CLI with the prompt on stdin, return
// its stdout as the text. The bench runs it next to the gateway and hands it the exact arguments the
// gateway gives each CLI (BENCH_FLOOR_ARGS, JSON {cli: argv}), so both make the CLI do the same work.
import { spawn } from "node:child_process";

const ARGS = {
  claude: ["-p", "--output-format", "json"],
  codex: ["exec", "--json", "--skip-git-repo-check", "-"],
  gemini: ["-o", "json"],
  ...JSON.parse(process.env.BENCH_FLOOR_ARGS || "{}"),
};
const COMMANDS = Object.fromEntries(
  ["claude", "codex", "gemini"].map((cli) => [`${cli}_request`, [cli, ARGS[cli]]]),
);
const TOOLS = Object.keys(COMMANDS).map((name) => ({
  name,
  description: `Run ${COMMANDS[name][0]} on a prompt and return its stdout.`,
  inputSchema: { type: "object", properties: { prompt: { type: "string" } }, required: ["prompt"] },
}));

let pending = [];
process.stdin.on("data", (chunk) => {
  let start = 0;
  let nl = chunk.indexOf(10);
  while (nl !== -1) {
    const line = Buffer.concat([...pending, chunk.subarray(start, nl)]);
    pending = [];
    if (line.length) handle(JSON.parse(line.toString("utf8")));
    start = nl + 1;
    nl = chunk.indexOf(10, start);
  }
  if (start < chunk.length) pending.push(chunk.subarray(start));
});
process.stdin.on("end", () => process.exit(0));

function send(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

function handle(msg) {
  if (msg.id === undefined) return; // notifications
  const reply = (result) => send({ jsonrpc: "2.0", id: msg.id, result });
  switch (msg.method) {
    case "initialize":
      return reply({
        protocolVersion: msg.params?.protocolVersion ?? "2025-06-18",
        capabilities: { tools: {} },
        serverInfo: { name: "bench-floor", version: "1.0.0" },
      });
    case "ping":
      return reply({});
    case "tools/list":
      return reply({ tools: TOOLS });
    case "tools/call":
      return run(msg.params?.name, msg.params?.arguments ?? {}, reply);
    default:
      return send({
        jsonrpc: "2.0",
        id: msg.id,
        error: { code: -32601, message: `Method not found: ${msg.method}` },
      });
  }
}

function run(tool, args, reply) {
  const [command, argv] = COMMANDS[tool] ?? [];
  if (!command) return reply({ isError: true, content: [{ type: "text", text: "unknown tool" }] });
  // detached (own session) like the gateway, so both get the same CPU share on a busy Linux machine
  const child = spawn(command, argv, { detached: true, stdio: ["pipe", "pipe", "ignore"] });
  const out = [];
  child.stdout.on("data", (c) => out.push(c));
  child.stdin.on("error", () => {});
  child.stdin.end(String(args.prompt ?? ""));
  child.on("error", (err) =>
    reply({ isError: true, content: [{ type: "text", text: err.message }] }),
  );
  child.on("close", (code) =>
    reply({
      isError: code !== 0,
      content: [{ type: "text", text: Buffer.concat(out).toString("utf8") }],
    }),
  );
}
