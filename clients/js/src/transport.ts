// One HTTP attempt at a batch (POST /track/<table>, NDJSON) and its answer read into an
// outcome the tracker acts on; the URLs of /track for fetch and for beacons.

import type { RowError } from './errors.js';
import { isRetryableStatus, parseRetryAfterMs } from './retry.js';

/** The request of one batch, the same on every attempt. */
export interface BatchRequest {
  url: string;
  body: string;
  idempotencyKey: string;
  key?: string;
  userToken?: string;
  timeoutMs: number;
  keepalive: boolean;
}

/** What one attempt came to. */
export type AttemptOutcome =
  | { ok: true; accepted: number; rejected: RowError[] }
  | {
      ok: false;
      retryable: boolean;
      message: string;
      status?: number;
      code?: string;
      rowErrors?: RowError[];
      retryAfterMs?: number;
      cause?: unknown;
    };

/** URL of POST /track/<table> below `endpoint`, with extra URL arguments. */
export function trackUrl(endpoint: string, table: string, args: Record<string, string | undefined> = {}): string {
  const url = `${endpoint}/track/${encodeURIComponent(table)}`;
  const query = Object.entries(args)
    .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '')
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&');
  return query ? `${url}?${query}` : url;
}

/** Sends `request` once. Never throws: network errors and timeouts are retryable outcomes. */
export async function postBatch(fetchImpl: typeof fetch, request: BatchRequest): Promise<AttemptOutcome> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-ndjson',
    'Idempotency-Key': request.idempotencyKey,
  };
  if (request.key) headers['Authorization'] = `Bearer ${request.key}`;
  if (request.userToken) headers['X-Trackhouse-Token'] = request.userToken;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), request.timeoutMs);
  try {
    const init: RequestInit = { method: 'POST', headers, body: request.body, signal: abort.signal };
    if (request.keepalive) init.keepalive = true;
    const response = await fetchImpl(request.url, init);
    const text = await response.text();
    return readAnswer(response, text);
  } catch (cause) {
    const what = abort.signal.aborted ? `no answer within ${request.timeoutMs} ms` : describe(cause);
    return { ok: false, retryable: true, message: `POST ${request.url}: ${what}`, cause };
  } finally {
    clearTimeout(timer);
  }
}

function readAnswer(response: Response, text: string): AttemptOutcome {
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  const answer = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  if (response.status === 200) {
    const accepted = typeof answer.accepted === 'number' ? answer.accepted : 0;
    return { ok: true, accepted, rejected: readRowErrors(answer.rejected) };
  }
  const error = (typeof answer.error === 'object' && answer.error !== null ? answer.error : {}) as Record<
    string,
    unknown
  >;
  const serverMessage = typeof error.message === 'string' ? error.message : text.trim().slice(0, 500);
  return {
    ok: false,
    retryable: isRetryableStatus(response.status),
    status: response.status,
    code: typeof error.code === 'string' ? error.code : undefined,
    message: `HTTP ${response.status}${serverMessage ? `: ${serverMessage}` : ''}`,
    rowErrors: readRowErrors(error.rows),
    retryAfterMs: parseRetryAfterMs(response.headers.get('Retry-After'), Date.now()),
  };
}

function readRowErrors(value: unknown): RowError[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null)
    .map((v) => {
      const row: RowError = {
        index: typeof v.index === 'number' ? v.index : -1,
        reason: typeof v.reason === 'string' ? v.reason : JSON.stringify(v),
      };
      if (typeof v.column === 'string') row.column = v.column;
      return row;
    });
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as { cause?: unknown }).cause;
    return inner instanceof Error ? `${cause.message} (${inner.message})` : cause.message;
  }
  return String(cause);
}
