// Errors the tracker reports. Every event that cannot be delivered ends in a DeliveryError,
// handed to the `onError` option and to the flush() or close() that waits for it; track()
// rejects with TrackerFullError or TrackerClosedError instead of dropping an event.

/** A row as tracked: a JSON object whose keys are the table's columns. */
export type Row = Record<string, unknown>;

/** One problem with one row of a batch, as the server names it in a 400 answer. */
export interface RowError {
  /** Position of the row in the batch (0-based). */
  index: number;
  /** The column at fault, when the server names one. */
  column?: string;
  /** Why the row was refused. */
  reason: string;
}

/** Base class of every error the tracker raises. */
export class TrackerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** track() with `whenFull: 'fail'` while maxQueueRows events are already waiting. */
export class TrackerFullError extends TrackerError {
  constructor(readonly maxQueueRows: number) {
    super(`the tracker's queue is full (${maxQueueRows} events waiting to be sent)`);
  }
}

/** track() after close(). */
export class TrackerClosedError extends TrackerError {
  constructor() {
    super('the tracker is closed');
  }
}

/** What DeliveryError's constructor takes. */
export interface DeliveryErrorInit {
  table: string;
  rows: Row[];
  idempotencyKey: string;
  attempts: number;
  retryable: boolean;
  status?: number;
  code?: string;
  rowErrors?: RowError[];
  cause?: unknown;
}

/**
 * A batch that was not stored: the server refused it (a 4xx that a retry cannot fix), or every
 * retry failed (network errors, 429, 5xx). `rows` are the batch's events, as sent.
 */
export class DeliveryError extends TrackerError {
  /** The table the batch was for. */
  readonly table!: string;
  /** The batch's rows, with the stamped time field. */
  readonly rows!: Row[];
  /** The batch's Idempotency-Key; a resend with the same key is never stored twice. */
  readonly idempotencyKey!: string;
  /** Requests made for the batch. */
  readonly attempts!: number;
  /** True when retries ran out on an error that is retryable (network, 429, 5xx). */
  readonly retryable!: boolean;
  /** HTTP status of the last answer; undefined when no answer came (network error). */
  readonly status?: number;
  /** The server's error code (BAD_ROWS, BAD_REQUEST, ...), when it sent one. */
  readonly code?: string;
  /** Per-row problems the server listed. */
  readonly rowErrors!: RowError[];

  constructor(message: string, init: DeliveryErrorInit) {
    const { cause, rowErrors = [], ...fields } = init;
    super(message, cause === undefined ? undefined : { cause });
    Object.assign(this, fields, { rowErrors });
  }
}

/** flush() or close() when some of the events it waited for were not delivered. */
export class FlushError extends TrackerError {
  /** The failed batches (at most the tracker's kept failures; see `omittedBatches`). */
  readonly errors: DeliveryError[];
  /** Failed batches not listed in `errors` because too many failed between flushes. */
  readonly omittedBatches: number;

  constructor(errors: DeliveryError[], omittedBatches = 0) {
    const rows = errors.reduce((n, e) => n + e.rows.length, 0);
    const batches = errors.length + omittedBatches;
    const first = errors[0]?.message ?? 'unknown error';
    super(`${batches} batch(es) not delivered (${rows} listed rows); first: ${first}`);
    this.errors = errors;
    this.omittedBatches = omittedBatches;
  }
}
