// A tiny stdio MCP server for the real-CLI lane: one tool, echo_marker, that answers
// MCP-ECHO[<text>] and appends each call to $MINI_MCP_LOG, so a test can see that a CLI called it.
// At start it also logs the command lines of its ancestors (the CLI that started it, any wrapper,
// the gateway), read from /proc while they run, and each call logs the MINI_MCP_SECRET it received:
// a test can check that a server's env reached the server and appeared on no command line.
import { appendFileSync, readFileSync } from "node:fs";
import readline from "node:readline";

const log = (entry) =>
  process.env.MINI_MCP_LOG &&
  appendFileSync(process.env.MINI_MCP_LOG, JSON.stringify(entry) + "\n");

function ancestors() {
  const out = [];
  for (let pid = process.ppid; pid > 1 && out.length < 12;) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
      out.push({ pid, cmdline });
      // /proc/<pid>/stat: "pid (comm) state ppid ...", comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
      break;
    }
  }
  return out;
}
log({ ancestors: ancestors() });

const send = (message) => process.stdout.write(JSON.stringify(message) + "\n");
const TOOL = {
  name: "echo_marker",
  description: "Echo a marker string back",
  inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
};

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  let m;
  try {
    m = JSON.parse(line);
  } catch {
    return;
  }
  if (m.id === undefined) return;
  const reply = (result) => send({ jsonrpc: "2.0", id: m.id, result });
  if (m.method === "initialize") {
    return reply({
      protocolVersion: m.params?.protocolVersion ?? "2025-06-18",
      capabilities: { tools: {} },
      serverInfo: { name: "mini", version: "1.0.0" },
    });
  }
  if (m.method === "tools/list") return reply({ tools: [TOOL] });
  if (m.method === "tools/call") {
    const text = String(m.params?.arguments?.text ?? "");
    log({ text, secret: process.env.MINI_MCP_SECRET });
    return reply({ content: [{ type: "text", text: `MCP-ECHO[${text}]` }] });
  }
  if (m.method === "ping") return reply({});
  send({ jsonrpc: "2.0", id: m.id, error: { code: -32601, message: "method not found" } });
});
