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
  for (const piece of pieces) add(decoder.decode("job", "stdout", Buffer.from(piece)));
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
    expect(decoder.decode("job", "stdout", Buffer.from("half a li"))).toBeUndefined();
    expect(decoder.quiet(1000)).toEqual([]);
    await new Promise((r) => setTimeout(r, 30));
    expect(decoder.quiet(20)).toEqual([
      { jobId: "job", stream: "stdout", start: 0, text: "half a li" },
    ]);
  });
});
