import type { EventStore } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

interface Stored {
  streamId: string;
  message: JSONRPCMessage;
  bytes: number;
}

/**
 * One MCP session's recent SSE events, so a client whose connection dropped can resume with
 * `Last-Event-ID`. Bounded (the oldest go first): a client that stays away longer than the last
 * `maxEvents` events, or `maxBytes` of them, has to start the request again.
 */
export class BoundedEventStore implements EventStore {
  private readonly events = new Map<string, Stored>();
  private seq = 0;
  private bytes = 0;

  constructor(
    private readonly maxEvents = 1000,
    private readonly maxBytes = 16 * 1024 * 1024,
  ) {}

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const id = String(++this.seq);
    const bytes = JSON.stringify(message).length;
    this.events.set(id, { streamId, message, bytes });
    this.bytes += bytes;
    for (const [oldest, event] of this.events) {
      if (this.events.size <= this.maxEvents && this.bytes <= this.maxBytes) break;
      this.events.delete(oldest);
      this.bytes -= event.bytes;
    }
    return id;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.events.get(eventId)?.streamId;
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const last = this.events.get(lastEventId);
    if (!last) throw new Error(`Event ${lastEventId} is no longer kept: start the request again`);
    const after = Number(lastEventId);
    for (const [id, event] of this.events) {
      // Priming events (an empty message) carry no content to replay.
      if (Number(id) > after && event.streamId === last.streamId && "jsonrpc" in event.message)
        await send(id, event.message);
    }
    return last.streamId;
  }
}
