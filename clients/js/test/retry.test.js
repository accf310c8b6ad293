// The pure pieces of the retry policy and the event-time format (no server needed).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { formatEventTime } from '../dist/index.js';
import { backoffDelayMs, isRetryableStatus, parseRetryAfterMs } from '../dist/retry.js';

test('full-jitter backoff stays below min(max, base * 2^retry)', () => {
  assert.equal(backoffDelayMs(0, 100, 30_000, () => 0.999), 99);
  assert.equal(backoffDelayMs(3, 100, 30_000, () => 0.5), 400);
  assert.equal(backoffDelayMs(20, 100, 30_000, () => 0.999), 29_970);
  assert.equal(backoffDelayMs(5000, 100, 30_000, () => 0.5), 15_000, 'no overflow for a large retry count');
  assert.equal(backoffDelayMs(4, 100, 30_000, () => 0), 0);
});

test('Retry-After is read as seconds or as an HTTP date, bounded', () => {
  const now = Date.UTC(2026, 0, 1, 0, 0, 0);
  assert.equal(parseRetryAfterMs('3', now), 3000);
  assert.equal(parseRetryAfterMs(' 0 ', now), 0);
  assert.equal(parseRetryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', now), 0, 'a date in the past: at once');
  assert.equal(parseRetryAfterMs('86400', now), 600_000, 'at most ten minutes');
  assert.equal(parseRetryAfterMs('soon', now), undefined);
  assert.equal(parseRetryAfterMs(null, now), undefined);
});

test('which answers are retried', () => {
  for (const status of [408, 409, 425, 429, 500, 502, 503, 504]) assert.equal(isRetryableStatus(status), true, `${status}`);
  for (const status of [400, 401, 403, 404, 405, 413, 415, 422]) assert.equal(isRetryableStatus(status), false, `${status}`);
});

test('event times are UTC text with milliseconds', () => {
  assert.equal(formatEventTime(Date.UTC(2026, 10, 25, 1, 2, 3, 45)), '2026-11-25 01:02:03.045');
  assert.equal(formatEventTime(new Date(Date.UTC(1999, 0, 1))), '1999-01-01 00:00:00.000');
});
