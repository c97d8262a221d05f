import { z } from "zod";
import { PROVIDERS } from "../../providers/index.js";
import type { Resilience } from "../../resilience.js";
import { CLI_NAMES } from "../../providers/types.js";
import type { ToolRegistry } from "../registry.js";
import { reply } from "./reply.js";

// Per CLI: models, aliases (alias → model id), cliAliases, cliDefault, breaker {state, nextAttemptAt}.
const catalog = z.looseObject({ models: z.array(z.string()) });

export function registerListModels(tools: ToolRegistry, resilience: Resilience): void {
  tools.add({
    name: "list_models",
    description:
      "Per CLI: known models, aliases (resolved to model ids; cliAliases are resolved by the CLI) and its circuit breaker state.",
    inputSchema: z.strictObject({ cli: z.enum(CLI_NAMES).optional() }),
    outputSchema: z.object({ clis: z.record(z.string(), catalog) }),
    annotations: { readOnlyHint: true },
    handler: ({ cli }) => {
      const names = cli ? [cli] : CLI_NAMES;
      const breaker = (name: (typeof CLI_NAMES)[number]) => ({ breaker: resilience.status(name) });
      return reply({
        clis: Object.fromEntries(
          names.map((name) => [name, { ...PROVIDERS[name].catalog, ...breaker(name) }]),
        ),
      });
    },
  });
}
