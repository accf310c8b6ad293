// @trackhouse/tracker: batched, retrying event tracking into trackhouse's POST /track/<table>.
export { Tracker } from './tracker.js';
export type { EntityMetric, TrackerOptions, WhenFull } from './tracker.js';
export type { RetryOptions } from './retry.js';
export { formatEventTime } from './time.js';
export {
  DeliveryError,
  FlushError,
  TrackerClosedError,
  TrackerError,
  TrackerFullError,
} from './errors.js';
export type { DeliveryErrorInit, Row, RowError } from './errors.js';
