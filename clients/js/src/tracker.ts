// Tracker: queues events in memory (bounded), groups them into per-table batches, and delivers
// each batch to trackhouse's POST /track/<table> as NDJSON with its own Idempotency-Key, retried
// with backoff. Single-threaded like everything in JavaScript; all state is this object's.

import { DeliveryError, FlushError, TrackerClosedError, TrackerFullError, type Row } from './errors.js';
import { backoffDelayMs, type RetryOptions } from './retry.js';
import { formatEventTime } from './time.js';
import { postBatch, trackUrl, type AttemptOutcome } from './transport.js';

/** What track() does when maxQueueRows events are already waiting. */
export type WhenFull = 'block' | 'fail';

/** Options of a Tracker; only `endpoint` is required. */
export interface TrackerOptions {
  /** Base URL of the trackhouse server, e.g. "https://events.example.com". */
  endpoint: string;
  /** API key with the write role; sent as `Authorization: Bearer`, in beacons as `?key=`. */
  key?: string;
  /** The end user's token (a JWT the application issued), sent as `X-Trackhouse-Token`. */
  userToken?: string;
  /** Rows per request at most. Default 100. */
  batchSize?: number;
  /** A batch is sent at the latest this long after its first event was tracked, ms. Default 1000. */
  lingerMs?: number;
  /** Body bytes per request at most (a batch is sent once it reaches this). Default 1 MiB. */
  maxBatchBytes?: number;
  /** Events held in memory at most (queued, in flight or waiting to be retried). Default 10,000. */
  maxQueueRows?: number;
  /** 'block' (default): track() waits for room. 'fail': track() rejects with TrackerFullError. */
  whenFull?: WhenFull;
  /** Retry policy for network errors, 429 and 5xx. */
  retry?: RetryOptions;
  /** Requests in flight at once. Default 2. */
  maxConcurrentRequests?: number;
  /** How long one request may take before it is retried, ms. Default 30,000. */
  requestTimeoutMs?: number;
  /**
   * Column that gets the time of the track() call when a row lacks it ("YYYY-MM-DD hh:mm:ss.sss",
   * UTC). null: no stamping. Default 'createdAt'.
   */
  timeField?: string | null;
  /** Per-table time fields that replace `timeField` (null: none for that table). */
  tableTimeFields?: Record<string, string | null>;
  /** Table that entityMetric() writes. Default 'entityMetricEvents'. */
  entityMetricTable?: string;
  /**
   * Called once for every batch that could not be delivered, with its rows. Default: logs the
   * error with console.error. The same errors also reject the flush() or close() waiting for them.
   */
  onError?: (error: DeliveryError, rows: Row[]) => void;
  /** In a browser: send pending events with navigator.sendBeacon when the page is hidden. Default true. */
  beaconOnPageHide?: boolean;
  /** fetch implementation; default the global fetch. */
  fetch?: typeof fetch;
  /** Clock for event times, epoch ms. Default Date.now. */
  now?: () => number;
}

/** One event of the guide's entityMetricEvents table. */
export interface EntityMetric {
  entityType: string;
  entityId: number;
  metricType: string;
  /** Default 1. */
  metricValue?: number;
  /** When omitted, the server fills it from the user token where the table has the column. */
  userId?: number;
  /** Default: the time of the call. */
  createdAt?: Date | string;
}

// Events of one table (and one user token) on their way to the server. Open while it takes
// events; sealed (with an Idempotency-Key) once full, lingered or flushed, then delivered.
interface Batch {
  id: string;
  table: string;
  userToken: string | undefined;
  lines: string[];
  bytes: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  idempotencyKey: string;
  // Sent with fetch's keepalive (sealed while the page was being hidden).
  keepalive: boolean;
  // A flush() waits for this batch: its failure goes to that flush, not to #unclaimed.
  awaited: boolean;
  done: Promise<DeliveryError | undefined>;
  settle: (error: DeliveryError | undefined) => void;
}

// Failures kept for the next flush() when no flush was waiting for them; beyond this many only
// their number is kept (the rows went to onError).
const kMaxUnclaimedFailures = 100;
// sendBeacon's payload limit is 64 KiB in browsers; stay under it.
const kMaxBeaconBytes = 60 * 1024;

/**
 * Batched, retrying tracker for trackhouse's POST /track.
 *
 * Guarantees: every event accepted by track() is either acknowledged by the server (200, so
 * durable there) or handed to `onError` and to the flush()/close() waiting for it; none is
 * dropped silently. Retries reuse the batch's Idempotency-Key, so a batch whose answer was lost
 * is stored once.
 */
export class Tracker {
  readonly #endpoint: string;
  readonly #key: string | undefined;
  #userToken: string | undefined;
  readonly #batchSize: number;
  readonly #lingerMs: number;
  readonly #maxBatchBytes: number;
  readonly #maxQueueRows: number;
  readonly #whenFull: WhenFull;
  readonly #maxRetries: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #maxConcurrent: number;
  readonly #requestTimeoutMs: number;
  readonly #timeField: string | null;
  readonly #tableTimeFields: Record<string, string | null>;
  readonly #entityMetricTable: string;
  readonly #onError: (error: DeliveryError, rows: Row[]) => void;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;

  // Open batches by table and user token.
  readonly #open = new Map<string, Batch>();
  // Sealed batches waiting for a request slot, oldest first.
  readonly #ready: Batch[] = [];
  // Sealed batches not settled yet (waiting, in flight, or between retries).
  readonly #sealed = new Set<Batch>();
  #inFlight = 0;
  // Events in open and sealed batches.
  #queuedRows = 0;
  // track() calls waiting for room (whenFull 'block'), oldest first.
  readonly #waiters: Array<() => void> = [];
  // Failures of batches no flush() waited for, for the next flush().
  #unclaimed: DeliveryError[] = [];
  #unclaimedOmitted = 0;
  #closed = false;
  #removePageListeners: (() => void) | undefined;

  constructor(options: TrackerOptions) {
    if (!options || typeof options.endpoint !== 'string' || options.endpoint === '') {
      throw new TypeError('Tracker: options.endpoint (the server URL) is required');
    }
    this.#endpoint = options.endpoint.replace(/\/+$/, '');
    this.#key = options.key || undefined;
    this.#userToken = options.userToken || undefined;
    this.#batchSize = positive('batchSize', options.batchSize, 100);
    this.#lingerMs = positive('lingerMs', options.lingerMs, 1000, true);
    this.#maxBatchBytes = positive('maxBatchBytes', options.maxBatchBytes, 1 << 20);
    this.#maxQueueRows = positive('maxQueueRows', options.maxQueueRows, 10_000);
    this.#whenFull = options.whenFull ?? 'block';
    if (this.#whenFull !== 'block' && this.#whenFull !== 'fail') {
      throw new RangeError(`Tracker: whenFull must be 'block' or 'fail', not ${String(options.whenFull)}`);
    }
    this.#maxRetries = positive('retry.maxRetries', options.retry?.maxRetries, 8, true);
    this.#baseDelayMs = positive('retry.baseDelayMs', options.retry?.baseDelayMs, 100, true);
    this.#maxDelayMs = positive('retry.maxDelayMs', options.retry?.maxDelayMs, 30_000, true);
    this.#maxConcurrent = positive('maxConcurrentRequests', options.maxConcurrentRequests, 2);
    this.#requestTimeoutMs = positive('requestTimeoutMs', options.requestTimeoutMs, 30_000);
    this.#timeField = options.timeField === undefined ? 'createdAt' : options.timeField;
    this.#tableTimeFields = { ...(options.tableTimeFields ?? {}) };
    this.#entityMetricTable = options.entityMetricTable ?? 'entityMetricEvents';
    this.#onError = options.onError ?? logDeliveryError;
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') {
      throw new TypeError('Tracker: no global fetch (Node 18+ or a browser); pass options.fetch');
    }
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#now = options.now ?? Date.now;
    if (options.beaconOnPageHide !== false) this.#listenForPageHide();
  }

  /** Events held now: queued, in flight or waiting to be retried. */
  get pendingRows(): number {
    return this.#queuedRows;
  }

  /** Replaces the end-user token sent with events tracked from now on (undefined: none). */
  setUserToken(token: string | undefined): void {
    this.#userToken = token || undefined;
  }

  /**
   * Queues `row` for `table` ("t" or "db.t"). The row's time field, when absent, gets the time
   * of this call. Resolves once the event is queued (not when it is delivered; see flush()).
   * Rejects with TrackerFullError when the queue is full and whenFull is 'fail', with
   * TrackerClosedError after close(), and with a TypeError for a row that is not a JSON object.
   * With whenFull 'block' it waits for room instead.
   */
  track(table: string, row: Row): Promise<void> {
    let line: string;
    try {
      if (this.#closed) throw new TrackerClosedError();
      if (typeof table !== 'string' || table === '') throw new TypeError('track: table must be a non-empty string');
      line = this.#serialize(table, row);
    } catch (error) {
      return Promise.reject(error);
    }
    const userToken = this.#userToken;
    if (this.#waiters.length === 0 && this.#queuedRows < this.#maxQueueRows) {
      this.#enqueue(table, userToken, line);
      return Promise.resolve();
    }
    if (this.#whenFull === 'fail') return Promise.reject(new TrackerFullError(this.#maxQueueRows));
    return new Promise<void>((resolve) => {
      this.#waiters.push(() => {
        this.#enqueue(table, userToken, line);
        resolve();
      });
    });
  }

  /** Tracks one entity metric event into the entity metric table (default entityMetricEvents). */
  entityMetric(metric: EntityMetric): Promise<void> {
    const { entityType, entityId, metricType, metricValue = 1, userId, createdAt } = metric;
    const row: Row = { entityType, entityId, metricType, metricValue };
    if (userId !== undefined) row.userId = userId;
    if (createdAt !== undefined) row.createdAt = createdAt;
    return this.track(this.#entityMetricTable, row);
  }

  /**
   * Sends every queued event now and resolves when all events tracked before this call are
   * acknowledged by the server. Rejects with a FlushError listing the batches that were not
   * delivered: those this flush waited for, and those that failed since the last flush while
   * none waited. Events still waiting for room (whenFull 'block') are not included; close() is.
   */
  async flush(): Promise<void> {
    for (const batch of [...this.#open.values()]) this.#seal(batch);
    const batches = [...this.#sealed];
    for (const batch of batches) batch.awaited = true;
    const earlier = this.#unclaimed;
    const omitted = this.#unclaimedOmitted;
    this.#unclaimed = [];
    this.#unclaimedOmitted = 0;
    const outcomes = await Promise.all(batches.map((batch) => batch.done));
    const errors = earlier.concat(outcomes.filter((e): e is DeliveryError => e !== undefined));
    if (errors.length > 0 || omitted > 0) throw new FlushError(errors, omitted);
  }

  /**
   * Stops taking events (track() rejects with TrackerClosedError from now on), then delivers
   * everything, including track() calls still waiting for room, and stops the timers and page
   * listeners. Rejects like flush() when some events were not delivered.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#removePageListeners?.();
    this.#removePageListeners = undefined;
    const errors: DeliveryError[] = [];
    let omitted = 0;
    do {
      try {
        await this.flush();
      } catch (error) {
        if (!(error instanceof FlushError)) throw error;
        errors.push(...error.errors);
        omitted += error.omittedBatches;
      }
    } while (this.#open.size > 0 || this.#sealed.size > 0 || this.#waiters.length > 0);
    if (errors.length > 0 || omitted > 0) throw new FlushError(errors, omitted);
  }

  // The row as an NDJSON line: the time field stamped when absent, Dates as event-time text.
  #serialize(table: string, row: Row): string {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new TypeError('track: row must be a plain object');
    }
    const out: Row = { ...row };
    const field = table in this.#tableTimeFields ? this.#tableTimeFields[table] : this.#timeField;
    if (field && out[field] === undefined) out[field] = formatEventTime(this.#now());
    for (const [name, value] of Object.entries(out)) {
      if (value instanceof Date) out[name] = formatEventTime(value);
    }
    return JSON.stringify(out);
  }

  #enqueue(table: string, userToken: string | undefined, line: string): void {
    const id = `${table}\u0000${userToken ?? ''}`;
    let batch = this.#open.get(id);
    if (batch === undefined) {
      batch = newBatch(id, table, userToken);
      const opened = batch;
      batch.timer = setTimeout(() => this.#seal(opened), this.#lingerMs);
      this.#open.set(id, batch);
    }
    batch.lines.push(line);
    batch.bytes += line.length + 1;
    this.#queuedRows += 1;
    if (batch.lines.length >= this.#batchSize || batch.bytes >= this.#maxBatchBytes) this.#seal(batch);
  }

  // Closes `batch` to new events and queues it for delivery.
  #seal(batch: Batch, keepalive = false): void {
    if (this.#open.get(batch.id) !== batch) return;
    this.#open.delete(batch.id);
    clearTimeout(batch.timer);
    batch.timer = undefined;
    batch.idempotencyKey = randomUuid();
    batch.keepalive = keepalive;
    this.#sealed.add(batch);
    this.#ready.push(batch);
    this.#pump();
  }

  // Starts deliveries while request slots are free.
  #pump(): void {
    while (this.#inFlight < this.#maxConcurrent && this.#ready.length > 0) {
      const batch = this.#ready.shift() as Batch;
      this.#inFlight += 1;
      void this.#deliver(batch).finally(() => {
        this.#inFlight -= 1;
        this.#pump();
      });
    }
  }

  // Attempts `batch` until it is acknowledged, refused, or out of retries; then settles it.
  async #deliver(batch: Batch): Promise<void> {
    const url = trackUrl(this.#endpoint, batch.table);
    const body = `${batch.lines.join('\n')}\n`;
    // Browsers refuse keepalive requests over 64 KiB; larger ones go without it.
    const keepalive = batch.keepalive && new TextEncoder().encode(body).length <= kMaxBeaconBytes;
    for (let attempt = 1; ; attempt++) {
      const outcome = await postBatch(this.#fetch, {
        url,
        body,
        idempotencyKey: batch.idempotencyKey,
        key: this.#key,
        userToken: batch.userToken,
        timeoutMs: this.#requestTimeoutMs,
        keepalive: keepalive,
      });
      if (outcome.ok) {
        this.#settle(batch, outcome.rejected.length > 0 ? partialError(batch, outcome, attempt) : undefined);
        return;
      }
      if (!outcome.retryable || attempt > this.#maxRetries) {
        this.#settle(batch, failedError(batch, outcome, attempt, this.#maxRetries));
        return;
      }
      const delay = outcome.retryAfterMs ?? backoffDelayMs(attempt - 1, this.#baseDelayMs, this.#maxDelayMs);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  // `batch` is done: acknowledged (error undefined) or failed. Frees its room for waiters.
  #settle(batch: Batch, error: DeliveryError | undefined): void {
    this.#sealed.delete(batch);
    this.#queuedRows -= batch.lines.length;
    if (error !== undefined) {
      try {
        this.#onError(error, error.rows);
      } catch (callbackError) {
        logDeliveryError(error, error.rows);
        console.error('trackhouse tracker: onError threw', callbackError);
      }
      if (!batch.awaited) {
        if (this.#unclaimed.length < kMaxUnclaimedFailures) this.#unclaimed.push(error);
        else this.#unclaimedOmitted += 1;
      }
    }
    while (this.#waiters.length > 0 && this.#queuedRows < this.#maxQueueRows) {
      (this.#waiters.shift() as () => void)();
    }
    batch.settle(error);
  }

  #listenForPageHide(): void {
    const doc = (globalThis as { document?: Document }).document;
    const win = (globalThis as { window?: Window }).window;
    if (typeof doc?.addEventListener !== 'function') return;
    const onVisibility = () => {
      if (doc.visibilityState === 'hidden') this.#sendOnPageHide();
    };
    const onPageHide = () => this.#sendOnPageHide();
    doc.addEventListener('visibilitychange', onVisibility);
    win?.addEventListener?.('pagehide', onPageHide);
    this.#removePageListeners = () => {
      doc.removeEventListener('visibilitychange', onVisibility);
      win?.removeEventListener?.('pagehide', onPageHide);
    };
  }

  // The page is going away: events not yet sent go out with navigator.sendBeacon (text/plain
  // NDJSON, the key and user token as URL arguments since beacons carry no headers, no
  // Idempotency-Key). What the browser refuses is sent with fetch's keepalive instead. Batches
  // already in flight or between retries carry on with fetch.
  #sendOnPageHide(): void {
    const nav = (globalThis as { navigator?: Navigator }).navigator;
    const beacon = typeof nav?.sendBeacon === 'function' ? nav.sendBeacon.bind(nav) : undefined;
    const waiting = [...this.#open.values()];
    for (const batch of this.#ready.splice(0)) waiting.push(batch);
    for (const batch of waiting) {
      const sent = beacon === undefined ? 0 : this.#beacon(beacon, batch);
      if (sent === batch.lines.length) {
        if (this.#open.get(batch.id) === batch) this.#open.delete(batch.id);
        clearTimeout(batch.timer);
        this.#settle(batch, undefined);
        continue;
      }
      batch.lines.splice(0, sent);
      this.#queuedRows -= sent;
      if (this.#sealed.has(batch)) {
        batch.keepalive = true;
        this.#ready.push(batch);
      } else {
        this.#seal(batch, true);
      }
    }
    this.#pump();
  }

  // Sends `batch`'s lines in beacons of at most kMaxBeaconBytes; returns how many lines went out
  // (from the front) before the browser refused one.
  #beacon(send: (url: string, data: BodyInit) => boolean, batch: Batch): number {
    const url = trackUrl(this.#endpoint, batch.table, { key: this.#key, token: batch.userToken });
    const encoder = new TextEncoder();
    let sent = 0;
    while (sent < batch.lines.length) {
      let end = sent;
      let bytes = 0;
      while (end < batch.lines.length) {
        const size = encoder.encode(batch.lines[end]).length + 1;
        if (end > sent && bytes + size > kMaxBeaconBytes) break;
        bytes += size;
        end += 1;
      }
      const body = `${batch.lines.slice(sent, end).join('\n')}\n`;
      if (!send(url, new Blob([body], { type: 'text/plain' }))) break;
      sent = end;
    }
    return sent;
  }
}

function newBatch(id: string, table: string, userToken: string | undefined): Batch {
  let settle: (error: DeliveryError | undefined) => void = () => undefined;
  const done = new Promise<DeliveryError | undefined>((resolve) => (settle = resolve));
  return {
    id,
    table,
    userToken,
    lines: [],
    bytes: 0,
    timer: undefined,
    idempotencyKey: '',
    keepalive: false,
    awaited: false,
    done,
    settle,
  };
}

function failedError(
  batch: Batch,
  outcome: Extract<AttemptOutcome, { ok: false }>,
  attempts: number,
  maxRetries: number,
): DeliveryError {
  const why = outcome.retryable ? `gave up after ${attempts} attempts (maxRetries ${maxRetries})` : 'not retried';
  return new DeliveryError(`${batch.lines.length} events for ${batch.table} not stored, ${why}: ${outcome.message}`, {
    table: batch.table,
    rows: batch.lines.map((line) => JSON.parse(line) as Row),
    idempotencyKey: batch.idempotencyKey,
    attempts,
    retryable: outcome.retryable,
    status: outcome.status,
    code: outcome.code,
    rowErrors: outcome.rowErrors,
    cause: outcome.cause,
  });
}

// A 200 that lists rejected rows (only with ?partial=1, which the tracker does not ask for).
function partialError(batch: Batch, outcome: Extract<AttemptOutcome, { ok: true }>, attempts: number): DeliveryError {
  const rows = outcome.rejected
    .filter((r) => r.index >= 0 && r.index < batch.lines.length)
    .map((r) => JSON.parse(batch.lines[r.index] as string) as Row);
  return new DeliveryError(`${outcome.rejected.length} of ${batch.lines.length} events for ${batch.table} rejected`, {
    table: batch.table,
    rows,
    idempotencyKey: batch.idempotencyKey,
    attempts,
    retryable: false,
    status: 200,
    code: 'REJECTED_ROWS',
    rowErrors: outcome.rejected,
  });
}

function logDeliveryError(error: DeliveryError, rows: Row[]): void {
  console.error(`trackhouse tracker: ${rows.length} events for ${error.table} not delivered: ${error.message}`);
}

function positive(name: string, value: number | undefined, fallback: number, zeroAllowed = false): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < (zeroAllowed ? 0 : 1)) {
    throw new RangeError(`Tracker: ${name} must be a ${zeroAllowed ? 'non-negative' : 'positive'} number, not ${value}`);
  }
  return value;
}

// A random (version 4) UUID: crypto.randomUUID where it exists (Node 18+, browsers in secure
// contexts), else built from crypto.getRandomValues.
function randomUuid(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  if (typeof c?.getRandomValues === 'function') c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
