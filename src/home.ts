import { homedir } from "node:os";
import { join } from "node:path";

/** The gateway's state directory: `LLM_GATEWAY_HOME`, default `~/.llm-cli-gateway`. */
export function gatewayHomeDir(env: NodeJS.ProcessEnv): string {
  return env.LLM_GATEWAY_HOME || join(env.HOME || homedir(), ".llm-cli-gateway");
}
