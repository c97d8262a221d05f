import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage, RequestId } from "@modelcontextprotocol/sdk/types.js";
import { CAPABILITIES, negotiateVersion, SERVER_NAME } from "./identity.js";

type Message = JSONRPCMessage & {
  id?: RequestId;
  method?: string;
  params?: Record<string, unknown>;
};

/**
 * The stdio transport, started before the gateway is loaded. Until the MCP server connects, it
 * answers `initialize`, `ping` and `tools/list` itself (the tool list is built at compile time),
 * and queues everything else; then it replays the queue, `initialize` included so the server
 * learns the client's capabilities, and drops the server's second answer to it. A client thus
 * gets its first answers in the time Node takes to start, while the SDK, zod and SQLite load.
 */
export class EarlyStdioTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private readonly queue: Message[] = [];
  private connected = false;
  private partial = "";
  /** The id of the initialize request answered early: the server's answer to it is dropped. */
  private answeredInitialize: RequestId | undefined;

  constructor(
    private readonly version: string,
    private readonly toolsList: () => unknown,
  ) {}

  /** Starts reading stdin at once. */
  listen(): void {
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk: string) => this.read(chunk));
    process.stdin.on("end", () => this.onclose?.());
    process.stdin.on("error", (err) => this.onerror?.(err));
  }

  /** Called by the MCP server when it connects: hand it what arrived meanwhile. */
  async start(): Promise<void> {
    this.connected = true;
    for (const message of this.queue.splice(0)) this.onmessage?.(message);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const id = (message as Message).id;
    if (id !== undefined && id === this.answeredInitialize && !("method" in message)) {
      this.answeredInitialize = undefined;
      return;
    }
    this.write(message);
  }

  async close(): Promise<void> {
    process.stdin.pause();
    this.onclose?.();
  }

  private write(message: unknown): void {
    process.stdout.write(JSON.stringify(message) + "\n");
  }

  private read(chunk: string): void {
    const lines = (this.partial + chunk).split("\n");
    this.partial = lines.pop()!;
    for (const line of lines) {
      if (!line.trim()) continue;
      let message: Message;
      try {
        message = JSON.parse(line) as Message;
      } catch (err) {
        this.onerror?.(err as Error);
        continue;
      }
      if (this.connected) this.onmessage?.(message);
      else this.early(message);
    }
  }

  private early(message: Message): void {
    const reply = (result: unknown) => this.write({ jsonrpc: "2.0", id: message.id, result });
    switch (message.method) {
      case "initialize":
        reply({
          protocolVersion: negotiateVersion(message.params?.protocolVersion),
          capabilities: CAPABILITIES,
          serverInfo: { name: SERVER_NAME, version: this.version },
        });
        this.answeredInitialize = message.id;
        this.queue.push(message);
        return;
      case "ping":
        return reply({});
      case "tools/list":
        return reply(this.toolsList());
      default:
        this.queue.push(message);
    }
  }
}
