// The page-hide path of @trackhouse/tracker, in Node with the few browser objects it uses:
// `document` (visibilityState, visibilitychange), `window` (pagehide) and a
// navigator.sendBeacon that posts what it is given to the real server the way a browser does
// (POST, the Blob's type as Content-Type, no other headers). This file runs in its own process,
// so the globals touch no other suite.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';

import { Tracker } from '../dist/index.js';
import { countRows, kEntityMetricDdl, makeDataDir, ndjsonRows, recordingFetch, removeDir, selectRows, serve, waitFor } from './harness.js';

const kTimeout = { timeout: 60_000 };

class FakeDocument extends EventTarget {
  visibilityState = 'visible';
  hide() {
    this.visibilityState = 'hidden';
    this.dispatchEvent(new Event('visibilitychange'));
  }
}

// Beacons: { url, type, body, delivered (the server's answer) }. `accept` says whether the
// browser takes the next one.
const beacons = [];
let accept = () => true;
Object.defineProperty(globalThis, 'navigator', {
  configurable: true,
  value: {
    sendBeacon(url, data) {
      if (!accept()) return false;
      const beacon = { url, type: data.type };
      beacon.delivered = data
        .text()
        .then((body) => {
          beacon.body = body;
          return fetch(url, { method: 'POST', headers: { 'Content-Type': data.type }, body });
        })
        .then(async (answer) => ({ status: answer.status, text: await answer.text() }));
      beacons.push(beacon);
      return true;
    },
  },
});

let server;
let dataDir;
let tracker;

beforeEach(async () => {
  globalThis.document = new FakeDocument();
  globalThis.window = new EventTarget();
  beacons.length = 0;
  accept = () => true;
  dataDir = makeDataDir();
  server = await serve({ dataDir });
  await server.sql(kEntityMetricDdl);
});

afterEach(async () => {
  await tracker?.close().catch(() => {});
  tracker = undefined;
  const status = await server.stop();
  removeDir(dataDir);
  delete globalThis.document;
  delete globalThis.window;
  assert.deepEqual(status, { code: 0, signal: null });
});

function metric(i) {
  return { entityType: 'Post', entityId: i, metricType: 'View', userId: 1 };
}

test('events not sent yet go out in a text/plain beacon when the page is hidden', kTimeout, async () => {
  const requests = [];
  tracker = new Tracker({ endpoint: server.url, lingerMs: 600_000, fetch: recordingFetch(requests) });
  for (let i = 0; i < 3; i++) await tracker.entityMetric(metric(i));
  assert.equal(beacons.length, 0);

  document.hide();
  assert.equal(beacons.length, 1);
  assert.equal(tracker.pendingRows, 0, 'handed to the browser');
  const [beacon] = beacons;
  assert.equal(beacon.url, `${server.url}/track/entityMetricEvents`);
  assert.equal(beacon.type, 'text/plain');
  assert.equal((await beacon.delivered).status, 200, (await beacon.delivered).text);
  assert.deepEqual(ndjsonRows(beacon.body).map((r) => r.entityId), [0, 1, 2]);
  assert.equal(await countRows(server), 3);
  assert.equal(requests.length, 0, 'no fetch');

  // Hidden again with nothing pending: no empty beacon.
  window.dispatchEvent(new Event('pagehide'));
  assert.equal(beacons.length, 1);
});

test('a beacon carries the key and the user token as URL arguments, fetch as headers', kTimeout, async () => {
  // Only the URL is checked here (the test server has no keys): the browser is told to refuse.
  accept = () => false;
  const requests = [];
  const seen = [];
  const original = navigator.sendBeacon;
  navigator.sendBeacon = (url, data) => {
    seen.push({ url, size: data.size });
    return original(url, data);
  };
  try {
    tracker = new Tracker({
      endpoint: `${server.url}/`,
      key: 'k&1',
      userToken: 'a.b.c',
      lingerMs: 600_000,
      onError: () => {},
      fetch: recordingFetch(requests),
    });
    await tracker.entityMetric(metric(1));
    window.dispatchEvent(new Event('pagehide'));
    assert.equal(seen.length, 1);
    assert.equal(seen[0].url, `${server.url}/track/entityMetricEvents?key=k%261&token=a.b.c`);
    // Refused by the browser: sent with fetch (keepalive) and its headers instead.
    await waitFor(() => requests.length === 1, { what: 'the fetch fallback' });
    assert.equal(requests[0].headers['authorization'], 'Bearer k&1');
    assert.equal(requests[0].headers['x-trackhouse-token'], 'a.b.c');
    assert.equal(requests[0].keepalive, true);
    // Whether this keyless server takes a key and an unsigned token or refuses them, the event
    // is stored or reported, not lost.
    const outcome = await tracker.flush().then(
      () => 'stored',
      (error) => error.errors.map((e) => `${e.status}:${e.rows.length}`).join(),
    );
    if (outcome === 'stored') assert.equal(await countRows(server), 1);
    else assert.match(outcome, /^4\d\d:1$/);
  } finally {
    navigator.sendBeacon = original;
  }
});

test('a beacon the browser refuses leaves its events to fetch; nothing is lost', kTimeout, async () => {
  const requests = [];
  tracker = new Tracker({ endpoint: server.url, batchSize: 5000, lingerMs: 600_000, fetch: recordingFetch(requests) });
  // 3,000 events of about 100 bytes: more than one beacon's 60 KiB. The browser takes the
  // first beacon and refuses the next.
  for (let i = 0; i < 3000; i++) await tracker.entityMetric(metric(i));
  let offered = 0;
  accept = () => ++offered === 1;
  document.hide();
  assert.equal(beacons.length, 1);
  const first = await beacons[0].delivered;
  assert.equal(first.status, 200, first.text);
  const beaconed = ndjsonRows(beacons[0].body).length;
  assert.ok(beaconed > 100 && beaconed < 3000, `${beaconed} events in the first beacon`);
  assert.ok(new TextEncoder().encode(beacons[0].body).length <= 60 * 1024);

  await tracker.flush();
  assert.ok(requests.length >= 1);
  const fetched = requests.reduce((n, r) => n + ndjsonRows(r.body).length, 0);
  assert.equal(beaconed + fetched, 3000);
  assert.equal(await countRows(server), 3000);
  const [{ distinct }] = await selectRows(server, 'SELECT uniqExact(entityId) AS distinct FROM entityMetricEvents');
  assert.equal(Number(distinct), 3000);
});
