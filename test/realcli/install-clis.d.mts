export const VERSIONS: { claude: string; codex: string; gemini: string };
export const PACKAGES: { claude: string; codex: string; gemini: string };
export function realCliDir(): string;
export function realCliBin(): string;
export function installRealClis(): string;
export const OPENCODE_VERSION: string;
export function opencodeDir(): string;
export function opencodeBin(): string;
export function installOpencode(): string;
