import { HttpError, InfluxDB } from '@influxdata/influxdb-client';
import { Backoff, type CheckResult, type Logger, retryInPlace } from '@telly/runtime';
import { TellyError } from '@telly/schemas';
import { INFLUX_PRECISION } from './mapping.ts';

/** Defaults of {@link InfluxWriterOptions}. */
export const DEFAULT_INFLUX_WRITER = {
  /** Socket timeout of one write request. */
  timeoutMs: 10_000,
  /** First wait before writing again to an unavailable sink; doubles up to `maxRetryDelayMs`. */
  minRetryDelayMs: 500,
  maxRetryDelayMs: 30_000,
  /** Lines per request (InfluxDB's recommended batch size). */
  maxLinesPerRequest: 5_000,
  /** Bytes per request before compression (InfluxDB accepts 25 MB, VictoriaMetrics 32 MB). */
  maxBytesPerRequest: 8 * 1024 * 1024,
} as const;

/**
 * Statuses that mean "these lines will never be accepted" (malformed, type conflict, too large):
 * retrying them cannot help, the message they came from belongs in the DLQ. Every other failure
 * (connection refused, timeout, 5xx, 429, and also 401/403/404 — a wrong token or a missing
 * bucket is an operator's problem, not the data's) means the sink is unavailable.
 */
const REJECTED_STATUSES: ReadonlySet<number> = new Set([400, 413, 422]);

export interface InfluxWriterOptions {
  /** InfluxDB (or VictoriaMetrics, anything serving `/api/v2/write`) base URL. */
  url: string;
  /** API token (`Authorization: Token …`); none for VictoriaMetrics. */
  token?: string;
  org: string;
  bucket: string;
  /** @default DEFAULT_INFLUX_WRITER.timeoutMs */
  timeoutMs?: number;
  /** @default DEFAULT_INFLUX_WRITER.minRetryDelayMs */
  minRetryDelayMs?: number;
  /** @default DEFAULT_INFLUX_WRITER.maxRetryDelayMs */
  maxRetryDelayMs?: number;
  /** @default DEFAULT_INFLUX_WRITER.maxLinesPerRequest */
  maxLinesPerRequest?: number;
  /** @default DEFAULT_INFLUX_WRITER.maxBytesPerRequest */
  maxBytesPerRequest?: number;
}

/** The sink answered that it will never accept these lines (HTTP 400, 413 or 422). */
export class InfluxRejectedError extends TellyError<'INFLUX_REJECTED'> {
  readonly statusCode: number;
  constructor(statusCode: number, message: string, options?: ErrorOptions) {
    super('INFLUX_REJECTED', message, options);
    this.statusCode = statusCode;
  }
}

/** The sink is unavailable and the writer was told to stop waiting for it ({@link InfluxWriter.abort}). */
export class InfluxUnavailableError extends TellyError<'INFLUX_UNAVAILABLE'> {
  constructor(message: string, options?: ErrorOptions) {
    super('INFLUX_UNAVAILABLE', message, options);
  }
}

function isRejected(err: unknown): err is HttpError {
  return err instanceof HttpError && REJECTED_STATUSES.has(err.statusCode);
}

function describe(err: unknown): string {
  if (err instanceof HttpError) return `HTTP ${err.statusCode}: ${err.message || err.body}`.slice(0, 500);
  return err instanceof Error ? err.message : String(err);
}

/** Splits lines into requests of at most `maxLines` lines and about `maxBytes` bytes. */
export function chunkLines(lines: readonly string[], maxLines: number, maxBytes: number): string[][] {
  const chunks: string[][] = [];
  let chunk: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    const size = Buffer.byteLength(line) + 1;
    if (chunk.length > 0 && (chunk.length >= maxLines || bytes + size > maxBytes)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(line);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/**
 * Writes line protocol with `@influxdata/influxdb-client`, holding nothing back: each request
 * goes through a fresh WriteApi with `maxRetries: 0`, no flush timer, a batch size above the
 * request's line count (so the client never sends on its own and swallows the error) and a
 * `writeFailed` hook that rejects at once (so nothing enters the client's retry buffer).
 * {@link write} resolves only when the sink answered 2xx for every line.
 *
 * While the sink is unavailable, `write` keeps retrying in place with backoff instead of
 * failing: the caller (and with it the JetStream consumer) stands still — backpressure — until
 * the sink is back or {@link abort} is called.
 */
export class InfluxWriter {
  readonly #options: InfluxWriterOptions;
  readonly #client: InfluxDB;
  readonly #abort = new AbortController();
  readonly #backoff: Backoff;
  #downSince: number | undefined;
  #lastError: string | undefined;
  #lastWriteMs: number | undefined;

  constructor(options: InfluxWriterOptions) {
    this.#options = options;
    this.#client = new InfluxDB({
      url: options.url,
      token: options.token || undefined,
      timeout: options.timeoutMs ?? DEFAULT_INFLUX_WRITER.timeoutMs,
    });
    this.#backoff = new Backoff({
      minMs: options.minRetryDelayMs ?? DEFAULT_INFLUX_WRITER.minRetryDelayMs,
      maxMs: options.maxRetryDelayMs ?? DEFAULT_INFLUX_WRITER.maxRetryDelayMs,
    });
  }

  /** True while the last write attempt failed for want of a sink. */
  get down(): boolean {
    return this.#downSince !== undefined;
  }

  /** Whether the sink took the last write, for `/healthz`. */
  health(): CheckResult {
    const url = this.#options.url;
    if (this.#downSince === undefined) {
      const detail: Record<string, unknown> = { url, bucket: this.#options.bucket };
      if (this.#lastWriteMs !== undefined) detail.lastWriteAgoMs = Date.now() - this.#lastWriteMs;
      return { status: 'up', detail };
    }
    return {
      status: 'down',
      detail: { url, downForMs: Date.now() - this.#downSince, error: this.#lastError ?? 'unknown' },
    };
  }

  /**
   * Stops waiting for an unavailable sink: a `write` in its retry loop (and any later one while
   * the sink is still down) rejects with {@link InfluxUnavailableError}, so the processor can
   * hand its batch back and stop. One-way.
   */
  abort(): void {
    this.#abort.abort();
  }

  /**
   * Writes every line, in requests of bounded size. Resolves once all were accepted; retries an
   * unavailable sink until it is back (or {@link abort}); rejects with
   * {@link InfluxRejectedError} when the sink refuses a request's lines for good.
   */
  async write(lines: readonly string[], logger?: Logger): Promise<void> {
    const chunks = chunkLines(
      lines,
      this.#options.maxLinesPerRequest ?? DEFAULT_INFLUX_WRITER.maxLinesPerRequest,
      this.#options.maxBytesPerRequest ?? DEFAULT_INFLUX_WRITER.maxBytesPerRequest,
    );
    for (const chunk of chunks) await this.#writeChunk(chunk, logger);
  }

  async #writeChunk(lines: string[], logger: Logger | undefined): Promise<void> {
    const signal = this.#abort.signal;
    if (signal.aborted && this.down) {
      throw new InfluxUnavailableError(`InfluxDB is unavailable (${this.#lastError ?? 'unknown'}); stopping`);
    }
    try {
      await retryInPlace(() => this.#send(lines), {
        isRetryable: (err) => !isRejected(err),
        backoff: this.#backoff,
        signal,
        onRetry: (err, attempt, delayMs) => {
          const wasUp = this.#markDown(err);
          if (wasUp) {
            logger?.warn(
              { url: this.#options.url, error: this.#lastError, lines: lines.length },
              'InfluxDB unavailable: holding the batch (unacked) and retrying until it is back',
            );
          } else {
            logger?.debug({ attempt, error: this.#lastError, delayMs }, 'InfluxDB still unavailable');
          }
        },
      });
    } catch (err) {
      if (isRejected(err)) {
        throw new InfluxRejectedError(err.statusCode, `InfluxDB rejected the points: ${describe(err)}`, {
          cause: err,
        });
      }
      // every other failure is retried in place: here only when told to stop waiting
      this.#markDown(err);
      throw new InfluxUnavailableError(`InfluxDB is unavailable (${this.#lastError}); stopping`, {
        cause: err,
      });
    }
    if (this.#downSince !== undefined) {
      logger?.info({ downForMs: Date.now() - this.#downSince }, 'InfluxDB available again');
      this.#downSince = undefined;
      this.#lastError = undefined;
    }
    this.#lastWriteMs = Date.now();
  }

  /** Records a failed write; true when the sink was up until now. */
  #markDown(err: unknown): boolean {
    const wasUp = !this.down;
    this.#downSince ??= Date.now();
    this.#lastError = describe(err);
    return wasUp;
  }

  /** One request through a throwaway WriteApi that keeps and retries nothing. */
  async #send(lines: string[]): Promise<void> {
    const api = this.#client.getWriteApi(this.#options.org, this.#options.bucket, INFLUX_PRECISION, {
      batchSize: lines.length + 1,
      maxBatchBytes: Number.POSITIVE_INFINITY,
      flushInterval: 0,
      maxRetries: 0,
      maxBufferLines: 0,
      writeFailed: (error: Error) => Promise.reject(error),
    });
    try {
      api.writeRecords(lines);
      await api.flush();
    } finally {
      api.dispose();
    }
  }
}
