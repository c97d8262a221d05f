/**
 * Number settings read from text (environment variables, command-line options): one check each,
 * and an error that names the setting, the rule and the value. No imports: the stdio transport
 * reads its limit with it before anything else has loaded.
 */

/** `raw` as a positive integer; undefined when absent. Throws on anything else, "" included. */
export function positiveInt(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

/** The environment variable `name` as a positive integer; undefined when unset or empty. */
export function envPositiveInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  return positiveInt(env[name] || undefined, name);
}

/** The environment variable `name` as a positive number; undefined when unset or empty. */
export function envPositiveNumber(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/** The environment variable `name` as a number ≥ 0; undefined when unset or blank. */
export function envNonNegative(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}
