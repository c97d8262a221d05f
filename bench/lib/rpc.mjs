// A tiny newline-delimited JSON-RPC client over a child's stdio. The bench measures the gateway and
// the floor server through this same client, so the client's own cost is minimal and equal for both.
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";

const PROTOCOL_VERSION = "2025-06-18";

export class RpcServer {
  /**
   * Starts `command args` with piped stdio. `startedAt` is taken right before spawn, so cold-start
   * figures include process creation and the runtime's own start.
   */
  constructor(command, args, { env, cwd, name = command } = {}) {
    this.name = name;
    this.nextId = 1;
    this.pending = new Map();
    this.chunks = [];
    this.stderrTail = "";
    this.startedAt = performance.now();
    this.child = spawn(command, args, { env, cwd, stdio: ["pipe", "pipe", "pipe"] });
    this.pid = this.child.pid;
    this.exited = new Promise((resolve) => {
      this.child.on("exit", (code, signal) => resolve({ code, signal }));
    });
    this.child.on("error", (err) => this.failAll(err));
    this.child.stdin.on("error", () => {}); // a server that died mid-write: reported via exit
    this.child.stdout.on("data", (chunk) => this.onData(chunk));
    this.child.stderr.on("data", (chunk) => {
      this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-8192);
    });
    this.exited.then(({ code, signal }) =>
      this.failAll(new Error(`${name} exited (${code ?? signal}); stderr: ${this.stderrTail}`)),
    );
  }

  onData(chunk) {
    const at = performance.now();
    let start = 0;
    let nl = chunk.indexOf(10);
    while (nl !== -1) {
      const piece = chunk.subarray(start, nl);
      const line = this.chunks.length === 0 ? piece : Buffer.concat([...this.chunks, piece]);
      this.chunks = [];
      this.onLine(line, at);
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    if (start < chunk.length) this.chunks.push(chunk.subarray(start));
  }

  onLine(line, at) {
    if (line.length === 0) return;
    let msg;
    try {
      msg = JSON.parse(line.toString("utf8"));
    } catch (err) {
      this.failAll(new Error(`${this.name} sent a line that is not JSON: ${err.message}`));
      return;
    }
    const waiter = msg.id !== undefined ? this.pending.get(msg.id) : undefined;
    if (!waiter) return; // notifications and server-to-client requests: not used by the bench
    this.pending.delete(msg.id);
    waiter.resolve({ msg, bytes: line.length, ms: at - waiter.sentAt, at });
  }

  failAll(err) {
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }

  /** Sends a request; resolves with { msg, bytes (of the response line), ms (send to receive), at }. */
  request(method, params) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const sentAt = performance.now();
      this.pending.set(id, { resolve, reject, sentAt });
      this.child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n");
    });
  }

  notify(method, params) {
    this.child.stdin.write(JSON.stringify({ jsonrpc: "2.0", method, params }) + "\n");
  }

  /** initialize + notifications/initialized; returns the initialize round trip. */
  async initialize() {
    const res = await this.request("initialize", {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: "llm-cli-gateway-bench", version: "1.0.0" },
    });
    if (res.msg.error) throw new Error(`${this.name} initialize: ${JSON.stringify(res.msg.error)}`);
    this.notify("notifications/initialized");
    return res;
  }

  /** tools/call; throws on a JSON-RPC error (a tool error, isError, is a normal result). */
  async callTool(name, args) {
    const res = await this.request("tools/call", { name, arguments: args });
    if (res.msg.error) throw new Error(`${this.name} ${name}: ${JSON.stringify(res.msg.error)}`);
    return res;
  }

  /** Closes stdin (the MCP way to stop a stdio server) and waits; SIGKILL after `graceMs`. */
  async close(graceMs = 3000) {
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}

/** The text of a tools/call result's first content block ("" when there is none). */
export function resultText(msg) {
  const first = msg.result?.content?.[0];
  return first && first.type === "text" ? first.text : "";
}
