// The official @clickhouse/client, unchanged, against a real `trackhouse serve`: ping, DDL through
// command(), JSONEachRow inserts from arrays and streams, JSON / JSONEachRow / CSV results,
// query_params with hostile strings, settings, gzip, and ClickHouse-shaped errors. Every test
// gets a fresh server (fixture.js).
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { describe, test } from 'node:test';

import { generateEvents, kCreateTable, toDateTime64Text } from './events.js';
import { assertClickHouseError, kTestTimeoutMs, useFreshServer } from './fixture.js';

const kOpts = { timeout: kTestTimeoutMs };
const kTable = 'entityMetricEvents';

// Strings that break naive quoting or URL handling. The client sends them as param_<name> URL
// arguments in ClickHouse's escaped text form; the server must bind them as typed values.
const kHostileStrings = [
  "it's",
  'say "hi"',
  'back\\slash',
  'ends with a backslash\\',
  "\\'",
  'line1\nline2',
  'tab\there',
  'carriage\rreturn',
  '{braces}',
  '{s:String}',
  "x' OR '1'='1",
  "'); DROP TABLE entityMetricEvents; --",
  'unicode: ünïcødé 日本語 🚀 \u2028',
  '\\N',
  '',
  ' leading and trailing spaces ',
  'a,b;c',
  '%20&param_s=1#frag',
];

function row(overrides) {
  return {
    entityType: 'Model',
    entityId: 1,
    userId: 1,
    metricType: 'View',
    metricValue: 1,
    createdAt: '2026-01-02 03:04:05.678',
    ...overrides,
  };
}

// ORDER BY entityType, entityId, createdAt, userId, metricType, metricValue (all ASCII here).
function compareRows(a, b) {
  for (const k of ['entityType', 'entityId', 'createdAt', 'userId', 'metricType', 'metricValue']) {
    if (a[k] < b[k]) return -1;
    if (a[k] > b[k]) return 1;
  }
  return 0;
}

// ClickHouse orders strings by their bytes.
function compareUtf8(a, b) {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

async function countRows(client) {
  const rs = await client.query({ query: `SELECT count() AS c FROM ${kTable}`, format: 'JSONEachRow' });
  const rows = await rs.json();
  return Number(rows[0].c);
}

describe('@clickhouse/client against trackhouse serve', () => {
  const ctx = useFreshServer();

  test('ping answers success', kOpts, async () => {
    assert.deepEqual(await ctx.client.ping(), { success: true });
  });

  test('ping with select runs SELECT 1 through the query path', kOpts, async () => {
    const result = await ctx.client.ping({ select: true });
    assert.equal(result.success, true, String(result.error?.stack ?? result.error));
  });

  test('command runs DDL; a second CREATE fails with TABLE_ALREADY_EXISTS', kOpts, async () => {
    const created = await ctx.client.command({ query: kCreateTable });
    assert.equal(typeof created.query_id, 'string');
    await assertClickHouseError(ctx.client.command({ query: kCreateTable }), {
      code: '57',
      type: 'TABLE_ALREADY_EXISTS',
      messageIncludes: [kTable],
    });
    await ctx.client.command({ query: kCreateTable.replace('CREATE TABLE', 'CREATE TABLE IF NOT EXISTS') });
    const inserted = await ctx.client.insert({ table: kTable, values: [row({})], format: 'JSONEachRow' });
    assert.equal(inserted.executed, true);
    await ctx.client.command({ query: `DROP TABLE ${kTable}` });
    await assertClickHouseError(
      ctx.client.insert({ table: kTable, values: [row({})], format: 'JSONEachRow' }),
      { code: '60', type: 'UNKNOWN_TABLE', messageIncludes: [kTable] },
    );
    await ctx.client.command({ query: `DROP TABLE IF EXISTS ${kTable}` });
  });

  test('DDL is visible to SHOW TABLES, EXISTS and DESCRIBE', kOpts, async () => {
    await ctx.client.command({ query: kCreateTable });
    const tables = await (await ctx.client.query({ query: 'SHOW TABLES', format: 'JSONEachRow' })).json();
    assert.deepEqual(tables, [{ name: kTable }]);
    const exists = await (
      await ctx.client.query({ query: `EXISTS TABLE ${kTable}`, format: 'JSONEachRow' })
    ).json();
    assert.deepEqual(exists, [{ result: 1 }]);
    const described = await (
      await ctx.client.query({ query: `DESCRIBE TABLE ${kTable}`, format: 'JSONEachRow' })
    ).json();
    assert.deepEqual(
      described.map((c) => [c.name, c.type]),
      [
        ['entityType', 'LowCardinality(String)'],
        ['entityId', 'Int32'],
        ['userId', 'Int32'],
        ['metricType', 'LowCardinality(String)'],
        ['metricValue', 'Int32'],
        ['createdAt', "DateTime64(3)"],
      ],
    );
    await ctx.client.command({ query: `DROP TABLE ${kTable}` });
    const gone = await (
      await ctx.client.query({ query: `EXISTS TABLE ${kTable}`, format: 'JSONEachRow' })
    ).json();
    assert.deepEqual(gone, [{ result: 0 }]);
  });

  test('insert JSONEachRow from an array of objects; rows read back unchanged', kOpts, async () => {
    await ctx.client.command({ query: kCreateTable });
    const rows = generateEvents(Date.now()).slice(0, 2000);
    const result = await ctx.client.insert({ table: kTable, values: rows, format: 'JSONEachRow' });
    assert.equal(result.executed, true);
    assert.equal(result.summary?.written_rows, String(rows.length), 'X-ClickHouse-Summary');
    const rs = await ctx.client.query({
      query: `SELECT entityType, entityId, userId, metricType, metricValue, createdAt FROM ${kTable}
              ORDER BY entityType, entityId, createdAt, userId, metricType, metricValue`,
      format: 'JSONEachRow',
    });
    assert.deepEqual(await rs.json(), [...rows].sort(compareRows));
  });

  test('insert JSONEachRow with a column list and defaults for the rest', kOpts, async () => {
    await ctx.client.command({ query: kCreateTable });
    await ctx.client.insert({
      table: kTable,
      values: [{ entityId: 7, metricType: 'Share' }],
      columns: ['entityId', 'metricType'],
      format: 'JSONEachRow',
    });
    const rs = await ctx.client.query({ query: `SELECT * FROM ${kTable}`, format: 'JSONEachRow' });
    assert.deepEqual(await rs.json(), [
      {
        entityType: '',
        entityId: 7,
        userId: 0,
        metricType: 'Share',
        metricValue: 0,
        createdAt: '1970-01-01 00:00:00.000',
      },
    ]);
  });

  test('insert JSONEachRow from object streams', kOpts, async () => {
    await ctx.client.command({ query: kCreateTable });
    const rows = generateEvents(Date.now(), 7);
    // Readable.from an array: every row available at once.
    const first = rows.slice(0, 5000);
    const r1 = await ctx.client.insert({
      table: kTable,
      values: Readable.from(first),
      format: 'JSONEachRow',
    });
    assert.equal(r1.summary?.written_rows, String(first.length));
    // An async generator that pauses: the request body arrives in many chunks.
    const second = rows.slice(5000);
    async function* trickle() {
      for (let i = 0; i < second.length; i++) {
        if (i % 997 === 0) await yieldToLoop();
        yield second[i];
      }
    }
    const r2 = await ctx.client.insert({
      table: kTable,
      values: Readable.from(trickle()),
      format: 'JSONEachRow',
    });
    assert.equal(r2.summary?.written_rows, String(second.length));
    // An empty stream inserts nothing and succeeds.
    await ctx.client.insert({ table: kTable, values: Readable.from([]), format: 'JSONEachRow' });

    const rs = await ctx.client.query({
      query: `SELECT entityType, metricType, count() AS c, sum(metricValue) AS v FROM ${kTable}
              GROUP BY entityType, metricType ORDER BY entityType, metricType`,
      format: 'JSONEachRow',
    });
    const expected = new Map();
    for (const r of rows) {
      const key = `${r.entityType}\t${r.metricType}`;
      const e = expected.get(key) ?? { entityType: r.entityType, metricType: r.metricType, c: 0, v: 0 };
      e.c++;
      e.v += r.metricValue;
      expected.set(key, e);
    }
    const want = [...expected.values()]
      .sort((a, b) => compareUtf8(a.entityType + '\0' + a.metricType, b.entityType + '\0' + b.metricType))
      .map((e) => ({ ...e, c: String(e.c), v: String(e.v) }));
    assert.deepEqual(await rs.json(), want);
  });

  test('query with FORMAT JSON: meta, data, rows and 64-bit integers quoted', kOpts, async () => {
    await ctx.client.command({ query: kCreateTable });
    const rows = generateEvents(Date.now(), 11);
    await ctx.client.insert({ table: kTable, values: rows, format: 'JSONEachRow' });
    const rs = await ctx.client.query({
      query: `SELECT entityType, entityId, count() AS c, sum(metricValue) AS total, max(createdAt) AS last
              FROM ${kTable} WHERE entityType != 'Image' GROUP BY entityType, entityId
              ORDER BY entityType, entityId`,
      format: 'JSON',
    });
    assert.equal(rs.response_headers['x-clickhouse-format'], 'JSON');
    const body = await rs.json();
    assert.deepEqual(body.meta, [
      { name: 'entityType', type: 'LowCardinality(String)' },
      { name: 'entityId', type: 'Int32' },
      { name: 'c', type: 'UInt64' },
      { name: 'total', type: 'Int64' },
      { name: 'last', type: 'DateTime64(3)' },
    ]);
    const groups = new Map();
    for (const r of rows) {
      if (r.entityType === 'Image') continue;
      const key = `${r.entityType}/${String(r.entityId).padStart(6, '0')}`;
      const g = groups.get(key) ?? { entityType: r.entityType, entityId: r.entityId, c: 0, total: 0, last: '' };
      g.c++;
      g.total += r.metricValue;
      if (r.createdAt > g.last) g.last = r.createdAt;
      groups.set(key, g);
    }
    const want = [...groups.keys()]
      .sort()
      .map((k) => groups.get(k))
      .map((g) => ({ ...g, c: String(g.c), total: String(g.total) }));
    assert.deepEqual(body.data, want);
    assert.equal(body.rows, want.length);
    assert.equal(typeof body.statistics?.elapsed, 'number');
  });

  test('query with FORMAT JSONEachRow: json() and stream() agree', kOpts, async () => {
    await ctx.client.command({ query: kCreateTable });
    const rows = generateEvents(Date.now(), 13);
    await ctx.client.insert({ table: kTable, values: rows, format: 'JSONEachRow' });
    const query = `SELECT entityId, userId, metricValue FROM ${kTable}
                   WHERE entityType = 'Image' ORDER BY entityId, userId, metricValue`;
    const want = rows
      .filter((r) => r.entityType === 'Image')
      .map(({ entityId, userId, metricValue }) => ({ entityId, userId, metricValue }))
      .sort((a, b) => a.entityId - b.entityId || a.userId - b.userId || a.metricValue - b.metricValue);

    const all = await (await ctx.client.query({ query, format: 'JSONEachRow' })).json();
    assert.deepEqual(all, want);

    const streamed = [];
    const rs = await ctx.client.query({ query, format: 'JSONEachRow' });
    for await (const batch of rs.stream()) {
      for (const r of batch) streamed.push(r.json());
    }
    assert.deepEqual(streamed, want);
  });

  test('query with FORMAT CSV returns ClickHouse CSV text', kOpts, async () => {
    await ctx.client.command({ query: kCreateTable });
    const values = kHostileStrings.map((s, i) => row({ metricType: s, entityId: i, metricValue: i * 3 }));
    await ctx.client.insert({ table: kTable, values, format: 'JSONEachRow' });
    const rs = await ctx.client.query({
      query: `SELECT metricType, entityId, metricValue * 2 AS doubled FROM ${kTable} ORDER BY metricType`,
      format: 'CSV',
    });
    const csvString = (s) => `"${s.replaceAll('"', '""')}"`;
    const want = [...values]
      .sort((a, b) => compareUtf8(a.metricType, b.metricType))
      .map((r) => `${csvString(r.metricType)},${r.entityId},${r.metricValue * 2}\n`)
      .join('');
    assert.equal(await rs.text(), want);

    const withNames = await ctx.client.query({
      query: `SELECT entityId, metricType FROM ${kTable} WHERE entityId < 2 ORDER BY entityId`,
      format: 'CSVWithNames',
    });
    assert.equal(
      await withNames.text(),
      `"entityId","metricType"\n0,${csvString(kHostileStrings[0])}\n1,${csvString(kHostileStrings[1])}\n`,
    );
  });

  test('query_params: hostile strings round-trip through SELECT {s:String}', kOpts, async () => {
    for (const s of kHostileStrings) {
      const rs = await ctx.client.query({
        query: 'SELECT {s:String} AS s',
        query_params: { s },
        format: 'JSONEachRow',
      });
      assert.deepEqual(await rs.json(), [{ s }], `round trip of ${JSON.stringify(s)}`);
    }
    // All of them at once, each bound to its own parameter.
    const names = kHostileStrings.map((_, i) => `p${i}`);
    const rs = await ctx.client.query({
      query: `SELECT ${names.map((n) => `{${n}:String} AS ${n}`).join(', ')}`,
      query_params: Object.fromEntries(names.map((n, i) => [n, kHostileStrings[i]])),
      format: 'JSONEachRow',
    });
    assert.deepEqual(await rs.json(), [Object.fromEntries(names.map((n, i) => [n, kHostileStrings[i]]))]);
  });

  test('query_params: typed values of several types', kOpts, async () => {
    const rs = await ctx.client.query({
      query: `SELECT {u:UInt32} AS u, {i:Int32} AS i, {big:Int64} AS big, {f:Float64} AS f,
                     {d:Date} AS d, {t:DateTime64(3)} AS t, {u:UInt32} + 1 AS u1`,
      query_params: {
        u: 4000000000,
        i: -42,
        big: -9007199254740993n,
        f: 0.25,
        d: '2026-02-28',
        t: '2026-02-28 23:59:59.999',
      },
      format: 'JSONEachRow',
    });
    assert.deepEqual(await rs.json(), [
      {
        u: 4000000000,
        i: -42,
        big: '-9007199254740993',
        f: 0.25,
        d: '2026-02-28',
        t: '2026-02-28 23:59:59.999',
        u1: '4000000001',
      },
    ]);
  });

  test('query_params: hostile strings as filter values match exactly their rows', kOpts, async () => {
    await ctx.client.command({ query: kCreateTable });
    // String i is inserted i + 1 times, as metricType of a Model and as entityType of nothing.
    const values = [];
    kHostileStrings.forEach((s, i) => {
      for (let k = 0; k <= i; k++) values.push(row({ metricType: s, entityId: 1000 + i, userId: k }));
    });
    values.push(row({ metricType: 'View', entityId: 5 }));
    await ctx.client.insert({ table: kTable, values, format: 'JSONEachRow' });
    for (const [i, s] of kHostileStrings.entries()) {
      const rs = await ctx.client.query({
        query: `SELECT count() AS c, min(entityId) AS id FROM ${kTable}
                WHERE entityType = {type:String} AND metricType = {m:String}`,
        query_params: { type: 'Model', m: s },
        format: 'JSONEachRow',
      });
      assert.deepEqual(await rs.json(), [{ c: String(i + 1), id: 1000 + i }], `filter ${JSON.stringify(s)}`);
    }
    const none = await ctx.client.query({
      query: `SELECT count() AS c FROM ${kTable} WHERE metricType = {m:String}`,
      query_params: { m: 'never inserted' },
      format: 'JSONEachRow',
    });
    assert.deepEqual(await none.json(), [{ c: '0' }]);
    assert.equal(await countRows(ctx.client), values.length, 'the table is intact');
  });

  test('settings travel as URL arguments: output_format_json_quote_64bit_integers=0', kOpts, async () => {
    const rs = await ctx.client.query({
      query: 'SELECT toUInt64(12345678901) AS big, toInt64(-5) AS neg',
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    assert.deepEqual(await rs.json(), [{ big: 12345678901, neg: -5 }]);
  });

  test('gzip request and response bodies', kOpts, async () => {
    const gz = ctx.newClient({ compression: { request: true, response: true } });
    await gz.command({ query: kCreateTable });
    const rows = generateEvents(Date.now(), 17).slice(0, 3000);
    const result = await gz.insert({ table: kTable, values: rows, format: 'JSONEachRow' });
    assert.equal(result.summary?.written_rows, String(rows.length));
    const rs = await gz.query({
      query: `SELECT entityType, entityId, userId, metricType, metricValue, createdAt FROM ${kTable}
              ORDER BY entityType, entityId, createdAt, userId, metricType, metricValue`,
      format: 'JSONEachRow',
    });
    assert.equal(rs.response_headers['content-encoding'], 'gzip');
    assert.deepEqual(await rs.json(), [...rows].sort(compareRows));
  });

  test('errors arrive as ClickHouseError with ClickHouse code and name', kOpts, async () => {
    await assertClickHouseError(ctx.client.query({ query: 'SELECT count() FROM no_such_table' }), {
      code: '60',
      type: 'UNKNOWN_TABLE',
      messageIncludes: ['no_such_table'],
    });
    await assertClickHouseError(ctx.client.query({ query: 'SELEC 1' }), {
      code: '62',
      type: 'SYNTAX_ERROR',
    });
    await assertClickHouseError(ctx.client.query({ query: 'SELECT noSuchFunction(1)' }), {
      code: '46',
      type: 'UNKNOWN_FUNCTION',
      messageIncludes: ['noSuchFunction'],
    });
    await assertClickHouseError(ctx.client.query({ query: 'SELECT {x:UInt32} AS x' }), {
      code: '456',
      type: 'UNKNOWN_QUERY_PARAMETER',
      messageIncludes: ['x'],
    });
    await assertClickHouseError(ctx.client.command({ query: 'DROP TABLE no_such_table' }), {
      code: '60',
      type: 'UNKNOWN_TABLE',
      messageIncludes: ['no_such_table'],
    });
    // A malformed row fails the insert with a parse error and writes nothing.
    await ctx.client.command({ query: kCreateTable });
    await assert.rejects(
      ctx.client.insert({
        table: kTable,
        values: [row({}), { ...row({}), entityId: 'not a number' }],
        format: 'JSONEachRow',
      }),
      (err) => {
        assert.match(err.code, /^\d+$/, err.message);
        assert.match(err.type, /^[A-Z_]+$/, err.message);
        return true;
      },
    );
    assert.equal(await countRows(ctx.client), 0);
    // The server is still up and serving.
    assert.deepEqual(await ctx.client.ping(), { success: true });
  });

  test('DateTime64(3) text round-trips at millisecond precision', kOpts, async () => {
    await ctx.client.command({ query: kCreateTable });
    const stamps = [0, 1, 999, 1_700_000_000_123, Date.UTC(2026, 1, 28, 23, 59, 59, 999)];
    const values = stamps.map((ms, i) => row({ entityId: i, createdAt: toDateTime64Text(ms) }));
    await ctx.client.insert({ table: kTable, values, format: 'JSONEachRow' });
    const rs = await ctx.client.query({
      query: `SELECT entityId, createdAt, toDate(createdAt) AS day FROM ${kTable} ORDER BY entityId`,
      format: 'JSONEachRow',
    });
    assert.deepEqual(
      await rs.json(),
      values.map((v) => ({ entityId: v.entityId, createdAt: v.createdAt, day: v.createdAt.slice(0, 10) })),
    );
  });
});
