export const VERSIONS: { claude: string; codex: string; gemini: string };
export function realCliDir(): string;
export function realCliBin(): string;
export function installRealClis(): string;
export const EXTRA_VERSIONS: { qwen: string };
export function extraCliDir(cli: keyof typeof EXTRA_VERSIONS): string;
export function extraCliBin(cli: keyof typeof EXTRA_VERSIONS): string;
export function installExtraClis(): string[];
