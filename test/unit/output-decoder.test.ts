import { describe, expect, it } from "vitest";
import { OutputDecoder } from "../../src/store/output-decoder.js";

const TOKEN = `ghp_${"A1b2C3d4E5".repeat(4)}`;

/** Feeds the pieces to a decoder and returns the stored text, checking the chunks' offsets. */
function store(pieces: string[], decoder = new OutputDecoder()): string {
  let text = "";
  const add = (chunk: { start: number; text: string } | undefined) => {
    if (!chunk) return;
    expect(chunk.start).toBe(text.length);
    text += chunk.text;
  };
  for (const piece of pieces)
    for (const chunk of decoder.decode("job", "stdout", Buffer.from(piece))) add(chunk);
  for (const chunk of decoder.end("job")) add(chunk);
  return text;
}

describe("OutputDecoder", () => {
  it("redacts a secret split across two pieces of output", () => {
    const line = `{"text":"the token is ${TOKEN} ok"}\n`;
    const cut = line.indexOf(TOKEN) + 10;
    const text = store([line.slice(0, cut), line.slice(cut), "password=hunter2hunter2\n"]);
    expect(text).toBe(`{"text":"the token is [REDACTED:github-token] ok"}\npassword=[REDACTED]\n`);
  });

  it("does not store the body of a private key block split across pieces", () => {
    const body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n".repeat(3);
    const text = store([
      "before\n-----BEGIN PRIVATE KEY-----\n" + body.slice(0, 40) + "\n",
      body.slice(40) + "\n-----END PRIVATE KEY-----\nafter\n",
    ]);
    expect(text).not.toContain("MIIE");
    expect(text).toContain("before\n");
    expect(text).toContain("after\n");
  });

  it("stores an unfinished line once it has been quiet", async () => {
    const decoder = new OutputDecoder();
    expect(decoder.decode("job", "stdout", Buffer.from("half a li"))).toEqual([]);
    expect(decoder.quiet(1000)).toEqual([]);
    await new Promise((r) => setTimeout(r, 30));
    expect(decoder.quiet(20)).toEqual([
      { jobId: "job", stream: "stdout", start: 0, text: "half a li" },
    ]);
  });

  it("stores a megabyte of one long line in pieces small enough to stay out of V8's large-object space", () => {
    // Two-byte text (é), as CLIs print: 128 KB is V8's large-object size, so 64 K characters.
    const words = "caf\u00e9 au lait, ".repeat(70_000); // 1.1 M characters, no newline
    const decoder = new OutputDecoder();
    const chunks = decoder.decode("job", "stdout", Buffer.from(words));
    expect(chunks.length).toBeGreaterThan(10);
    for (const chunk of chunks) expect(chunk.text.length).toBeLessThan(64 * 1024);
    const text = [...chunks, ...decoder.end("job")].map((c) => c.text).join("");
    expect(text).toBe(words);
  });
});
