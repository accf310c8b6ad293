// @trackhouse/tracker against a `trackhouse serve` that has API keys and a JWT secret: the key
// as a Bearer header, a refused key (401, reported, not retried), a rate-limited key whose 429
// answers' Retry-After the tracker waits out before it tries again, and end-user tokens that
// the server turns into userId.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, test } from 'node:test';

import { FlushError, Tracker } from '../dist/index.js';
import { countRows, kEntityMetricDdl, makeDataDir, recordingFetch, removeDir, selectRows, serve } from './harness.js';

const kTimeout = { timeout: 60_000 };
const kAdminKey = 'admin-key-for-tests';
const kWriteKey = 'write-key-for-tests';
const kSlowKey = 'rate-limited-key-for-tests';
const kJwtSecret = 'jwt-secret-for-tests';
const kConfig = `
[[keys]]
name = "admin"
key = "${kAdminKey}"
role = "admin"

[[keys]]
name = "web"
key = "${kWriteKey}"
role = "write"
tables = ["entityMetricEvents"]

[[keys]]
name = "slow"
key = "${kSlowKey}"
role = "write"
rate_per_second = 1
burst = 1

[auth]
jwt_secret = "${kJwtSecret}"
`;

// An HS256 JWT for user `sub`, valid for an hour.
function userToken(sub, secret = kJwtSecret) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

let server;
let dataDir;
let trackers;

beforeEach(async () => {
  dataDir = makeDataDir();
  server = await serve({ dataDir, config: kConfig, adminKey: kAdminKey });
  await server.sql(kEntityMetricDdl);
  trackers = [];
});

afterEach(async () => {
  await Promise.allSettled(trackers.map((t) => t.close()));
  const status = await server.stop();
  removeDir(dataDir);
  assert.deepEqual(status, { code: 0, signal: null }, server.output());
});

function newTracker(options, requests) {
  const tracker = new Tracker({
    endpoint: server.url,
    lingerMs: 600_000,
    onError: () => {},
    fetch: recordingFetch(requests),
    ...options,
  });
  trackers.push(tracker);
  return tracker;
}

const metric = (i) => ({ entityType: 'Image', entityId: i, metricType: 'Like', userId: 5 });

test('the key goes as a Bearer header; a wrong key is a 401, reported once, not retried', kTimeout, async () => {
  const requests = [];
  const good = newTracker({ key: kWriteKey }, requests);
  await good.entityMetric(metric(1));
  await good.flush();
  assert.equal(requests[0].headers.authorization, `Bearer ${kWriteKey}`);
  assert.equal(await countRows(server), 1);

  const refused = [];
  const bad = newTracker({ key: 'not-a-configured-key' }, refused);
  await bad.entityMetric(metric(2));
  await assert.rejects(bad.flush(), (error) => {
    assert.ok(error instanceof FlushError);
    assert.equal(error.errors[0].status, 401);
    assert.equal(error.errors[0].attempts, 1);
    return true;
  });
  assert.equal(refused.length, 1);
  assert.equal(await countRows(server), 1);
});

test('a 429 is retried after the Retry-After the server sent', kTimeout, async () => {
  const requests = [];
  // One request at a time, one row per request, and a backoff that alone would retry at once.
  const tracker = newTracker(
    { key: kSlowKey, batchSize: 1, maxConcurrentRequests: 1, retry: { baseDelayMs: 1, maxDelayMs: 1 } },
    requests,
  );
  for (let i = 0; i < 3; i++) await tracker.entityMetric(metric(i));
  await tracker.flush();
  assert.equal(await countRows(server), 3);

  const limited = requests.filter((r) => r.status === 429);
  assert.ok(limited.length >= 1, `some requests were rate limited: ${requests.map((r) => r.status)}`);
  for (const r of limited) {
    assert.match(r.retryAfter ?? '', /^\d+$/);
    const next = requests[requests.indexOf(r) + 1];
    assert.equal(next.headers['idempotency-key'], r.headers['idempotency-key'], 'the same batch again');
    const waited = next.at - r.answeredAt;
    assert.ok(waited >= Number(r.retryAfter) * 1000 - 5, `waited ${waited} ms after Retry-After: ${r.retryAfter}`);
  }
});

test('the user token of the track() call goes with its event; the server fills userId from it', kTimeout, async () => {
  const requests = [];
  const [user77, user88] = [userToken('77'), userToken('88')];
  const tracker = newTracker({ key: kWriteKey, userToken: user77 }, requests);
  const withoutUser = (i) => ({ entityType: 'Image', entityId: i, metricType: 'Like' });
  await tracker.entityMetric(withoutUser(1));
  tracker.setUserToken(user88);
  await tracker.entityMetric(withoutUser(2));
  await tracker.entityMetric({ ...withoutUser(3), userId: 5 });
  tracker.setUserToken(undefined);
  await tracker.flush();

  assert.equal(requests.length, 2, 'one batch per token');
  assert.deepEqual(requests.map((r) => r.headers['x-trackhouse-token']).sort(), [user77, user88].sort());
  const rows = await selectRows(server, 'SELECT entityId, userId FROM entityMetricEvents ORDER BY entityId');
  assert.deepEqual(rows, [
    { entityId: 1, userId: 77 },
    { entityId: 2, userId: 88 },
    { entityId: 3, userId: 5 },
  ]);

  // A token the server cannot verify: 401, reported, not retried.
  const forged = [];
  const other = newTracker({ key: kWriteKey, userToken: userToken('99', 'not-the-secret') }, forged);
  await other.entityMetric(withoutUser(4));
  await assert.rejects(other.flush(), (error) => error.errors[0].status === 401 && error.errors[0].attempts === 1);
  assert.equal(forged.length, 1);
  assert.equal(await countRows(server), 3);
});
