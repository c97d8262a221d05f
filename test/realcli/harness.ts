import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { startGateway, type StartedGateway } from "../helpers/gateway.js";
import { EXTRA_VERSIONS, extraCliBin, realCliBin } from "./install-clis.mjs";
import { startMockApi } from "./mock-llm-api.mjs";

export interface MockLogEntry {
  seq: number;
  dialect: string;
  kind: string;
  path: string;
  model?: string;
  prompt?: string;
  turn?: number;
  status?: number;
  userTexts?: string[];
  assistantTexts?: string[];
  reply?: string;
  body?: unknown;
}

export interface MockApi {
  url: string;
  log(): MockLogEntry[];
  reset(): void;
  /** Fails matching main requests from now on ("500", "500x2", ...), without a marker in the prompt. */
  queueFault(spec: string, options?: { dialect?: string; match?: string }): void;
  close(): Promise<void>;
}

export interface RealLane {
  mock: MockApi;
  gateway: StartedGateway;
  /** Stops the gateway process and starts a new one over the same homes. */
  restartGateway(): Promise<StartedGateway>;
  /** Throw-away HOME of the gateway and the CLIs it starts. */
  home: string;
  /** The working directory requests run in. */
  workdir: string;
  /** Model requests (not the proxy sink, not gemini's router) the mock saw for a marker in the prompt. */
  mainRequests(marker: string): MockLogEntry[];
  close(): Promise<void>;
}

/**
 * The real CLIs, talking only to our mock on 127.0.0.1, behind the built gateway. Everything lives
 * under a fresh temporary HOME: no test reads or writes the user's ~/.claude, ~/.codex or ~/.gemini.
 * `root` is where that HOME is made (default the system's temporary directory).
 */
export async function startRealLane(
  extraEnv: Record<string, string> = {},
  options: { root?: string; extraClis?: (keyof typeof EXTRA_VERSIONS)[] } = {},
): Promise<RealLane> {
  const mock = (await startMockApi({ port: 0 })) as unknown as MockApi;
  const home = mkdtempSync(join(options.root ?? tmpdir(), "llm-gateway-real-"));
  const workdir = join(home, "work");
  mkdirSync(join(home, "tmp"), { recursive: true });
  mkdirSync(workdir, { recursive: true });
  writeCliConfigs(home, mock.url);
  const env = realCliEnv(home, mock.url, extraEnv, options.extraClis);
  const lane: RealLane = {
    mock,
    gateway: await startGateway(env, { home, cwd: workdir }),
    async restartGateway() {
      await lane.gateway.close();
      lane.gateway = await startGateway(env, { home, cwd: workdir });
      return lane.gateway;
    },
    home,
    workdir,
    mainRequests: (marker) =>
      mock
        .log()
        .filter(
          (e) => e.dialect !== "proxy" && e.kind === "main" && (e.prompt ?? "").includes(marker),
        ),
    async close() {
      await lane.gateway.close();
      await mock.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
  return lane;
}

/**
 * The environment that points the real CLIs at the mock and nothing else, under a fresh HOME. The
 * CLIs added since the first three are on PATH only when named (consult and review run every
 * installed CLI).
 */
export function realCliEnv(
  home: string,
  mockUrl: string,
  extraEnv: Record<string, string> = {},
  extraClis: (keyof typeof EXTRA_VERSIONS)[] = [],
): Record<string, string> {
  const extraBins = extraClis.map((cli) => `${extraCliBin(cli)}:`).join("");
  const proxy = mockUrl; // the mock's proxy sink answers 403 to anything not meant for it
  return {
    PATH: `${realCliBin()}:${extraBins}${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: home,
    TMPDIR: join(home, "tmp"),
    LANG: "C.UTF-8",
    LLM_GATEWAY_HOME: join(home, ".llm-cli-gateway"),
    ANTHROPIC_BASE_URL: mockUrl,
    ANTHROPIC_API_KEY: "sk-ant-mock",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    CLAUDE_CODE_MAX_RETRIES: "2",
    CODEX_HOME: join(home, ".codex"),
    MOCK_API_KEY: "mock-key",
    GEMINI_API_KEY: "mock-key",
    GOOGLE_GEMINI_BASE_URL: mockUrl,
    GEMINI_CLI_TRUST_WORKSPACE: "true",
    GEMINI_CLI_NO_RELAUNCH: "true",
    // qwen: an OpenAI-compatible endpoint, chosen by these alone (docs/cli-facts/qwen.md).
    OPENAI_BASE_URL: `${mockUrl}/v1`,
    OPENAI_API_KEY: "sk-mock",
    OPENAI_MODEL: "qwen3-coder-plus",
    HTTPS_PROXY: proxy,
    HTTP_PROXY: proxy,
    ALL_PROXY: proxy,
    https_proxy: proxy,
    http_proxy: proxy,
    all_proxy: proxy,
    NO_PROXY: "127.0.0.1,localhost,::1",
    no_proxy: "127.0.0.1,localhost,::1",
    ...extraEnv,
  };
}

/** The settings that point each CLI at the mock and stop all other traffic. */
export function writeCliConfigs(home: string, mockUrl: string): void {
  mkdirSync(join(home, ".codex"), { recursive: true });
  writeFileSync(
    join(home, ".codex", "config.toml"),
    [
      'model_provider = "mock"',
      "[analytics]",
      "enabled = false",
      "[features]",
      "plugins = false",
      "remote_plugin = false",
      "[model_providers.mock]",
      'name = "mock-llm-api"',
      `base_url = "${mockUrl}/v1"`,
      'env_key = "MOCK_API_KEY"',
      'wire_api = "responses"',
      "request_max_retries = 2",
      "stream_max_retries = 2",
      "",
    ].join("\n"),
  );
  mkdirSync(join(home, ".gemini"), { recursive: true });
  writeFileSync(
    join(home, ".gemini", "settings.json"),
    JSON.stringify({
      security: { auth: { selectedType: "gemini-api-key" } },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
      general: { enableAutoUpdate: false, enableAutoUpdateNotification: false, maxAttempts: 2 },
    }),
  );
  // qwen: no usage statistics (aliyuncs RUM), no memory extraction (a second model call per turn).
  mkdirSync(join(home, ".qwen"), { recursive: true });
  writeFileSync(
    join(home, ".qwen", "settings.json"),
    JSON.stringify({
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
      general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
      memory: { enableManagedAutoMemory: false, enableManagedAutoDream: false },
      model: { generationConfig: { maxRetries: 1 } },
    }),
  );
}
