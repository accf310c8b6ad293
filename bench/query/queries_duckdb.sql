-- The query benchmark's queries in DuckDB's dialect (bench/query/duckdb/run.mjs): the same
-- questions, in the same order and with the same answers, as queries_clickhouse.sql (countIf
-- is count(*) FILTER, toDate is CAST(... AS DATE), uniqExact is count(DISTINCT ...)).
-- createdAt is a TIMESTAMP holding UTC; `now()` is pinned to 2026-11-01 00:00:00 as there.

-- Q1: top 100 Models by views in the last 7 days, with view and download countIf columns
SELECT
  entityId,
  count(*) FILTER (WHERE metricType = 'View') AS views,
  count(*) FILTER (WHERE metricType = 'Download') AS downloads
FROM entityMetricEvents
WHERE entityType = 'Model'
  AND createdAt > TIMESTAMP '2026-11-01 00:00:00' - INTERVAL 7 DAY
GROUP BY entityId
ORDER BY views DESC, entityId
LIMIT 100

-- Q2: daily series of the most popular Model (entityId 1) over 90 days
SELECT
  CAST(createdAt AS DATE) AS date,
  count(*) AS events
FROM entityMetricEvents
WHERE entityType = 'Model' AND entityId = 1
  AND createdAt > TIMESTAMP '2026-11-01 00:00:00' - INTERVAL 90 DAY
GROUP BY date
ORDER BY date

-- Q3: daily series of a rarely seen Model (entityId 30000) over 90 days
SELECT
  CAST(createdAt AS DATE) AS date,
  count(*) AS events
FROM entityMetricEvents
WHERE entityType = 'Model' AND entityId = 30000
  AND createdAt > TIMESTAMP '2026-11-01 00:00:00' - INTERVAL 90 DAY
GROUP BY date
ORDER BY date

-- Q4: count per metricType over everything
SELECT
  metricType,
  count(*) AS events
FROM entityMetricEvents
GROUP BY metricType
ORDER BY metricType

-- Q5: exact distinct users per day over 30 days
SELECT
  CAST(createdAt AS DATE) AS date,
  count(DISTINCT userId) AS users
FROM entityMetricEvents
WHERE createdAt > TIMESTAMP '2026-11-01 00:00:00' - INTERVAL 30 DAY
GROUP BY date
ORDER BY date
