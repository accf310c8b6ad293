// Deterministic entityMetricEvents rows (the schema of shared/metrics-guide.md) and the answers
// the guide's two example queries must give on them, computed here from the rows themselves.
//
// The counts are chosen so that the guide's "top entities" query has one right answer: Model
// entities 1..130 have 1..130 distinct View counts inside the last 7 days (so ORDER BY views DESC
// LIMIT 100 has no ties at the cut), and the other rows are traps a wrong implementation would
// count: Views older than 7 days, Views of other entity types with the same ids (and larger
// counts), Models seen only through Downloads or only long ago. Model 141 has Shares on each of
// the last 90 days, for the daily series.

export const kCreateTable = `CREATE TABLE entityMetricEvents (
  entityType LowCardinality(String),
  entityId   Int32,
  userId     Int32,
  metricType LowCardinality(String),
  metricValue Int32,
  createdAt  DateTime64(3)
) ENGINE = MergeTree()
ORDER BY (entityType, entityId, createdAt);`;

// The Model with Shares on each of the last 90 days.
export const kLongHistoryModel = 141;

const kHourMs = 3600 * 1000;
const kDayMs = 24 * kHourMs;

// mulberry32: a small seeded PRNG, so every run generates the same rows relative to `now`.
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// `2026-11-24 21:58:03.123`: DateTime64(3) text, UTC wall clock (the server runs with TZ=UTC).
export function toDateTime64Text(ms) {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

// `2026-11-24`: the Date of a millisecond timestamp, UTC.
export function toDateText(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

// Generates the rows relative to `nowMs`. In-window events are between 1 hour and 6 days 20 hours
// old and old ones between 7 days 6 hours and 60 days old, so the `now() - INTERVAL 7 DAY` cut
// is hours away from every row however long the test takes.
export function generateEvents(nowMs, seed = 20261124) {
  const random = seededRandom(seed);
  const between = (lo, hi) => lo + Math.floor(random() * (hi - lo));
  const rows = [];
  const add = (entityType, entityId, metricType, count, recent) => {
    for (let i = 0; i < count; i++) {
      const age = recent
        ? between(kHourMs, 6 * kDayMs + 20 * kHourMs)
        : between(7 * kDayMs + 6 * kHourMs, 60 * kDayMs);
      rows.push({
        entityType,
        entityId,
        userId: between(1, 5000),
        metricType,
        metricValue: between(1, 4),
        createdAt: toDateTime64Text(nowMs - age),
      });
    }
  };
  for (let id = 1; id <= 130; id++) {
    add('Model', id, 'View', 1 + ((id * 37) % 130), true); // 1..130, each once
    add('Model', id, 'Download', (id * 11) % 9, true);
    add('Model', id, 'Like', id % 4, true);
    add('Model', id, 'View', id % 5, false);
    add('Model', id, 'Download', id % 3, false);
  }
  for (let id = 131; id <= 135; id++) add('Model', id, 'Download', 1 + (id % 3), true);
  for (let id = 136; id <= 140; id++) add('Model', id, 'View', 3, false);
  for (let day = 0; day < 90; day++) {
    for (let i = 0; i <= (day * 7) % 5; i++) {
      const age = day * kDayMs + between(kHourMs, 23 * kHourMs);
      rows.push({
        entityType: 'Model',
        entityId: kLongHistoryModel,
        userId: between(1, 5000),
        metricType: 'Share',
        metricValue: 1,
        createdAt: toDateTime64Text(nowMs - age),
      });
    }
  }
  for (let id = 1; id <= 60; id++) add('Image', id, 'View', 200 + id, true);
  for (let id = 1; id <= 20; id++) add('Post', id, 'Like', 1 + (id % 6), true);
  // Shuffle so that neither insertion order nor batch boundaries follow the sort key.
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  return rows;
}

// The answer of the guide's first query, as the client's JSON format returns it (countIf is
// UInt64, quoted in JSON by default).
export function expectedTopModels(rows, nowMs) {
  const cutoff = nowMs - 7 * kDayMs;
  const byEntity = new Map();
  for (const r of rows) {
    if (r.entityType !== 'Model') continue;
    if (Date.parse(r.createdAt.replace(' ', 'T') + 'Z') <= cutoff) continue;
    const e = byEntity.get(r.entityId) ?? { entityId: r.entityId, views: 0, downloads: 0 };
    if (r.metricType === 'View') e.views++;
    if (r.metricType === 'Download') e.downloads++;
    byEntity.set(r.entityId, e);
  }
  const sorted = [...byEntity.values()].sort((a, b) => b.views - a.views);
  if (sorted.length > 100 && sorted[99].views === sorted[100].views) {
    throw new Error('generated data has a tie at the LIMIT 100 cut');
  }
  return sorted.slice(0, 100).map((e) => ({
    entityId: e.entityId,
    views: String(e.views),
    downloads: String(e.downloads),
  }));
}

// The answer of the guide's second query for one Model: events per UTC day, by day.
export function expectedDailySeries(rows, modelId) {
  const byDay = new Map();
  for (const r of rows) {
    if (r.entityType !== 'Model' || r.entityId !== modelId) continue;
    const day = r.createdAt.slice(0, 10);
    byDay.set(day, (byDay.get(day) ?? 0) + 1);
  }
  return [...byDay.keys()].sort().map((date) => ({ date, events: String(byDay.get(date)) }));
}
