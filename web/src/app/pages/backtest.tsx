import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api/session.ts';
import type { BacktestJob, ChannelRef, RuleInput } from '../api/types.ts';
import { RANGES, type RangeKey } from '../history-range.ts';
import { ErrorText, formatTime, ScrollTable, Status, useAction } from '../ui.tsx';

/** While a backtest runs, it is read again this often. */
const POLL_MS = 500;
/** The history ranges a backtest may take (the API's limit is 31 days). */
const BACKTEST_RANGES = ['1h', '6h', '24h', '7d', '30d'] as const satisfies readonly RangeKey[];
type BacktestRange = (typeof BACKTEST_RANGES)[number];
const JOB_FIELDS =
  'id status progress error result { readings raised alerts { alertId thingId value raisedAt resolvedAt } }';
const ended = (job: BacktestJob | undefined) => !!job && job.status !== 'QUEUED' && job.status !== 'RUNNING';

/**
 * A backtest of a rule over a range ending now, followed until it ends: `run.error` is the
 * API's refusal (VALIDATION_FAILED names the rule's field, as createRule's would).
 */
export function useBacktest() {
  const [job, setJob] = useState<BacktestJob | undefined>();
  const [range, setRange] = useState<BacktestRange>('24h');
  // the input is read inside the action: a field it cannot read is its complaint
  const run = useAction(async (input: () => RuleInput, ruleId: string | undefined) => {
    setJob(undefined);
    const to = Date.now();
    const { backtestRule } = await gql<{ backtestRule: BacktestJob }>(
      `mutation Backtest($input: CreateRuleInput!, $from: DateTime!, $to: DateTime!, $ruleId: ID) {
        backtestRule(input: $input, from: $from, to: $to, ruleId: $ruleId) { ${JOB_FIELDS} }
      }`,
      {
        input: input(),
        from: new Date(to - RANGES[range].ms).toISOString(),
        to: new Date(to).toISOString(),
        ruleId: ruleId ?? null,
      },
    );
    setJob(backtestRule);
  });
  const [pollError, setPollError] = useState<unknown>();
  useEffect(() => {
    if (!job || ended(job)) return;
    const timer = setTimeout(() => {
      gql<{ backtestJob: BacktestJob | null }>(
        `query BacktestJob($id: ID!) { backtestJob(id: $id) { ${JOB_FIELDS} } }`,
        { id: job.id },
      ).then(({ backtestJob }) => {
        setPollError(undefined);
        // a restarted API forgets its jobs
        setJob(backtestJob ?? { ...job, status: 'FAILED', error: 'the backtest is no longer known' });
      }, setPollError);
    }, POLL_MS);
    return () => clearTimeout(timer);
  }, [job, pollError]);
  return { job, range, setRange, run, pollError };
}

export type Backtest = ReturnType<typeof useBacktest>;

/** The range to backtest over, the button that starts it, its progress and the alerts it found. */
export function BacktestPanel({
  backtest,
  onRun,
  things,
}: {
  backtest: Backtest;
  onRun(): void;
  things: ChannelRef[];
}) {
  const { job, range, setRange, run } = backtest;
  const running = run.busy || (job !== undefined && !ended(job));
  return (
    <section class="panel" aria-labelledby="backtest-title">
      <h2 id="backtest-title">Backtest</h2>
      <p>
        Runs the rule as it stands in the form over the readings logged in the range and lists the alerts it
        would have raised. Nothing is stored, mailed or sent.
      </p>
      <div class="toolbar">
        <label>
          Range
          <select value={range} onChange={(e) => setRange(e.currentTarget.value as BacktestRange)}>
            {BACKTEST_RANGES.map((key) => (
              <option key={key} value={key}>
                {RANGES[key].label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={onRun} disabled={running}>
          Run backtest
        </button>
      </div>
      <ErrorText error={backtest.pollError} />
      {job && <BacktestProgress job={job} things={things} />}
    </section>
  );
}

function BacktestProgress({ job, things }: { job: BacktestJob; things: ChannelRef[] }) {
  const percent = Math.round(job.progress * 100);
  const result = job.result;
  const thingName = (id: string) => things.find((t) => t.id === id)?.name ?? id;
  return (
    <div data-testid="backtest" data-status={job.status}>
      {!ended(job) && (
        <label>
          {job.status === 'QUEUED' ? 'Waiting for its turn' : `Reading the log: ${percent} %`}
          <progress max={100} value={percent}>
            {percent} %
          </progress>
        </label>
      )}
      {job.status === 'FAILED' && <Status kind="warn">The backtest failed: {job.error}.</Status>}
      {job.status === 'CANCELLED' && <Status kind="warn">The backtest was cancelled.</Status>}
      {result && (
        <Status kind="ok">
          {result.readings} readings evaluated: {result.raised === 0 ? 'no alert' : `${result.raised} alerts`}{' '}
          would have been raised
          {result.raised > result.alerts.length ? ` (the first ${result.alerts.length} are listed)` : ''}.
        </Status>
      )}
      {result && result.alerts.length > 0 && (
        <ScrollTable label="Alerts the backtest raised">
          <table data-testid="backtest-alerts">
            <thead>
              <tr>
                <th scope="col">Thing</th>
                <th scope="col">Value</th>
                <th scope="col">Raised</th>
                <th scope="col">Resolved</th>
              </tr>
            </thead>
            <tbody>
              {result.alerts.map((a) => (
                <tr key={a.alertId} data-alert-id={a.alertId}>
                  <td>{thingName(a.thingId)}</td>
                  <td>{JSON.stringify(a.value)}</td>
                  <td>{formatTime(a.raisedAt)}</td>
                  <td>{a.resolvedAt ? formatTime(a.resolvedAt) : 'still open at the end'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollTable>
      )}
    </div>
  );
}
