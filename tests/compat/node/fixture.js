// Per-test fixture: a fresh `trackhouse serve` (own data directory and port) and an unchanged
// @clickhouse/client pointed at it. Registers beforeEach/afterEach hooks in the calling test
// file; afterEach also checks that the server stops cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { afterEach, beforeEach } from 'node:test';
import { ClickHouseError, ClickHouseLogLevel, createClient } from '@clickhouse/client';

import { TrackhouseServer } from './server.js';

export const kTestTimeoutMs = 120_000;
const kHookTimeoutMs = 40_000;
const kRequestTimeoutMs = 30_000;

// Returns an object whose `server` and `client` are replaced before every test.
export function useFreshServer() {
  const ctx = { server: null, client: null, clients: [] };
  beforeEach(async () => {
    ctx.server = await new TrackhouseServer().start();
    ctx.client = ctx.newClient({});
  }, { timeout: kHookTimeoutMs });
  afterEach(async () => {
    for (const c of ctx.clients) await c.close();
    ctx.clients = [];
    const status = await ctx.server?.stop();
    ctx.server = null;
    ctx.client = null;
    assert.deepEqual(status, { code: 0, signal: null }, 'trackhouse serve exits 0 on SIGTERM');
  }, { timeout: kHookTimeoutMs });
  // A client of the current server with `config` on top of the defaults; closed after the test.
  // Its own logging is off: the tests assert on the errors it throws instead.
  ctx.newClient = (config) => {
    const c = createClient({
      url: ctx.server.url,
      request_timeout: kRequestTimeoutMs,
      log: { level: ClickHouseLogLevel.OFF },
      ...config,
    });
    ctx.clients.push(c);
    return c;
  };
  return ctx;
}

// Asserts that `promise` rejects with the ClickHouseError the client builds from a
// `Code: N. DB::Exception: ... (NAME)` answer.
export async function assertClickHouseError(promise, { code, type, messageIncludes = [] }) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ClickHouseError, `expected a ClickHouseError, got ${err?.stack ?? err}`);
    assert.equal(err.code, code, `error code of: ${err.message}`);
    assert.equal(err.type, type, `error name of: ${err.message}`);
    for (const part of messageIncludes) {
      assert.ok(err.message.includes(part), `${JSON.stringify(err.message)} mentions ${part}`);
    }
    return true;
  });
}
