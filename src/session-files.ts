import { readdirSync, statSync } from "node:fs";
import { isAbsolute, join, sep } from "node:path";

/**
 * Whether any of a CLI's session-file paths exists on this machine (provider
 * `sessions.sessionFiles`): literal segments are joined as they are, a segment with `*` is
 * matched against the directory's entries. Bounded: a pattern looks at most `budget` entries.
 */
export function anySessionFileExists(patterns: readonly string[], budget = 20_000): boolean {
  return patterns.some((p) => isAbsolute(p) && matches(p, { left: budget }));
}

function matches(pattern: string, budget: { left: number }): boolean {
  const segments = pattern.split(sep).filter(Boolean);
  const walk = (dir: string, i: number): boolean => {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    if (!segment.includes("*")) {
      const path = join(dir, segment);
      return last ? isFile(path) : walk(path, i + 1);
    }
    let entries: { name: string; isDirectory(): boolean; isFile(): boolean }[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return false;
    }
    budget.left -= entries.length;
    if (budget.left < 0) return false;
    const re = globSegment(segment);
    return entries.some(
      (e) =>
        re.test(e.name) && (last ? e.isFile() : e.isDirectory() && walk(join(dir, e.name), i + 1)),
    );
  };
  return segments.length > 0 && walk(sep, 0);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

const globSegment = (segment: string) =>
  new RegExp(
    `^${segment
      .split("*")
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
