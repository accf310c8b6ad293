-- Main table
CREATE TABLE my_events (id UInt64, at DateTime) ENGINE = MergeTree() ORDER BY id;

-- Buffer that auto-flushes to main table
CREATE TABLE my_events_buffer AS my_events
ENGINE = Buffer(
  default,        -- database
  my_events,      -- destination table
  16,             -- num_layers
  10, 100,        -- min/max seconds
  10000, 1000000, -- min/max rows
  10000000, 100000000  -- min/max bytes
);

-- Write to buffer, reads from main table
INSERT INTO my_events_buffer VALUES (1, now());
SELECT * FROM my_events;  -- Includes buffered data
