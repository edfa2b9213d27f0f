/** Seconds since a start, for progress lines a person can follow. */
export class Clock {
  private readonly started = performance.now();

  /** Seconds since the clock started. */
  seconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  /** `[  3.2 s]`: fixed width, so progress lines line up. */
  stamp(): string {
    return `[${this.seconds().toFixed(1).padStart(5)} s]`;
  }
}
