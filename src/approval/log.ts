import {
  appendFileSync,
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
} from "node:fs";
import { dirname } from "node:path";
import type { CliName } from "../providers/types.js";
import type { Adjustment } from "./options.js";
import type { Decision } from "./policy.js";

export interface ApprovalRecord extends Decision {
  id: string;
  at: string;
  cli: CliName;
  correlationId: string;
  /** Every option the request runs with otherwise than asked (not set on a denial). */
  adjusted?: Adjustment[];
  /** Set when a person was asked (MCP elicitation): what they answered. */
  elicitation?: "accept" | "decline" | "cancel" | "unavailable";
}

/**
 * Approval decisions appended to a JSONL file (owner-only). `recent` reads the file backwards in
 * blocks, so listing the last decisions costs the same however long the file has grown.
 */
export class ApprovalLog {
  constructor(private readonly path: string) {}

  append(record: ApprovalRecord): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    appendFileSync(this.path, JSON.stringify(record) + "\n", { mode: 0o600 });
  }

  recent(limit: number, cli?: CliName): ApprovalRecord[] {
    if (!existsSync(this.path)) return [];
    const out: ApprovalRecord[] = [];
    const fd = openSync(this.path, "r");
    try {
      let position = fstatSync(fd).size;
      let tail = Buffer.alloc(0); // the start of a line that began in an earlier block
      const block = Buffer.alloc(64 * 1024);
      while (position > 0 && out.length < limit) {
        const size = Math.min(block.length, position);
        position -= size;
        readSync(fd, block, 0, size, position);
        let chunk = Buffer.concat([block.subarray(0, size), tail]);
        // Split on newline bytes, never inside a multi-byte character.
        const firstNewline = chunk.indexOf(10);
        const cut = position === 0 ? 0 : firstNewline === -1 ? chunk.length : firstNewline + 1;
        tail = Buffer.from(chunk.subarray(0, cut));
        chunk = chunk.subarray(cut);
        const lines = chunk.toString("utf8").split("\n");
        for (let i = lines.length - 1; i >= 0 && out.length < limit; i--) take(lines[i]!);
      }
    } finally {
      closeSync(fd);
    }
    return out;

    function take(line: string): void {
      if (!line.trim()) return;
      try {
        const record = JSON.parse(line) as ApprovalRecord;
        if (!cli || record.cli === cli) out.push(record);
      } catch {
        // a torn line from a crash: skip it
      }
    }
  }
}
