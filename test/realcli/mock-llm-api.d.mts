export interface MockApiHandle {
  url: string;
  port: number;
  log(): Record<string, unknown>[];
  reset(): void;
  queueFault(spec: string, options?: { dialect?: string; match?: string }): void;
  close(): Promise<void>;
}
export function startMockApi(options?: { port?: number; logFile?: string }): Promise<MockApiHandle>;
