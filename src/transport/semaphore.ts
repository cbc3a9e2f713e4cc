// A small counting semaphore: at most `capacity` holders; others wait in FIFO order.

export class Semaphore {
  private active = 0;
  private peak = 0;
  private total = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(
    readonly capacity: number,
    /** Called after every change of the number of holders (instrumentation). */
    private readonly onChange?: (active: number) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`semaphore capacity must be >= 1, got ${capacity}`);
  }

  /** Wait for a slot; resolves to a release function (idempotent). */
  async acquire(): Promise<() => void> {
    if (this.active >= this.capacity) {
      // The releasing holder hands its slot over directly (active stays the same).
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    } else {
      this.active++;
      if (this.active > this.peak) this.peak = this.active;
      this.onChange?.(this.active);
    }
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) {
        next();
      } else {
        this.active--;
        this.onChange?.(this.active);
      }
    };
  }

  get stats(): { active: number; peak: number; total: number; waiting: number } {
    return { active: this.active, peak: this.peak, total: this.total, waiting: this.waiters.length };
  }
}
