// The two example queries of shared/metrics-guide.md, character for character, through the
// official @clickhouse/client against a real `trackhouse serve`, on generated entityMetricEvents
// rows whose right answers events.js computes independently.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import {
  expectedDailySeries,
  expectedTopModels,
  generateEvents,
  kCreateTable,
  kLongHistoryModel,
} from './events.js';
import { assertClickHouseError, kTestTimeoutMs, useFreshServer } from './fixture.js';

const kOpts = { timeout: kTestTimeoutMs };

// Verbatim from the guide's "Aggregations" example.
const kTopEntitiesQuery = `
    SELECT
      entityId,
      countIf(metricType = 'View') as views,
      countIf(metricType = 'Download') as downloads
    FROM entityMetricEvents
    WHERE entityType = 'Model'
      AND createdAt > now() - INTERVAL 7 DAY
    GROUP BY entityId
    ORDER BY views DESC
    LIMIT 100
  `;

// Verbatim from the guide's "Time Series" example.
const kDailySeriesQuery = `
    SELECT
      toDate(createdAt) as date,
      count() as events
    FROM entityMetricEvents
    WHERE entityType = 'Model' AND entityId = {modelId:UInt32}
    GROUP BY date
    ORDER BY date
  `;

// The guide lives in shared/ beside the repository (absent when the repository is used alone).
const kGuidePath = new URL('../../../../shared/metrics-guide.md', import.meta.url).pathname;

async function loadEvents(client, nowMs) {
  await client.command({ query: kCreateTable });
  const rows = generateEvents(nowMs);
  // Three batches, as an application flushing its buffer would send them.
  const third = Math.ceil(rows.length / 3);
  for (let i = 0; i < rows.length; i += third) {
    const batch = rows.slice(i, i + third);
    const r = await client.insert({ table: 'entityMetricEvents', values: batch, format: 'JSONEachRow' });
    assert.equal(r.summary?.written_rows, String(batch.length));
  }
  return rows;
}

// Needs no server, so it stands outside the fixture's describe.
test(
  "the queries here are the guide's text, character for character",
  { ...kOpts, skip: existsSync(kGuidePath) ? false : `${kGuidePath} is not there` },
  () => {
    const guide = readFileSync(kGuidePath, 'utf8');
    assert.ok(guide.includes(`query: \`${kTopEntitiesQuery}\`,`), 'top entities query');
    assert.ok(guide.includes(`query: \`${kDailySeriesQuery}\`,`), 'daily series query');
    assert.ok(guide.includes(kCreateTable), 'table schema');
  },
);

describe("the metrics guide's example queries", () => {
  const ctx = useFreshServer();

  test('top Models by countIf over the last 7 days', kOpts, async () => {
    const nowMs = Date.now();
    const rows = await loadEvents(ctx.client, nowMs);
    const result = await ctx.client.query({ query: kTopEntitiesQuery });
    const body = await result.json();
    assert.deepEqual(body.meta, [
      { name: 'entityId', type: 'Int32' },
      { name: 'views', type: 'UInt64' },
      { name: 'downloads', type: 'UInt64' },
    ]);
    const want = expectedTopModels(rows, nowMs);
    assert.equal(want.length, 100);
    assert.deepEqual(body.data, want);
    assert.equal(body.rows, 100);
  });

  test('daily series of one Model with {modelId:UInt32}', kOpts, async () => {
    const rows = await loadEvents(ctx.client, Date.now());
    // The Model with 90 days of history, the busiest one, one seen only more than 7 days ago,
    // and an id no Model has (Models go up to 141, Images up to 60: 150 is nobody's).
    const perModel = new Map();
    for (const r of rows) {
      if (r.entityType === 'Model') perModel.set(r.entityId, (perModel.get(r.entityId) ?? 0) + 1);
    }
    const busiest = [...perModel.entries()].sort((a, b) => b[1] - a[1])[0][0];
    for (const modelId of [kLongHistoryModel, busiest, 137, 150]) {
      const dailyStats = await ctx.client.query({
        query: kDailySeriesQuery,
        query_params: { modelId },
      });
      const body = await dailyStats.json();
      assert.deepEqual(body.meta, [
        { name: 'date', type: 'Date' },
        { name: 'events', type: 'UInt64' },
      ]);
      const want = expectedDailySeries(rows, modelId);
      if (modelId === kLongHistoryModel) assert.ok(want.length > 60, 'the series spans months');
      if (modelId === 150) assert.deepEqual(want, []);
      assert.deepEqual(body.data, want, `modelId ${modelId}`);
    }
  });

  test("the guide's `params:` spelling is not a client option: the parameter is unset", kOpts, async () => {
    await loadEvents(ctx.client, Date.now());
    await assertClickHouseError(
      ctx.client.query({ query: kDailySeriesQuery, params: { modelId: 1 } }),
      { code: '456', type: 'UNKNOWN_QUERY_PARAMETER', messageIncludes: ['modelId'] },
    );
  });
});
