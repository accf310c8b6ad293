// @trackhouse/tracker against a real `trackhouse serve` (harness.js): event times, batching by
// size and by linger, flush() semantics, idempotent retries, a full queue ('fail' and 'block'),
// refused batches, and a server that comes up only after the tracker started sending.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';

import { DeliveryError, FlushError, Tracker, TrackerClosedError, TrackerFullError } from '../dist/index.js';
import {
  countRows,
  kEntityMetricDdl,
  makeDataDir,
  ndjsonRows,
  recordingFetch,
  removeDir,
  selectRows,
  serve,
  utcMillis,
  waitFor,
} from './harness.js';

const kTimeout = { timeout: 60_000 };
// Long enough that no batch is sent by its age during a test that does not want it to be.
const kNeverLinger = 600_000;

let server;
let dataDir;
let trackers;

beforeEach(async () => {
  dataDir = makeDataDir();
  server = await serve({ dataDir });
  await server.sql(kEntityMetricDdl);
  trackers = [];
});

afterEach(async () => {
  // Every tracker is closed (its timers stopped); a failure here was asserted in the test.
  await Promise.allSettled(trackers.map((t) => t.close()));
  const status = await server?.stop();
  removeDir(dataDir);
  assert.deepEqual(status, { code: 0, signal: null }, `trackhouse serve exits 0 on SIGTERM\n${server.output()}`);
});

// A tracker of the current server; `requests` records what it sent.
function newTracker(options = {}, requests = [], intercept = undefined) {
  const tracker = new Tracker({
    endpoint: server.url,
    fetch: recordingFetch(requests, intercept),
    onError: () => {},
    ...options,
  });
  trackers.push(tracker);
  return tracker;
}

function metric(i, overrides = {}) {
  return { entityType: 'Model', entityId: i, metricType: 'View', userId: 1000 + i, ...overrides };
}

describe('event time', () => {
  test('entityMetric rows are stored with the time of the call, not of the send', kTimeout, async () => {
    const tracker = newTracker({ lingerMs: kNeverLinger });
    const before = Date.now();
    await tracker.entityMetric({ entityType: 'Model', entityId: 42, metricType: 'Download', userId: 7 });
    const after = Date.now();
    // Let the clock move on so that a time taken at send could not pass for the call's.
    await new Promise((resolve) => setTimeout(resolve, 30));
    const flushStart = Date.now();
    await tracker.flush();

    const rows = await selectRows(server, 'SELECT * FROM entityMetricEvents');
    assert.equal(rows.length, 1);
    const [row] = rows;
    assert.deepEqual(
      { ...row, createdAt: undefined },
      { entityType: 'Model', entityId: 42, userId: 7, metricType: 'Download', metricValue: 1, createdAt: undefined },
    );
    const stamped = utcMillis(row.createdAt);
    assert.ok(before <= stamped && stamped <= after, `${row.createdAt} is between the call's start and end`);
    assert.ok(stamped < flushStart, `${row.createdAt} is before the flush`);
  });

  test('a row that has its own time keeps it; Dates are sent as UTC text', kTimeout, async () => {
    const tracker = newTracker({ lingerMs: kNeverLinger });
    await tracker.track('entityMetricEvents', { ...metric(1), metricValue: 5, createdAt: '2026-01-02 03:04:05.678' });
    await tracker.entityMetric({ ...metric(2), createdAt: new Date(Date.UTC(2025, 11, 31, 23, 59, 58, 9)) });
    await tracker.flush();
    const rows = await selectRows(server, 'SELECT entityId, metricValue, createdAt FROM entityMetricEvents ORDER BY entityId');
    assert.deepEqual(rows, [
      { entityId: 1, metricValue: 5, createdAt: '2026-01-02 03:04:05.678' },
      { entityId: 2, metricValue: 1, createdAt: '2025-12-31 23:59:58.009' },
    ]);
  });
});

describe('batching', () => {
  test('a batch is sent as soon as it holds batchSize rows', kTimeout, async () => {
    const requests = [];
    const tracker = newTracker({ batchSize: 5, lingerMs: kNeverLinger }, requests);
    for (let i = 0; i < 12; i++) await tracker.entityMetric(metric(i));
    await waitFor(async () => (await countRows(server)) === 10, { what: 'two full batches stored' });

    assert.equal(requests.length, 2, 'two requests, no more');
    for (const r of requests) {
      assert.equal(ndjsonRows(r.body).length, 5);
      assert.equal(r.headers['content-type'], 'application/x-ndjson');
      assert.equal(r.url, `${server.url}/track/entityMetricEvents`);
    }
    assert.notEqual(requests[0].headers['idempotency-key'], requests[1].headers['idempotency-key']);
    assert.equal(tracker.pendingRows, 2, 'the last two rows wait for more or for their linger');

    await tracker.flush();
    assert.equal(await countRows(server), 12);
    assert.equal(requests.length, 3);
    assert.equal(ndjsonRows(requests[2].body).length, 2);
  });

  test('a batch that does not fill up is sent lingerMs after its first row', kTimeout, async () => {
    const requests = [];
    const tracker = newTracker({ batchSize: 1000, lingerMs: 300 }, requests);
    const start = Date.now();
    for (let i = 0; i < 3; i++) await tracker.entityMetric(metric(i));
    assert.equal(requests.length, 0, 'nothing is sent at once');
    await waitFor(async () => (await countRows(server)) === 3, { what: 'the lingered batch stored' });

    assert.equal(requests.length, 1);
    assert.equal(ndjsonRows(requests[0].body).length, 3);
    // Timers may fire up to a millisecond early.
    assert.ok(requests[0].at - start >= 299, `sent ${requests[0].at - start} ms after the first row`);
    assert.equal(tracker.pendingRows, 0);
  });

  test('a batch is sent once its body reaches maxBatchBytes', kTimeout, async () => {
    const requests = [];
    const tracker = newTracker({ batchSize: 1000, maxBatchBytes: 1000, lingerMs: kNeverLinger }, requests);
    for (let i = 0; i < 30; i++) await tracker.entityMetric(metric(i, { metricType: `View-${'x'.repeat(50)}` }));
    await tracker.flush();
    assert.equal(await countRows(server), 30);
    assert.ok(requests.length >= 3, `${requests.length} requests`);
    for (const r of requests.slice(0, -1)) {
      const rows = ndjsonRows(r.body);
      const lastLine = JSON.stringify(rows.at(-1)).length + 1;
      assert.ok(r.body.length >= 1000 && r.body.length - lastLine < 1000, `a batch of ${r.body.length} bytes`);
    }
  });

  test('one batch holds the rows of one table', kTimeout, async () => {
    await server.sql('CREATE TABLE pageViews (path String, createdAt DateTime64(3)) ENGINE = MergeTree() ORDER BY createdAt');
    const requests = [];
    const tracker = newTracker({ lingerMs: kNeverLinger }, requests);
    await tracker.entityMetric(metric(1));
    await tracker.track('pageViews', { path: '/a' });
    await tracker.entityMetric(metric(2));
    await tracker.track('pageViews', { path: '/b' });
    await tracker.flush();

    assert.deepEqual(requests.map((r) => [r.url.replace(server.url, ''), ndjsonRows(r.body).length]).sort(), [
      ['/track/entityMetricEvents', 2],
      ['/track/pageViews', 2],
    ]);
    assert.deepEqual(await selectRows(server, 'SELECT path FROM pageViews ORDER BY path'), [{ path: '/a' }, { path: '/b' }]);
    assert.equal(await countRows(server), 2);
  });
});

describe('flush', () => {
  test('flush() resolves only once the server has stored every queued row', kTimeout, async () => {
    const requests = [];
    const tracker = newTracker({ batchSize: 100, lingerMs: kNeverLinger }, requests);
    for (let i = 0; i < 250; i++) await tracker.entityMetric(metric(i));
    // The two full batches go out without a flush; the last 50 rows wait for it.
    await waitFor(async () => (await countRows(server)) === 200, { what: 'the full batches stored' });
    assert.equal(tracker.pendingRows, 50);
    await tracker.flush();
    // No polling: the rows are there when flush() resolves.
    assert.equal(await countRows(server), 250);
    assert.equal(requests.length, 3);
    assert.ok(requests.every((r) => r.status === 200));
    assert.equal(tracker.pendingRows, 0);
  });

  test('close() delivers what is queued, then track() rejects', kTimeout, async () => {
    const tracker = newTracker({ lingerMs: kNeverLinger });
    for (let i = 0; i < 7; i++) await tracker.entityMetric(metric(i));
    await tracker.close();
    assert.equal(await countRows(server), 7);
    await assert.rejects(tracker.entityMetric(metric(8)), TrackerClosedError);
  });
});

describe('idempotency', () => {
  test('a batch whose answer was lost is retried with the same key and stored once', kTimeout, async () => {
    const requests = [];
    // The first request reaches the server and is stored, but its answer never reaches the
    // tracker; every later one goes through.
    const loseFirstAnswer = async (record, send) => {
      const answer = await send();
      if (requests.indexOf(record) === 0) {
        await answer.text();
        throw new TypeError('fetch failed (answer lost on the way back)');
      }
      return answer;
    };
    const tracker = newTracker({ lingerMs: kNeverLinger, retry: { baseDelayMs: 10 } }, requests, loseFirstAnswer);
    for (let i = 0; i < 20; i++) await tracker.entityMetric(metric(i));
    await tracker.flush();

    assert.equal(requests.length, 2, 'one retry');
    assert.deepEqual(requests.map((r) => r.status), [200, 200], 'the server answered both');
    const [first, retry] = requests;
    assert.equal(first.headers['idempotency-key'], retry.headers['idempotency-key']);
    assert.match(first.headers['idempotency-key'], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(first.body, retry.body);
    assert.equal(await countRows(server), 20, 'stored once');

    // The key is what kept it single: the same body under a new key is stored again.
    const again = await fetch(first.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-ndjson', 'Idempotency-Key': 'another-key' },
      body: first.body,
    });
    assert.equal(again.status, 200, await again.text());
    assert.equal(await countRows(server), 40);
  });
});

describe('full queue', () => {
  test("whenFull 'fail': track() rejects with TrackerFullError, nothing queued is lost", kTimeout, async () => {
    const tracker = newTracker({ maxQueueRows: 3, whenFull: 'fail', lingerMs: kNeverLinger });
    for (let i = 0; i < 3; i++) await tracker.entityMetric(metric(i));
    await assert.rejects(tracker.entityMetric(metric(3)), (error) => {
      assert.ok(error instanceof TrackerFullError);
      assert.equal(error.maxQueueRows, 3);
      return true;
    });
    assert.equal(tracker.pendingRows, 3);
    await tracker.flush();
    assert.deepEqual(await selectRows(server, 'SELECT entityId FROM entityMetricEvents ORDER BY entityId'), [
      { entityId: 0 },
      { entityId: 1 },
      { entityId: 2 },
    ]);
    // Room again once delivered.
    await tracker.entityMetric(metric(4));
    await tracker.close();
    assert.equal(await countRows(server), 4);
  });

  test("whenFull 'block': track() waits until a delivered batch makes room", kTimeout, async () => {
    const tracker = newTracker({ maxQueueRows: 2, whenFull: 'block', lingerMs: kNeverLinger });
    await tracker.entityMetric(metric(0));
    await tracker.entityMetric(metric(1));
    let admitted = false;
    const third = tracker.entityMetric(metric(2)).then(() => (admitted = true));
    // A few turns of the event loop: nothing can make room without a delivery.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(admitted, false, 'the third call waits');
    assert.equal(tracker.pendingRows, 2);

    await tracker.flush();
    await third;
    assert.equal(admitted, true);
    assert.equal(await countRows(server), 2);
    assert.equal(tracker.pendingRows, 1, 'the third event is queued now');
    await tracker.close();
    assert.equal(await countRows(server), 3);
  });

  test("close() also delivers track() calls still waiting for room ('block')", kTimeout, async () => {
    const tracker = newTracker({ maxQueueRows: 1, whenFull: 'block', lingerMs: kNeverLinger });
    await tracker.entityMetric(metric(0));
    const waiting = [tracker.entityMetric(metric(1)), tracker.entityMetric(metric(2))];
    await tracker.close();
    await Promise.all(waiting);
    assert.deepEqual(
      (await selectRows(server, 'SELECT entityId FROM entityMetricEvents ORDER BY entityId')).map((r) => r.entityId),
      [0, 1, 2],
    );
    await assert.rejects(tracker.entityMetric(metric(3)), TrackerClosedError);
  });
});

describe('refused batches', () => {
  test('a 400 is reported through onError and flush() rejects; it is not retried', kTimeout, async () => {
    const requests = [];
    const reported = [];
    const tracker = newTracker(
      { lingerMs: kNeverLinger, onError: (error, rows) => reported.push({ error, rows }) },
      requests,
    );
    await tracker.entityMetric(metric(1));
    await tracker.entityMetric(metric(2, { entityId: 'not a number' }));
    await assert.rejects(tracker.flush(), (error) => {
      assert.ok(error instanceof FlushError, String(error));
      assert.equal(error.errors.length, 1);
      const [delivery] = error.errors;
      assert.ok(delivery instanceof DeliveryError);
      assert.equal(delivery.status, 400);
      assert.equal(delivery.code, 'BAD_ROWS');
      assert.equal(delivery.retryable, false);
      assert.equal(delivery.attempts, 1);
      assert.equal(delivery.rows.length, 2);
      assert.ok(
        delivery.rowErrors.some((r) => r.index === 1 && r.column === 'entityId'),
        JSON.stringify(delivery.rowErrors),
      );
      return true;
    });
    assert.equal(requests.length, 1, 'not retried');
    assert.equal(reported.length, 1);
    assert.deepEqual(
      reported[0].rows.map((r) => r.entityId),
      [1, 'not a number'],
    );
    assert.equal(await countRows(server), 0, 'all or nothing');
    assert.equal(tracker.pendingRows, 0);

    // The tracker goes on; a later flush does not report the old failure again.
    await tracker.entityMetric(metric(3));
    await tracker.flush();
    assert.equal(await countRows(server), 1);
  });

  test('a failure nobody flushed for is reported by the next flush()', kTimeout, async () => {
    const reported = [];
    const tracker = newTracker({ batchSize: 1, onError: (error) => reported.push(error) });
    await tracker.track('noSuchTable', { a: 1 });
    await waitFor(() => reported.length === 1, { what: 'onError' });
    assert.equal(reported[0].status, 404);
    await assert.rejects(tracker.flush(), (error) => error instanceof FlushError && error.errors[0] === reported[0]);
    await tracker.flush();
  });
});

describe('retries', () => {
  test('rows tracked while the server is down are delivered once it is up', kTimeout, async () => {
    // The table exists in the data directory; the server is stopped and comes back on the same
    // port after the tracker has failed to connect a few times.
    const { port } = server;
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
    const requests = [];
    const tracker = newTracker(
      { batchSize: 10, lingerMs: 50, retry: { maxRetries: 1000, baseDelayMs: 20, maxDelayMs: 200 } },
      requests,
    );
    for (let i = 0; i < 25; i++) await tracker.entityMetric(metric(i));
    const flushed = tracker.flush();
    await waitFor(() => requests.filter((r) => r.error).length >= 6, { what: 'refused connections' });

    server = await serve({ dataDir, port });
    await flushed;
    assert.equal(await countRows(server), 25);
    // Each batch kept its key across its attempts, and three batches were stored.
    const keys = new Map();
    for (const r of requests) {
      const key = r.headers['idempotency-key'];
      keys.set(key, (keys.get(key) ?? []).concat(r.status ?? 'error'));
    }
    assert.equal(keys.size, 3, JSON.stringify([...keys]));
    for (const attempts of keys.values()) assert.equal(attempts.at(-1), 200);
    assert.ok(requests.length > 6);
  });

  test('retries give up after maxRetries and report the batch', kTimeout, async () => {
    const { port } = server;
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
    const requests = [];
    const tracker = newTracker({ lingerMs: kNeverLinger, retry: { maxRetries: 3, baseDelayMs: 5, maxDelayMs: 20 } }, requests);
    await tracker.entityMetric(metric(1));
    await assert.rejects(tracker.flush(), (error) => {
      const [delivery] = error.errors;
      assert.equal(delivery.retryable, true);
      assert.equal(delivery.attempts, 4);
      assert.equal(delivery.status, undefined);
      assert.equal(delivery.rows[0].entityId, 1);
      return true;
    });
    assert.equal(requests.length, 4);
    server = await serve({ dataDir, port });
  });
});
