/** Creates a temporary bin directory whose claude, codex and gemini are the fake CLI. */
export function installFakeClis(names?: string[]): string;
