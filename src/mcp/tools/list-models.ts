import { z } from "zod";
import type { CliProbe } from "../../process/cli-probe.js";
import { PROVIDERS } from "../../providers/index.js";
import type { Resilience } from "../../resilience.js";
import { CLI_NAMES, type CliName } from "../../providers/types.js";
import type { ToolRegistry } from "../registry.js";
import { reply } from "./reply.js";

// Per CLI: installed, version, inTestedRange, models, aliases (alias → model id), cliAliases,
// cliDefault, breaker {state, nextAttemptAt}.
const catalog = z.looseObject({ models: z.array(z.string()) });

export function registerListModels(
  tools: ToolRegistry,
  resilience: Resilience,
  probe: CliProbe,
): void {
  tools.add({
    name: "list_models",
    description:
      "Per CLI: installed, version, inTestedRange, models, aliases (resolved to model ids; cliAliases by the CLI), breaker state.",
    inputSchema: z.strictObject({ cli: z.enum(CLI_NAMES).optional() }),
    outputSchema: z.object({ clis: z.record(z.string(), catalog) }),
    annotations: { readOnlyHint: true },
    handler: ({ cli }) => {
      const names = cli ? [cli] : CLI_NAMES;
      return reply({ clis: Object.fromEntries(names.map((name) => [name, entry(name)])) });
    },
  });

  function entry(name: CliName) {
    // peek never waits: a version not probed yet is started now and shown by the next call.
    const { installed, version, inTestedRange } = probe.peek(PROVIDERS[name]);
    return {
      installed,
      ...(version ? { version, inTestedRange } : {}),
      ...PROVIDERS[name].catalog,
      breaker: resilience.status(name),
    };
  }
}
