// The reply text of the big-output runs: deterministic, exactly N UTF-8 bytes, numbered lines (so a
// lost, repeated or reordered piece changes the checksum) with multi-byte characters, quotes,
// backslashes and tabs (so a character split across pipe chunks, or a JSON escape, is caught too).
import { createHash } from "node:crypto";

const PHRASES = [
  "The quick brown fox jumps over the lazy dog while the build runs.",
  'function add(a, b) { return a + b; } // "quoted" and a back\\slash',
  "Café au lait — naïve résumé, déjà vu; ½ × ¾ ≈ 0.375",
  "Ünïcödé: 日本語のテキスト, 中文文本, 한국어 텍스트.",
  "Emoji and symbols: 🙂 ✓ → ∑ ∞ 🚀 (astral plane, four bytes each)",
  "- [ ] a markdown task list item with `inline code` and **bold**",
  "\tan indented line with a tab and trailing spaces   ",
  '{"json": [1, 2, 3], "nested": {"key": "value"}}',
];
const PHRASE_BYTES = PHRASES.map((p) => Buffer.byteLength(p, "utf8"));

/** Yields the text in pieces of about `chunkBytes` bytes; the pieces concatenate to exactly `totalBytes` bytes. */
export function* textChunks(totalBytes, chunkBytes = 1 << 20) {
  let remaining = totalBytes;
  let i = 0;
  let parts = [];
  let size = 0;
  while (remaining > 0) {
    const prefix = String(i).padStart(8, "0");
    const lineBytes = prefix.length + 1 + PHRASE_BYTES[i % PHRASES.length] + 1;
    if (lineBytes <= remaining) {
      parts.push(`${prefix} ${PHRASES[i % PHRASES.length]}\n`);
      remaining -= lineBytes;
      size += lineBytes;
      i++;
    } else {
      parts.push(".".repeat(remaining)); // ASCII filler: the total stays exact
      size += remaining;
      remaining = 0;
    }
    if (size >= chunkBytes) {
      yield parts.join("");
      parts = [];
      size = 0;
    }
  }
  if (parts.length) yield parts.join("");
}

const cache = new Map();

/** { bytes, chars, sha256 } of the text of `totalBytes` bytes. */
export function expectedText(totalBytes) {
  if (!cache.has(totalBytes)) {
    const hash = createHash("sha256");
    let chars = 0;
    for (const chunk of textChunks(totalBytes)) {
      hash.update(chunk, "utf8");
      chars += chunk.length;
    }
    cache.set(totalBytes, { bytes: totalBytes, chars, sha256: hash.digest("hex") });
  }
  return cache.get(totalBytes);
}

/** The same figures for a text received (the check: length and checksum, not a look). */
export function describeText(text) {
  return {
    bytes: Buffer.byteLength(text, "utf8"),
    chars: text.length,
    sha256: createHash("sha256").update(text, "utf8").digest("hex"),
  };
}
