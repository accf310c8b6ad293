INSERT INTO entityMetricEvents (entityType, entityId, metricType, createdAt) SETTINGS async_insert = 1 FORMAT JSONEachRow {"entityType":"Model","entityId":1}
