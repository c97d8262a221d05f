import { statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { invalidInput } from "./errors.js";

/** An absolute path to an existing directory, or an invalid_input error naming the field. */
export function checkDirectory(path: string, field: string): string {
  if (!isAbsolute(path)) throw invalidInput(`${field} must be an absolute path, got "${path}"`);
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw invalidInput(`${field} is not an existing directory: ${path}`);
  return path;
}
