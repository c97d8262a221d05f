import { claudeProvider } from "./claude.js";
import { codexProvider } from "./codex.js";
import { geminiProvider } from "./gemini.js";
import { opencodeProvider } from "./opencode.js";
import { qwenProvider } from "./qwen.js";
import type { CliName, Provider } from "./types.js";

export const PROVIDERS = {
  claude: claudeProvider,
  codex: codexProvider,
  gemini: geminiProvider,
  qwen: qwenProvider,
  opencode: opencodeProvider,
} as const satisfies Record<CliName, Provider>;

export type Providers = typeof PROVIDERS;

/** The options one CLI's requests take (its provider's); for a union of CLIs, the union of theirs. */
export type OptionsOf<C extends CliName> = C extends CliName
  ? Providers[C] extends Provider<infer O>
    ? O
    : never
  : never;

/**
 * The provider of `cli`, typed with that CLI's options (or, for a union of CLIs, with the union of
 * theirs): TypeScript does not tie an indexed PROVIDERS[cli] to OptionsOf<C> by itself.
 */
export function providerOf<C extends CliName>(cli: C): Provider<OptionsOf<C>> {
  return PROVIDERS[cli] as Provider<OptionsOf<C>>;
}

/** The model id the CLI should get: gateway aliases resolved, anything else unchanged. */
export function resolveModel(provider: Provider, model: string | undefined): string | undefined {
  if (!model) return undefined;
  return provider.catalog.aliases[model] ?? model;
}

/** The CLIs served by agent_request (those whose provider declares it) rather than a tool of their own. */
export const AGENT_CLIS = (Object.values(PROVIDERS) as Provider[])
  .filter((p) => p.agentRequest)
  .map((p) => p.name);

/** The tool that runs a CLI's requests, as error messages name it. */
export function requestToolOf(cli: CliName): string {
  return PROVIDERS[cli].agentRequest ? `agent_request (cli "${cli}")` : `${cli}_request`;
}
