/** Burst (capacity) and sustained refill of one AWS throttling bucket. */
export interface BucketFigures {
  /** Bucket capacity: how many calls may arrive at once. */
  readonly burst: number;
  /** Tokens added per second: the sustained call rate. */
  readonly refillPerSecond: number;
}

/**
 * A token bucket as AWS documents ECS request throttling: it starts full, every call takes one token,
 * tokens refill continuously up to the burst size. The clock is injectable so tests need no sleeping.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly figures: BucketFigures,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = figures.burst;
    this.last = now();
  }

  /** Takes one token; false when the bucket is empty (the call is throttled). */
  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Tokens currently available (fractional while refilling). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const at = this.now();
    const elapsedSeconds = Math.max(0, at - this.last) / 1000;
    this.last = at;
    this.tokens = Math.min(this.figures.burst, this.tokens + elapsedSeconds * this.figures.refillPerSecond);
  }
}
