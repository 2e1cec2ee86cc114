import type { RetryContext, RetryPolicy } from "./types.js";

export interface ExponentialBackoffOptions {
  /** The first delay's upper bound. Default 500 ms. */
  initialDelayMs?: number;
  /** The largest delay. Default 30,000 ms. */
  maxDelayMs?: number;
  /** Attempts before giving up. Default: never give up. */
  maxRetries?: number;
  /** A random number in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/**
 * Exponential backoff with full jitter: attempt n waits a uniformly random time in
 * [0, min(maxDelay, initialDelay × 2^n)), so a hub restart is not met by every client at once.
 */
export class ExponentialBackoff implements RetryPolicy {
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxRetries: number;
  private readonly random: () => number;

  constructor(options: ExponentialBackoffOptions = {}) {
    this.initialDelayMs = options.initialDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.maxRetries = options.maxRetries ?? Number.POSITIVE_INFINITY;
    this.random = options.random ?? Math.random;
  }

  /** The upper bound of attempt n's delay. */
  ceiling(previousRetryCount: number): number {
    return Math.min(this.maxDelayMs, this.initialDelayMs * 2 ** Math.min(previousRetryCount, 30));
  }

  nextRetryDelayInMilliseconds(context: RetryContext): number | null {
    if (context.previousRetryCount >= this.maxRetries) return null;
    return Math.floor(this.random() * this.ceiling(context.previousRetryCount));
  }
}
