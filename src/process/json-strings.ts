// Finds the large string values of one line of JSON without decoding it (issue #22): a 20 MB
// reply decoded is a 40 MB string (two bytes a character once any character is not Latin-1), and
// its bytes are what the reply is written from anyway.

/** A point inside a string's content where it can be cut: no escape or UTF-8 sequence spans it. */
export interface CutPoint {
  /** Bytes of content before it. */
  byte: number;
  /** UTF-16 characters those bytes decode to. */
  chars: number;
}

/** One string value: its content between the quotes, as byte offsets into the line. */
export interface FoundString {
  start: number;
  end: number;
  /** Its length once decoded, in UTF-16 characters (what String.length says). */
  chars: number;
  /** Cut points about every CUT_EVERY bytes. */
  cuts: CutPoint[];
}

const CUT_EVERY = 256 * 1024;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** The characters JSON allows after a backslash, besides u: " \ / b f n r t. */
const SIMPLE_ESCAPE = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

const isHex = (b: number) =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);

/**
 * The string values of at least `minBytes` bytes in a line split into pieces, in order. Only
 * strings whose content is valid JSON (escapes, no raw control characters) and valid UTF-8 are
 * reported: their bytes then say exactly what JSON.parse would make of them. Strings are found by
 * the JSON lexer's rule (a quote opens, a backslash escapes, a quote closes), so a line that is
 * not JSON at all may report some: the caller decides what a line must look like.
 */
export function findLargeStrings(pieces: readonly Buffer[], minBytes: number): FoundString[] {
  const found: FoundString[] = [];
  let pos = 0;
  let inString = false;
  let start = 0;
  let chars = 0;
  let valid = true;
  let cuts: CutPoint[] = [];
  let nextCut = 0;
  let escaped = false;
  let hex = 0;
  let cont = 0;
  let lo = 0x80;
  let hi = 0xbf;
  for (const piece of pieces) {
    for (let i = 0; i < piece.length; i++, pos++) {
      const b = piece[i]!;
      if (!inString) {
        if (b === QUOTE) {
          inString = true;
          start = pos + 1;
          chars = 0;
          valid = true;
          cuts = [];
          nextCut = start + CUT_EVERY;
        }
        continue;
      }
      if (!cont && !hex && !escaped && b >= 0x20 && b < 0x80 && b !== QUOTE && b !== BACKSLASH) {
        // Plain ASCII, the common case: the run in one tight loop, its cut points after it.
        let j = i + 1;
        while (j < piece.length) {
          const c = piece[j]!;
          if (c < 0x20 || c >= 0x80 || c === QUOTE || c === BACKSLASH) break;
          j++;
        }
        const runEnd = pos + (j - i);
        while (nextCut < runEnd) {
          const at = Math.max(nextCut, pos);
          cuts.push({ byte: at - start, chars: chars + (at - pos) });
          nextCut = at + CUT_EVERY;
        }
        chars += j - i;
        pos = runEnd - 1; // the loop's increments take both to the run's end
        i = j - 1;
        continue;
      }
      if (cont) {
        if (b >= lo && b <= hi) {
          cont--;
          lo = 0x80;
          hi = 0xbf;
          continue;
        }
        valid = false; // a sequence cut short: this byte starts something else
        cont = 0;
      }
      if (hex) {
        if (isHex(b)) {
          hex--;
          continue;
        }
        valid = false;
        hex = 0;
      }
      if (escaped) {
        escaped = false;
        chars++;
        if (b === 0x75) hex = 4;
        else if (!SIMPLE_ESCAPE.has(b)) valid = false;
        continue;
      }
      if (b === BACKSLASH) {
        if (pos >= nextCut) {
          cuts.push({ byte: pos - start, chars });
          nextCut = pos + CUT_EVERY;
        }
        escaped = true;
        continue;
      }
      if (b === QUOTE) {
        inString = false;
        if (valid && pos - start >= minBytes) found.push({ start, end: pos, chars, cuts });
        continue;
      }
      if (b < 0x80) {
        if (b < 0x20) valid = false;
        if (pos >= nextCut) {
          cuts.push({ byte: pos - start, chars });
          nextCut = pos + CUT_EVERY;
        }
        chars++;
        continue;
      }
      // The lead byte of a UTF-8 sequence, with the range its next byte must be in (no overlong
      // forms, no surrogates, nothing above U+10FFFF).
      if (b >= 0xc2 && b <= 0xdf) {
        cont = 1;
        chars++;
      } else if (b >= 0xe0 && b <= 0xef) {
        cont = 2;
        lo = b === 0xe0 ? 0xa0 : 0x80;
        hi = b === 0xed ? 0x9f : 0xbf;
        chars++;
      } else if (b >= 0xf0 && b <= 0xf4) {
        cont = 3;
        lo = b === 0xf0 ? 0x90 : 0x80;
        hi = b === 0xf4 ? 0x8f : 0xbf;
        chars += 2; // a surrogate pair
      } else {
        valid = false;
      }
    }
  }
  return found;
}

/** The bytes from `from` to `to` of a line split into pieces, as views (no copy). */
export function slicePieces(pieces: readonly Buffer[], from: number, to: number): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  for (const piece of pieces) {
    const end = offset + piece.length;
    if (end > from && offset < to)
      out.push(piece.subarray(Math.max(0, from - offset), Math.min(piece.length, to - offset)));
    offset = end;
    if (offset >= to) break;
  }
  return out;
}
