import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import type { StartupError } from "../startup-error.js";
import { CAPABILITIES, negotiateVersion, SERVER_METHODS, SERVER_NAME } from "./identity.js";
import {
  checkLine,
  idInHead,
  INTERNAL_ERROR,
  INVALID_REQUEST,
  METHOD_NOT_FOUND,
  type IncomingMessage,
  type RequestId,
} from "./jsonrpc-check.js";
import { DEFAULT_MAX_MESSAGE_BYTES, LineReader } from "./line-reader.js";
import { MessageWriter } from "./message-writer.js";

/**
 * The stdio transport, started before the gateway is loaded. Until the MCP server connects, it
 * answers `initialize`, `ping` and `tools/list` itself (the tool list is built at compile time),
 * answers requests for methods the server does not have with "method not found", and queues
 * everything else; then it replays the queue, `initialize` included so the server learns the
 * client's capabilities, and drops the server's second answer to it. A client thus gets its first
 * answers in the time Node takes to start, while the SDK, zod and SQLite load.
 *
 * It stays the transport afterwards, so what it guarantees holds all along: a line over the
 * message limit is skipped as it is read, and a line that is not a valid JSON-RPC message gets the
 * error JSON-RPC prescribes (the SDK would drop it without an answer). If the gateway cannot start,
 * `fail` turns it into a server that answers every call with the reason and the fix.
 */
export class EarlyStdioTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private readonly queue: IncomingMessage[] = [];
  private connected = false;
  private failure: StartupError | undefined;
  private readonly reader: LineReader;
  /** The id of the initialize request answered early: the server's answer to it is dropped. */
  private answeredInitialize: RequestId | undefined;
  private onNeeded: (() => void) | undefined;
  private readonly writer = new MessageWriter();
  /** Its messages may carry kept large texts (process/large-text.ts): it writes their bytes. */
  readonly writesLargeText = true;

  constructor(
    private readonly version: string,
    private readonly toolsList: () => unknown,
    maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
  ) {
    this.reader = new LineReader(maxMessageBytes, {
      line: (text) => this.onLine(text),
      oversized: (head) =>
        this.refuse(
          idInHead(head),
          INVALID_REQUEST,
          `Invalid Request: the message is over the limit of ${maxMessageBytes} bytes (LLM_GATEWAY_MAX_MESSAGE_BYTES) and was skipped`,
        ),
    });
  }

  /**
   * `needed` runs once, on the first request this transport cannot answer itself (a tools/call, a
   * tasks/* request): the gateway loads then, not at start, so an idle client window costs a bare
   * Node process (issue #22).
   */
  whenNeeded(needed: () => void): void {
    this.onNeeded = needed;
  }

  /** Starts reading stdin at once. */
  listen(): void {
    process.stdin.on("data", (chunk: Buffer) => this.reader.push(chunk));
    process.stdin.on("end", () => this.onclose?.());
    process.stdin.on("error", (err) => this.onerror?.(err));
  }

  /** Called by the MCP server when it connects: hand it what arrived meanwhile. */
  async start(): Promise<void> {
    this.connected = true;
    for (const message of this.queue.splice(0)) this.onmessage?.(message as JSONRPCMessage);
  }

  /**
   * The gateway could not start: answer the calls waiting for it, and every later one, with the
   * reason and the fix; initialize, ping and tools/list keep being answered, so a client connects
   * and shows the reason where its user looks.
   */
  fail(failure: StartupError): void {
    this.failure = failure;
    for (const message of this.queue.splice(0))
      if (
        message.id !== undefined &&
        message.method !== undefined &&
        message.method !== "initialize"
      )
        this.refuseFailed(message.id);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const id = (message as IncomingMessage).id;
    if (id !== undefined && id === this.answeredInitialize && !("method" in message)) {
      this.answeredInitialize = undefined;
      return;
    }
    return this.writer.write(message);
  }

  async close(): Promise<void> {
    process.stdin.pause();
    this.onclose?.();
  }

  private write(message: unknown): void {
    void this.writer.write(message);
  }

  private refuse(id: RequestId | null, code: number, message: string, data?: unknown): void {
    const error = data === undefined ? { code, message } : { code, message, data };
    this.write({ jsonrpc: "2.0", id, error });
  }

  private refuseFailed(id: RequestId): void {
    const { path, reason, fix, message } = this.failure!;
    this.refuse(id, INTERNAL_ERROR, `llm-cli-gateway could not start: ${message}`, {
      type: "startup_failed",
      path,
      reason,
      fix,
    });
  }

  /** Runs `needed` now, if it has not run yet. */
  needNow(): void {
    this.needed();
  }

  private needed(): void {
    const needed = this.onNeeded;
    this.onNeeded = undefined;
    needed?.();
  }

  private onLine(text: string): void {
    if (!text.trim()) return;
    const checked = checkLine(text);
    if (!checked.ok) return this.refuse(checked.id, checked.code, checked.message);
    if (this.connected) this.onmessage?.(checked.message as JSONRPCMessage);
    else this.early(checked.message);
  }

  private early(message: IncomingMessage): void {
    const { id, method } = message;
    const reply = (result: unknown) => this.write({ jsonrpc: "2.0", id, result });
    if (id !== undefined && method !== undefined && !SERVER_METHODS.includes(method))
      return this.refuse(id, METHOD_NOT_FOUND, `Method not found: ${method}`);
    switch (method) {
      case "initialize":
        reply({
          protocolVersion: negotiateVersion(message.params?.protocolVersion),
          capabilities: CAPABILITIES,
          serverInfo: { name: SERVER_NAME, version: this.version },
        });
        if (this.failure) return;
        this.answeredInitialize = id;
        this.queue.push(message);
        return;
      case "ping":
        return reply({});
      case "tools/list":
        return reply(this.toolsList());
      default:
        if (this.failure) {
          if (id !== undefined && method !== undefined) this.refuseFailed(id);
          return;
        }
        this.queue.push(message);
        if (id !== undefined && method !== undefined) this.needed();
    }
  }
}
