
    SELECT
      toDate(createdAt) as date,
      count() as events
    FROM entityMetricEvents
    WHERE entityType = 'Model' AND entityId = {modelId:UInt32}
    GROUP BY date
    ORDER BY date
