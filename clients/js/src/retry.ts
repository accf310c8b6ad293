// When to try a batch again: exponential backoff with full jitter, or what the server's
// Retry-After says.

/** The retry policy of a Tracker. */
export interface RetryOptions {
  /** Retries after the first attempt before the batch is reported failed. Default 8. */
  maxRetries?: number;
  /** Backoff of the first retry, ms: the wait is random in [0, min(max, base * 2^n)). Default 100. */
  baseDelayMs?: number;
  /** Longest backoff between two attempts, ms (Retry-After may ask for more). Default 30,000. */
  maxDelayMs?: number;
}

// A Retry-After longer than this is taken as this: the tracker keeps trying rather than
// holding a batch for hours.
const kMaxRetryAfterMs = 10 * 60 * 1000;

/** Full-jitter backoff before retry number `retry` (0 = the first retry). */
export function backoffDelayMs(
  retry: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(retry, 52));
  return Math.floor(random() * ceiling);
}

/**
 * The wait a Retry-After header asks for, ms: delay-seconds or an HTTP date. Undefined when the
 * header is absent or unreadable.
 */
export function parseRetryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  let ms: number;
  if (/^\d+$/.test(text)) {
    ms = Number(text) * 1000;
  } else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowMs;
  }
  return Math.min(Math.max(ms, 0), kMaxRetryAfterMs);
}

/**
 * Answers worth another attempt: timeouts, a request with the same Idempotency-Key still being
 * served (409; the retry gets its answer), too early, rate limited, server errors.
 */
export function isRetryableStatus(status: number): boolean {
  return [408, 409, 425, 429].includes(status) || (status >= 500 && status <= 599);
}
