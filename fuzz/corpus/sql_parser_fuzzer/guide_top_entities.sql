
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
