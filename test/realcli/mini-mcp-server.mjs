// A tiny stdio MCP server for the real-CLI lane: one tool, echo_marker, that answers
// MCP-ECHO[<text>] and appends each call to $MINI_MCP_LOG, so a test can see that a CLI called it.
import { appendFileSync } from "node:fs";
import readline from "node:readline";

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
    if (process.env.MINI_MCP_LOG)
      appendFileSync(process.env.MINI_MCP_LOG, JSON.stringify({ text }) + "\n");
    return reply({ content: [{ type: "text", text: `MCP-ECHO[${text}]` }] });
  }
  if (m.method === "ping") return reply({});
  send({ jsonrpc: "2.0", id: m.id, error: { code: -32601, message: "method not found" } });
});
