import { describe, expect, it } from "vitest";
import { checkLine, idInHead } from "../../src/mcp/jsonrpc-check.js";
import { LineReader, maxMessageBytesFromEnv } from "../../src/mcp/line-reader.js";

function reader(max: number) {
  const seen: string[] = [];
  const r = new LineReader(max, {
    line: (text) => seen.push(`line ${text}`),
    oversized: (head) => seen.push(`oversized ${head.length} ${head.slice(0, 12)}`),
  });
  return { push: (s: string | Buffer) => r.push(Buffer.from(s)), seen };
}

describe("LineReader", () => {
  it("joins lines split across chunks, a UTF-8 character split included", () => {
    const r = reader(100);
    const euro = Buffer.from("€"); // three bytes
    r.push('{"a":"x');
    r.push(euro.subarray(0, 1));
    r.push(Buffer.concat([euro.subarray(1), Buffer.from('"}\n{"b":1}\n\n{"c"')]));
    r.push(":2}\n");
    expect(r.seen).toEqual(['line {"a":"x€"}', 'line {"b":1}', "line ", 'line {"c":2}']);
  });

  it("reports a line over the limit once, keeps only its head, and reads the next line", () => {
    const r = reader(10);
    r.push("0123456789"); // exactly at the limit: still a line
    r.push("\nabcdefghij");
    r.push("k".repeat(5000));
    r.push("k".repeat(5000) + "\nnext\n");
    expect(r.seen).toEqual(["line 0123456789", "oversized 1024 abcdefghijkk", "line next"]);
  });

  it("takes its limit from LLM_GATEWAY_MAX_MESSAGE_BYTES, default 4 MiB", () => {
    expect(maxMessageBytesFromEnv({})).toBe(4 * 1024 * 1024);
    expect(maxMessageBytesFromEnv({ LLM_GATEWAY_MAX_MESSAGE_BYTES: "2048" })).toBe(2048);
    expect(() => maxMessageBytesFromEnv({ LLM_GATEWAY_MAX_MESSAGE_BYTES: "-1" })).toThrow(
      /LLM_GATEWAY_MAX_MESSAGE_BYTES must be a positive integer, got "-1"/,
    );
  });
});

describe("checkLine", () => {
  it("accepts what the SDK accepts: requests, notifications, responses", () => {
    for (const line of [
      `{"jsonrpc":"2.0","id":1,"method":"ping"}`,
      `{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"x"}}`,
      `{"jsonrpc":"2.0","method":"notifications/initialized"}`,
      `{"jsonrpc":"2.0","id":3,"result":{}}`,
      `{"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":"no"}}`,
    ])
      expect(checkLine(line), line).toMatchObject({ ok: true });
  });

  it("never answers a malformed response with the response's id", () => {
    expect(checkLine(`{"jsonrpc":"2.0","id":3,"result":{},"error":{}}`)).toMatchObject({
      ok: false,
      id: null,
      code: -32600,
    });
  });
});

describe("idInHead", () => {
  it("finds the id of a request before its params, and nothing else", () => {
    expect(idInHead(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"a":"xx`)).toBe(7);
    expect(idInHead(` { "method" : "x", "id" : "k-1", "params": {`)).toBe("k-1");
    expect(idInHead(`{"jsonrpc":"2.0","method":"tools/call","params":{"id":7,`)).toBeNull();
    expect(idInHead(`{"jsonrpc":"2.0","id":7,"result":{"content":"xx`)).toBeNull();
    expect(idInHead(`[{"jsonrpc":"2.0","id":7,"method":"x"`)).toBeNull();
  });
});
