/** Milliseconds of CLI starts per event-loop turn. */
const SLICE_MS = 10;

/**
 * Paces CLI starts. Starting a process blocks the event loop for milliseconds (fork copies the
 * gateway's page tables, then waits for the child to exec), so a burst of a hundred starts would
 * hold every MCP call behind it. Starts go one at a time, about SLICE_MS of them per turn of the
 * event loop; calls are answered in between.
 */
export class StartPacer {
  private readonly waiting: (() => void)[] = [];
  private budgetMs = SLICE_MS;
  private grantedAt: number | undefined;
  private refillScheduled = false;

  /** Resolves when the caller may start its process; it then calls started(), even on failure. */
  turn(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.grantNext();
    });
  }

  started(): void {
    if (this.grantedAt === undefined) return;
    this.budgetMs -= performance.now() - this.grantedAt;
    this.grantedAt = undefined;
    if (!this.refillScheduled) {
      this.refillScheduled = true;
      setImmediate(() => {
        this.refillScheduled = false;
        this.budgetMs = SLICE_MS;
        this.grantNext();
      });
    }
    this.grantNext();
  }

  private grantNext(): void {
    if (this.grantedAt !== undefined || this.budgetMs <= 0 || !this.waiting.length) return;
    this.grantedAt = performance.now();
    this.waiting.shift()!();
  }
}
