import { z } from "zod";
import { PROVIDERS } from "../../providers/index.js";
import { CLI_NAMES } from "../../providers/types.js";
import type { ToolRegistry } from "../registry.js";
import { reply } from "./reply.js";

// Per CLI: models, aliases (alias → model id), cliAliases, cliDefault.
const catalog = z.looseObject({ models: z.array(z.string()) });

export function registerListModels(tools: ToolRegistry): void {
  tools.add({
    name: "list_models",
    description:
      "Known models and aliases per CLI. aliases map to model ids; cliAliases are resolved by the CLI; other ids pass through.",
    inputSchema: z.strictObject({ cli: z.enum(CLI_NAMES).optional() }),
    outputSchema: z.object({ clis: z.record(z.string(), catalog) }),
    annotations: { readOnlyHint: true },
    handler: ({ cli }) => {
      const names = cli ? [cli] : CLI_NAMES;
      return reply({
        clis: Object.fromEntries(names.map((name) => [name, PROVIDERS[name].catalog])),
      });
    },
  });
}
