-- The query benchmark's queries (bench/query/run.sh, docs/BENCHMARKS.md), sent with the same
-- text to trackhouse and to ClickHouse. Each starts at a line "-- Qn: title"; comment lines
-- before the first query are not part of it. `now()` is pinned to the end of the generated
-- data, 2026-11-01 00:00:00 UTC (bench/entity_data.h), so that every run and every system
-- computes the same windows and answers can be compared row for row.

-- Q1: top 100 Models by views in the last 7 days, with view and download countIf columns
SELECT
  entityId,
  countIf(metricType = 'View') AS views,
  countIf(metricType = 'Download') AS downloads
FROM entityMetricEvents
WHERE entityType = 'Model'
  AND createdAt > toDateTime('2026-11-01 00:00:00') - INTERVAL 7 DAY
GROUP BY entityId
ORDER BY views DESC, entityId
LIMIT 100

-- Q2: daily series of the most popular Model (entityId 1) over 90 days
SELECT
  toDate(createdAt) AS date,
  count() AS events
FROM entityMetricEvents
WHERE entityType = 'Model' AND entityId = 1
  AND createdAt > toDateTime('2026-11-01 00:00:00') - INTERVAL 90 DAY
GROUP BY date
ORDER BY date

-- Q3: daily series of a rarely seen Model (entityId 30000) over 90 days
SELECT
  toDate(createdAt) AS date,
  count() AS events
FROM entityMetricEvents
WHERE entityType = 'Model' AND entityId = 30000
  AND createdAt > toDateTime('2026-11-01 00:00:00') - INTERVAL 90 DAY
GROUP BY date
ORDER BY date

-- Q4: count per metricType over everything
SELECT
  metricType,
  count() AS events
FROM entityMetricEvents
GROUP BY metricType
ORDER BY metricType

-- Q5: exact distinct users per day over 30 days
SELECT
  toDate(createdAt) AS date,
  uniqExact(userId) AS users
FROM entityMetricEvents
WHERE createdAt > toDateTime('2026-11-01 00:00:00') - INTERVAL 30 DAY
GROUP BY date
ORDER BY date
