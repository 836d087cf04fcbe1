/**
 * `up`, `down`, or `degraded`: working, but something needs an operator's eye (e.g. messages
 * recently dead-lettered); a degraded part still serves, so the report answers HTTP 200.
 */
export type HealthStatus = 'up' | 'degraded' | 'down';

/** What one dependency or part looks like right now. */
export interface CheckResult {
  status: HealthStatus;
  /** Why it is down, or useful facts when up (version, url, pid). */
  detail?: Record<string, unknown> | string;
}

export interface HealthReport {
  status: HealthStatus;
  checks: Record<string, CheckResult>;
}

export type HealthCheck = () => Promise<CheckResult> | CheckResult;

/** @default time one check may take before it counts as down */
export const DEFAULT_CHECK_TIMEOUT_MS = 2_000;

/** The worst of some statuses: `down` over `degraded` over `up` (none: `up`). */
export function worstStatus(statuses: Iterable<HealthStatus>): HealthStatus {
  let worst: HealthStatus = 'up';
  for (const status of statuses) {
    if (status === 'down') return 'down';
    if (status === 'degraded') worst = 'degraded';
  }
  return worst;
}

/** Named readiness checks; the report is the worst of its checks ({@link worstStatus}). */
export class HealthChecks {
  readonly #checks = new Map<string, HealthCheck>();

  add(name: string, check: HealthCheck): this {
    this.#checks.set(name, check);
    return this;
  }

  async report(timeoutMs = DEFAULT_CHECK_TIMEOUT_MS): Promise<HealthReport> {
    const entries = await Promise.all(
      [...this.#checks].map(async ([name, check]): Promise<[string, CheckResult]> => {
        try {
          const result = await Promise.race([
            Promise.resolve(check()),
            new Promise<CheckResult>((resolve) =>
              setTimeout(
                () => resolve({ status: 'down', detail: `no answer within ${timeoutMs} ms` }),
                timeoutMs,
              ).unref(),
            ),
          ]);
          return [name, result];
        } catch (err) {
          return [name, { status: 'down', detail: err instanceof Error ? err.message : String(err) }];
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    const status = worstStatus(entries.map(([, r]) => r.status));
    return { status, checks };
  }
}
