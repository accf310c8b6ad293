WITH 7 AS days, recent AS (SELECT entityId FROM entityMetricEvents WHERE createdAt > now() - INTERVAL days DAY)
SELECT DISTINCT entityType AS t, toStartOfHour(createdAt) h, count(DISTINCT userId), quantiles(0.5, 0.9)(metricValue) q,
  sumIf(metricValue, metricType IN ('View', 'Download')), argMax(userId, createdAt), uniqExact(userId)
FROM default.entityMetricEvents AS e FINAL
PREWHERE entityId IN (SELECT entityId FROM recent)
WHERE createdAt BETWEEN toDateTime64('2024-01-01 00:00:00', 3) AND now64() AND metricType NOT LIKE 'X%' AND userId IS NOT NULL
GROUP BY t, h WITH TOTALS
HAVING count() > 1 OR NOT (sum(metricValue) < 0)
ORDER BY h DESC NULLS LAST WITH FILL FROM toDateTime('2024-01-01') TO now() STEP 3600, t ASC COLLATE 'en'
LIMIT 1, 2 BY t
LIMIT 10 OFFSET 5
SETTINGS max_threads = 2, max_execution_time = 10.5
UNION ALL SELECT 'x', now(), 1, [0.5], 0, 0, 0
FORMAT JSONEachRow SETTINGS output_format_json_quote_64bit_integers = 0
