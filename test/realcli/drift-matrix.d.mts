export const DRIFT_FILES: string[];
export const CHECKS: [string, RegExp][];
export interface DriftTest {
  name: string;
  status: string;
  message: string;
}
export function testsOf(report: unknown): DriftTest[];
export function cliOf(name: string, clis: string[]): string | undefined;
export interface DriftRun {
  label: string;
  versions: Record<string, string>;
  report?: unknown;
}
export function formatMatrix(runs: DriftRun[]): { table: string; failures: string[] };
