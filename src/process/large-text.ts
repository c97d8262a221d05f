// Large string values of a CLI's stdout kept as the bytes the CLI wrote, until the reply is written
// (issue #22). The parsers see a short placeholder in their place; the stdio transport writes the
// bytes where a placeholder stands (src/mcp/message-writer.ts); everything else asks for the decoded
// text (expandLargeText). A placeholder holds a random token of this process: a CLI cannot forge one.
import type { CutPoint } from "./json-strings.js";

/** One string value, as its JSON-escaped UTF-8 bytes (without the quotes), in pieces. */
export class LargeText {
  constructor(
    readonly pieces: readonly Buffer[],
    /** Its length once decoded, in UTF-16 characters. */
    readonly chars: number,
    private readonly cuts: readonly CutPoint[],
  ) {}

  /** The decoded string: about two bytes a character. */
  decode(): string {
    return decodeJsonContent(Buffer.concat(this.pieces));
  }

  /** The first `maxChars` characters (all of them when shorter), decoding only about that much. */
  prefix(maxChars: number): string {
    if (maxChars >= this.chars) return this.decode();
    const cut = this.cuts.find((c) => c.chars >= maxChars);
    if (!cut) return this.decode().slice(0, maxChars);
    const bytes = Buffer.concat(this.pieces, cut.byte);
    return decodeJsonContent(bytes).slice(0, maxChars);
  }
}

const decodeJsonContent = (bytes: Buffer) =>
  JSON.parse(`"${bytes.toString("utf8")}"`) as unknown as string;

/**
 * What a placeholder starts with in a parsed string, and the placeholder itself: made with the
 * first kept text (node:crypto is not loaded at start, where every millisecond counts).
 */
let MARK: string | undefined;
let PLACEHOLDER: RegExp;

/** A random token of this process, unguessable (node:crypto, loaded on first use). */
export function processToken(): string {
  return process.getBuiltinModule("node:crypto").randomBytes(8).toString("hex");
}

const kept = new Map<number, LargeText>();
let nextId = 1;

/** Keeps a large text; returns its id. */
export function keepLargeText(text: LargeText): number {
  if (!MARK) {
    const token = processToken();
    MARK = `\u0000LT${token}:`;
    PLACEHOLDER = new RegExp(`\u0000LT${token}:(\\d+)\u0000`, "g");
  }
  const id = nextId++;
  kept.set(id, text);
  return id;
}

/** The placeholder of a kept text as JSON string content (what goes into the line a parser reads). */
export function placeholderJson(id: number): string {
  return JSON.stringify(`${MARK}${id}\u0000`).slice(1, -1);
}

/** Whether a string holds a placeholder. */
export function hasLargeText(value: string): boolean {
  return MARK !== undefined && value.includes(MARK);
}

/**
 * A string as its plain parts and its large texts, in order; undefined when it holds none. A
 * placeholder whose text was released stays as it is (it cannot be told apart from text).
 */
export function splitLargeText(value: string): (string | LargeText)[] | undefined {
  if (!hasLargeText(value)) return undefined;
  const parts: (string | LargeText)[] = [];
  let last = 0;
  for (const m of value.matchAll(PLACEHOLDER)) {
    const text = kept.get(Number(m[1]));
    if (!text) continue;
    if (m.index > last) parts.push(value.slice(last, m.index));
    parts.push(text);
    last = m.index + m[0].length;
  }
  if (last < value.length) parts.push(value.slice(last));
  return parts;
}

/** The string with every large text decoded in its place. */
export function expandLargeText(value: string): string {
  const parts = splitLargeText(value);
  return parts ? parts.map((p) => (typeof p === "string" ? p : p.decode())).join("") : value;
}

/** The length the string has once expanded, in UTF-16 characters. */
export function expandedLength(value: string): number {
  const parts = splitLargeText(value);
  if (!parts) return value.length;
  let n = 0;
  for (const p of parts) n += typeof p === "string" ? p.length : p.chars;
  return n;
}

/** The first `maxChars` characters of the string expanded, decoding no more than that. */
export function expandedPrefix(value: string, maxChars: number): string {
  const parts = splitLargeText(value);
  if (!parts) return value.slice(0, maxChars);
  let out = "";
  for (const p of parts) {
    const room = maxChars - out.length;
    if (room <= 0) break;
    out += typeof p === "string" ? p.slice(0, room) : p.prefix(room);
  }
  return out;
}

/** The ids of the kept texts a string refers to. */
export function largeTextIds(value: string): number[] {
  if (!hasLargeText(value)) return [];
  return [...value.matchAll(PLACEHOLDER)].map((m) => Number(m[1]));
}

/** Forgets kept texts (their bytes go with the last reference). */
export function releaseLargeText(ids: Iterable<number>): void {
  for (const id of ids) kept.delete(id);
}

/** The ids of the kept texts that any string in `value` (an object, an array, a string) refers to. */
export function largeTextIdsIn(value: unknown, depth = 0): number[] {
  if (typeof value === "string") return largeTextIds(value);
  if (!value || typeof value !== "object" || depth >= 20) return [];
  return Object.values(value).flatMap((v) => largeTextIdsIn(v, depth + 1));
}

/** How many texts are kept (tests, and a leak check). */
export function keptLargeTexts(): number {
  return kept.size;
}
