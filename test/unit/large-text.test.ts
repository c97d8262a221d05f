import { EventEmitter } from "node:events";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { MessageWriter, CHUNK_CHARS } from "../../src/mcp/message-writer.js";
import { findLargeStrings } from "../../src/process/json-strings.js";
import {
  expandedLength,
  expandedPrefix,
  expandLargeText,
  keepLargeText,
  keptLargeTexts,
  LargeText,
  placeholderJson,
  releaseLargeText,
  splitLargeText,
} from "../../src/process/large-text.js";
import { LARGE_STRING_BYTES, runProcess } from "../../src/process/runner.js";
import { settleLargeTexts } from "../../src/pipeline/large-result.js";
import type { GatewayResult } from "../../src/request.js";

/** Text with 2-, 3- and 4-byte characters, escapes and a surrogate pair every few characters. */
function tricky(chars: number): string {
  const unit = 'a "q" \\ é 日本 🙂\t\n\u0001 \u2028 /';
  return unit.repeat(Math.ceil(chars / unit.length)).slice(0, chars);
}

/** A buffer cut into pieces of `size` bytes (UTF-8 characters and escapes split across them). */
function pieces(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

describe("findLargeStrings", () => {
  it("finds each large string value with its decoded length, whatever the piece boundaries", () => {
    const value = tricky(5000);
    const line = Buffer.from(JSON.stringify({ small: "x", big: value, n: 1, also: value + "z" }));
    for (const size of [1, 7, 4096, line.length]) {
      const found = findLargeStrings(pieces(line, size), 1000);
      expect(found.map((f) => f.chars)).toEqual([value.length, value.length + 1]);
      const text = new LargeText([line.subarray(found[0]!.start, found[0]!.end)], 0, []);
      expect(text.decode()).toBe(value);
    }
  });

  it("reports no string that JSON.parse would not read as its bytes say", () => {
    const big = "x".repeat(2000);
    const bad = [
      `{"a":"${big}\\q"}`, // unknown escape
      `{"a":"${big}\\u12G4"}`, // bad \u escape
      `{"a":"${big}\u0001"}`, // raw control character
    ].map((s) => Buffer.from(s));
    bad.push(
      Buffer.concat([Buffer.from(`{"a":"${big}`), Buffer.from([0xe6, 0x97]), Buffer.from('"}')]),
    );
    bad.push(
      Buffer.concat([
        Buffer.from(`{"a":"${big}`),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from('"}'),
      ]),
    );
    for (const line of bad) expect(findLargeStrings([line], 1000)).toEqual([]);
  });

  it("gives cut points from which a prefix decodes to the text's start", () => {
    const value = tricky(300_000);
    const line = Buffer.from(JSON.stringify({ big: value }));
    const [found] = findLargeStrings(pieces(line, 65536), 1000);
    expect(found!.cuts.length).toBeGreaterThan(1);
    const text = new LargeText(
      [line.subarray(found!.start, found!.end)],
      found!.chars,
      found!.cuts,
    );
    for (const n of [0, 1, 70_000, 123_457, 299_999, 300_000, 400_000])
      expect(text.prefix(n)).toBe(value.slice(0, n));
  });
});

describe("kept large texts", () => {
  const keep = (value: string) => {
    const bytes = Buffer.from(JSON.stringify(value).slice(1, -1));
    const [found] = findLargeStrings([Buffer.from(`"${bytes.toString()}"`)], 0);
    return keepLargeText(new LargeText([bytes], found!.chars, found!.cuts));
  };
  const placeholder = (id: number) => JSON.parse(`"${placeholderJson(id)}"`) as string;

  it("expand, measure and cut strings that hold placeholders", () => {
    const a = tricky(3000);
    const b = tricky(10);
    const [ia, ib] = [keep(a), keep(b)];
    const s = `start ${placeholder(ia)} middle ${placeholder(ib)} end`;
    const expanded = `start ${a} middle ${b} end`;
    expect(expandLargeText(s)).toBe(expanded);
    expect(expandedLength(s)).toBe(expanded.length);
    for (const n of [3, 10, 3006, 3015, expanded.length])
      expect(expandedPrefix(s, n)).toBe(expanded.slice(0, n));
    releaseLargeText([ia, ib]);
    expect(splitLargeText(s)).toEqual([s]); // released: the placeholder stays as it is
  });

  it("are written as the JSON of the expanded message, a line each, in order", async () => {
    const a = tricky(CHUNK_CHARS * 2 + 5);
    const id = keep(a);
    const before = keptLargeTexts();
    const out = new SlowPipe();
    const writer = new MessageWriter(out);
    const big = {
      jsonrpc: "2.0",
      id: 1,
      result: {
        content: [{ type: "text", text: `x${placeholder(id)}` }],
        structuredContent: { text: `x${placeholder(id)}` },
      },
    };
    // A plain string over the chunk size, with a surrogate pair across the chunk boundary.
    const plain = "a".repeat(CHUNK_CHARS - 1) + "🙂" + "b".repeat(10);
    const sent = [
      writer.write(big),
      writer.write({ id: 2, small: true }),
      writer.write({ id: 3, plain }),
    ];
    await Promise.all(sent);
    const lines = Buffer.concat(out.chunks).toString("utf8").split("\n");
    expect(lines.pop()).toBe("");
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        ...big,
        result: {
          content: [{ type: "text", text: `x${a}` }],
          structuredContent: { text: `x${a}` },
        },
      },
      { id: 2, small: true },
      { id: 3, plain },
    ]);
    expect(lines[2]).toBe(JSON.stringify({ id: 3, plain }));
    expect(out.maxQueued).toBeLessThan(CHUNK_CHARS * 8);
    expect(keptLargeTexts()).toBe(before - 1); // written: forgotten
  });
});

describe("MessageWriter", () => {
  it("goes on after a message it cannot serialize", async () => {
    const out = new SlowPipe();
    const writer = new MessageWriter(out);
    const first = writer.write({ id: 1, text: "a".repeat(CHUNK_CHARS + 1) });
    const bad = writer.write({ id: 2, text: "b".repeat(CHUNK_CHARS + 1), n: 1n });
    const after = writer.write({ id: 3 });
    await first;
    await expect(bad).rejects.toThrow(/BigInt/);
    await after;
    const ids = Buffer.concat(out.chunks)
      .toString("utf8")
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { id: number }).id);
    expect(ids).toEqual([1, 3]);
  });
});

describe("settleLargeTexts", () => {
  const keep = (value: string) => {
    const bytes = Buffer.from(JSON.stringify(value).slice(1, -1));
    const [found] = findLargeStrings([Buffer.from(`"${bytes.toString()}"`)], 0);
    return keepLargeText(new LargeText([bytes], found!.chars, found!.cuts));
  };
  const placeholder = (id: number) => JSON.parse(`"${placeholderJson(id)}"`) as string;
  const result = (ids: number[]): GatewayResult => ({
    text: placeholder(ids[0]!),
    cli: "claude",
    correlationId: "c",
    durationMs: 1,
    exitCode: 0,
    usage: {},
    retryCount: 0,
    thinking: [placeholder(ids[1]!)],
    raw: { result: placeholder(ids[0]!) },
  });

  it("keeps only a reply's text as placeholders, and forgets the texts nothing refers to", () => {
    const before = keptLargeTexts();
    const ids = [keep("answer"), keep("thought"), keep("repeated answer")];
    const r = result(ids);
    settleLargeTexts(r, ids, true);
    expect(expandLargeText(r.text)).toBe("answer");
    expect(r.thinking).toEqual(["thought"]);
    expect(r.raw).toBeUndefined();
    expect(keptLargeTexts()).toBe(before + 1);
    releaseLargeText(ids);
  });

  it("expands everything otherwise, and keeps nothing", () => {
    const before = keptLargeTexts();
    const ids = [keep("answer"), keep("thought")];
    const r = result(ids);
    settleLargeTexts(r, ids, false);
    expect(r).toMatchObject({ text: "answer", thinking: ["thought"], raw: { result: "answer" } });
    expect(keptLargeTexts()).toBe(before);
  });
});

/** A stream that takes 64 KB at a time before it asks the writer to wait for a drain. */
class SlowPipe extends EventEmitter {
  chunks: Buffer[] = [];
  queued = 0;
  maxQueued = 0;
  write(piece: string | Buffer): boolean {
    const bytes = typeof piece === "string" ? Buffer.from(piece) : piece;
    this.chunks.push(bytes);
    this.queued += bytes.length;
    this.maxQueued = Math.max(this.maxQueued, this.queued);
    if (this.queued < 65536) return true;
    setImmediate(() => {
      this.queued = 0;
      this.emit("drain");
    });
    return false;
  }
}

describe("runProcess with keepLargeStrings", () => {
  const base = { cwd: tmpdir(), env: process.env, killGraceMs: 300, command: process.execPath };
  const value = tricky(LARGE_STRING_BYTES);
  // The child builds the same text (an argument of over 128 KB would not pass exec).
  const script = `${tricky.toString()}; const v = tricky(${LARGE_STRING_BYTES}); process.stdout.write(JSON.stringify({type: "a", text: v}) + "\\n" + JSON.stringify({type: "b", small: "s"}) + "\\n" + JSON.stringify(v) + "\\n")`;

  it("keeps the large strings of JSON object lines as bytes, and only those", async () => {
    const out = await runProcess({
      ...base,
      args: ["-e", script],
      maxOutputBytes: 10_000_000,
      keepLargeStrings: true,
    });
    expect(out.largeTexts).toHaveLength(1);
    const lines = out.stdout.split("\n");
    expect(lines[0]!.length).toBeLessThan(200);
    expect(JSON.parse(lines[1]!)).toEqual({ type: "b", small: "s" });
    expect(JSON.parse(lines[2]!)).toBe(value); // not an object line: as it was
    const first = JSON.parse(lines[0]!) as { text: string };
    expect(expandLargeText(first.text)).toBe(value);
    releaseLargeText(out.largeTexts!);
  });

  it("keeps nothing past the output cap", async () => {
    const before = keptLargeTexts();
    const out = await runProcess({
      ...base,
      args: ["-e", script],
      maxOutputBytes: LARGE_STRING_BYTES * 2,
      keepLargeStrings: true,
    });
    expect(out.stopped).toBe("output_overflow");
    expect(out.largeTexts).toBeUndefined();
    expect(keptLargeTexts()).toBe(before);
  });
});
