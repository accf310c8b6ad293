// Test harness of @trackhouse/tracker: a real `trackhouse serve` per test (temporary data
// directory, loopback port, TZ=UTC), SQL over its HTTP interface, a fetch that records what the
// tracker sent (and still sends it to the server), and bounded polling.
//
// The binary is TRACKHOUSE_BINARY (set by ctest, clients/CMakeLists.txt), else build/trackhouse
// of this checkout.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const kEntityMetricDdl = `CREATE TABLE entityMetricEvents (
  entityType LowCardinality(String), entityId Int32, userId Int32,
  metricType LowCardinality(String), metricValue Int32, createdAt DateTime64(3)
) ENGINE = MergeTree() ORDER BY (entityType, entityId, createdAt)`;

const kBootMs = 20_000;
const kShutdownMs = 10_000;

const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function binaryPath() {
  return process.env.TRACKHOUSE_BINARY || new URL('../../../build/trackhouse', import.meta.url).pathname;
}

/** A fresh temporary data directory; removeDir() deletes it. */
export function makeDataDir() {
  return mkdtempSync(join(tmpdir(), 'trackhouse-js-tracker-'));
}

/** Removes a data directory and the configuration file serve() wrote beside it. */
export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  rmSync(`${dir}.toml`, { force: true });
}

/**
 * Starts `trackhouse serve` on `dataDir` and 127.0.0.1:`port` (0: the server picks one), with
 * `config` (TOML text, written to `<dataDir>.toml`) when given, and resolves when GET /ping
 * answers. `adminKey`: the key of the configuration's key named "admin", which /ping and sql() present. Returns { url, port, sql, stop, output }.
 */
export async function serve({ dataDir, port = 0, config = undefined, adminKey = undefined }) {
  // With keys configured, /ping and SQL present an admin key the way ClickHouse clients do.
  const headers = adminKey === undefined ? {} : { 'X-ClickHouse-User': 'admin', 'X-ClickHouse-Key': adminKey };
  const args = ['serve', '--data', dataDir, '--listen', `127.0.0.1:${port}`];
  if (config !== undefined) {
    writeFileSync(`${dataDir}.toml`, config);
    args.push('--config', `${dataDir}.toml`);
  }
  const child = spawn(binaryPath(), args, {
    env: { ...process.env, TZ: 'UTC' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let log = '';
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
    child.on('error', (error) => {
      running.delete(child);
      resolve({ code: null, signal: null, error: String(error) });
    });
  });
  const listening = new Promise((resolve) => {
    const read = (chunk) => {
      log += chunk;
      const found = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (found) resolve(Number(found[1]));
    };
    child.stdout.setEncoding('utf8').on('data', read);
    child.stderr.setEncoding('utf8').on('data', read);
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), kShutdownMs);
    const status = await exited;
    clearTimeout(timer);
    return status;
  };
  const boot = await Promise.race([
    listening.then((p) => ({ port: p })),
    exited.then((status) => ({ status })),
    new Promise((resolve) => setTimeout(resolve, kBootMs, { timedOut: true }).unref()),
  ]);
  if (boot.port === undefined) {
    await stop();
    throw new Error(`trackhouse serve did not start (${JSON.stringify(boot)}):\n${log}`);
  }
  const url = `http://127.0.0.1:${boot.port}`;
  await waitFor(async () => {
    const answer = await fetch(`${url}/ping`, { headers }).catch(() => undefined);
    return answer?.ok && (await answer.text()).trim() === 'Ok.';
  }, { what: `GET ${url}/ping`, timeoutMs: kBootMs });

  // Runs one statement through POST /; resolves to the answer's text, throws on non-200.
  const sql = async (statement) => {
    const answer = await fetch(`${url}/`, { method: 'POST', headers, body: statement });
    const text = await answer.text();
    if (answer.status !== 200) throw new Error(`${statement}\n-> HTTP ${answer.status}: ${text}`);
    return text;
  };
  return { url, port: boot.port, sql, stop, output: () => log };
}

/** The rows of a SELECT, read as JSONEachRow. */
export async function selectRows(server, select) {
  const text = await server.sql(`${select} FORMAT JSONEachRow`);
  return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line));
}

/** count() of `table`, as a number. */
export async function countRows(server, table = 'entityMetricEvents') {
  const [row] = await selectRows(server, `SELECT count() AS n FROM ${table}`);
  return Number(row.n);
}

/**
 * Polls `condition` (sync or async) every `intervalMs` until it is truthy; throws after
 * `timeoutMs` naming `what`.
 */
export async function waitFor(condition, { what = 'condition', timeoutMs = 15_000, intervalMs = 20 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let last;
    try {
      if (await condition()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * A fetch for the tracker that sends every request to the real server and records it in
 * `requests` ({ at, url, headers, body, keepalive, status, answeredAt, retryAfter | error }). `intercept(record, send)`, when given,
 * decides the answer instead (e.g. send, then throw as if the answer was lost).
 */
export function recordingFetch(requests, intercept) {
  return async (url, init = {}) => {
    const record = {
      at: Date.now(),
      url: String(url),
      headers: Object.fromEntries(new Headers(init.headers).entries()),
      body: typeof init.body === 'string' ? init.body : undefined,
      keepalive: init.keepalive === true,
    };
    requests.push(record);
    const send = async () => {
      try {
        const answer = await fetch(url, init);
        record.status = answer.status;
        record.answeredAt = Date.now();
        record.retryAfter = answer.headers.get('retry-after');
        return answer;
      } catch (error) {
        record.error = error;
        throw error;
      }
    };
    return intercept ? intercept(record, send) : send();
  };
}

/** Lines of an NDJSON body, parsed. */
export function ndjsonRows(body) {
  return body.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line));
}

/** Epoch ms of a DateTime64(3) value as the server prints it in UTC ("YYYY-MM-DD hh:mm:ss.sss"). */
export function utcMillis(text) {
  return Date.parse(`${text.replace(' ', 'T')}Z`);
}
