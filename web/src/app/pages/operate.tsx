import { useEffect, useState } from 'preact/hooks';
import { subscribe } from '../api/live.ts';
import { gql } from '../api/session.ts';
import { ErrorText, formatTime, ScrollTable, Status, useAction, useAsync } from '../ui.tsx';

const PROJECTIONS = ['telemetry-pg'] as const;

interface Verification {
  messages: number;
  points: number;
  differenceCount: number;
  rowsBeyondLog: number;
  fromSeq: number;
  toSeq: number;
  differences: {
    thingId: string;
    day: string;
    what: string;
    log: { count: number };
    projection: { count: number };
  }[];
}
interface Job {
  id: string;
  state: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  error: string | null;
  progress: { phase: string; seq: number; targetSeq: number; rate: number; etaSeconds: number | null } | null;
  report: { messages: number; points: number; durationMs: number } | null;
}
interface DeadLetter {
  processor: string;
  seq: number;
  stream: string;
  subject: string;
  originalSeq: number;
  reason: string;
  time: string;
  deliveries: number;
  payload: string;
}

const JOB_FIELDS =
  'id state error progress { phase seq targetSeq rate etaSeconds } report { messages points durationMs }';

/** Platform operations, for admins of the operator tenant: verify, replay, dead letters. */
export function OperatePage() {
  const [projection, setProjection] = useState<string>(PROJECTIONS[0]);
  return (
    <section>
      <h1>Operate</h1>
      <p>
        For admins of the operator tenant (<code>TELLY_OPERATOR_TENANT</code>): these act on every tenant's
        data, as <code>telly verify</code>, <code>telly replay</code> and <code>telly dlq</code> do.
      </p>
      <label>
        Projection
        <select value={projection} onChange={(e) => setProjection(e.currentTarget.value)}>
          {PROJECTIONS.map((p) => (
            <option key={p}>{p}</option>
          ))}
        </select>
      </label>
      <Verify projection={projection} />
      <Replay projection={projection} />
      <DeadLetters />
    </section>
  );
}

function Verify({ projection }: { projection: string }) {
  const [result, setResult] = useState<Verification | undefined>();
  const verify = useAction(async () => {
    setResult(undefined);
    const { verifyProjection } = await gql<{ verifyProjection: Verification }>(
      `mutation Verify($p: String!) { verifyProjection(projection: $p) {
        messages points differenceCount rowsBeyondLog fromSeq toSeq
        differences { thingId day what log { count } projection { count } } } }`,
      { p: projection },
    );
    setResult(verifyProjection);
  });
  return (
    <section class="panel" aria-labelledby="verify-title">
      <h2 id="verify-title">Verify</h2>
      <p>Compares the projection with the log: counts and checksums per thing and day.</p>
      <button type="button" onClick={() => void verify.run()} disabled={verify.busy}>
        {verify.busy ? 'Verifying…' : `Verify ${projection}`}
      </button>
      <ErrorText error={verify.error} />
      {result && (
        <div data-testid="verify-result">
          <Status kind={result.differenceCount === 0 ? 'ok' : 'warn'}>
            {result.differenceCount === 0
              ? `In agreement with the log: ${result.messages} messages, ${result.points} points (log ${result.fromSeq}–${result.toSeq}).`
              : `${result.differenceCount} differences from the log (${result.messages} messages, ${result.points} points).`}
          </Status>
          {result.differences.length > 0 && (
            <ul class="plain">
              {result.differences.slice(0, 50).map((d) => (
                <li key={`${d.thingId}-${d.day}-${d.what}`}>
                  {d.day} · {d.what} · thing <code>{d.thingId}</code>: log {d.log.count}, projection{' '}
                  {d.projection.count}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}

function Replay({ projection }: { projection: string }) {
  const [job, setJob] = useState<Job | undefined>();
  const [error, setError] = useState<unknown>();
  const start = useAction(async () => {
    if (!confirm(`Rebuild ${projection} from the log? It is swapped in when done; reads continue meanwhile.`))
      return;
    const { replayProjection } = await gql<{ replayProjection: Job }>(
      `mutation Replay($p: String!) { replayProjection(projection: $p) { ${JOB_FIELDS} } }`,
      { p: projection },
    );
    setJob(replayProjection);
  });
  const id = job?.id;
  const running = job?.state === 'RUNNING';
  useEffect(() => {
    if (!id || !running) return;
    return subscribe<{ projectionJob: Job }>(
      `subscription Job($id: ID!) { projectionJob(id: $id) { ${JOB_FIELDS} } }`,
      { id },
      { next: (d) => setJob(d.projectionJob), error: setError },
    );
  }, [id, running]);
  const p = job?.progress;
  const percent =
    p && p.targetSeq > 0
      ? Math.min(100, Math.round((p.seq / p.targetSeq) * 100))
      : job?.state === 'SUCCEEDED'
        ? 100
        : 0;
  return (
    <section class="panel" aria-labelledby="replay-title">
      <h2 id="replay-title">Replay</h2>
      <p>Rebuilds the projection from the log into fresh tables and swaps them in.</p>
      <button type="button" onClick={() => void start.run()} disabled={start.busy || running}>
        Replay {projection}
      </button>
      <ErrorText error={start.error ?? error} />
      {job && (
        <div data-testid="replay-job" data-state={job.state}>
          <label>
            Progress{p ? ` (${p.phase})` : ''}
            <progress max={100} value={percent}>
              {percent}%
            </progress>
          </label>
          <Status kind={job.state === 'FAILED' ? 'warn' : job.state === 'SUCCEEDED' ? 'ok' : 'info'}>
            {job.state === 'RUNNING' &&
              `Running: ${percent}%${p ? `, ${Math.round(p.rate)} messages/s${p.etaSeconds !== null ? `, about ${Math.ceil(p.etaSeconds)} s left` : ''}` : ''}.`}
            {job.state === 'SUCCEEDED' &&
              `Done: ${job.report?.messages ?? 0} messages, ${job.report?.points ?? 0} points in ${((job.report?.durationMs ?? 0) / 1000).toFixed(1)} s.`}
            {job.state === 'FAILED' && `Failed: ${job.error ?? 'see the server log'}.`}
          </Status>
        </div>
      )}
    </section>
  );
}

function DeadLetters() {
  const [after, setAfter] = useState<number | null>(null);
  const list = useAsync(
    () =>
      gql<{ deadLetters: DeadLetter[] }>(
        'query DLQ($after: Float) { deadLetters(first: 20, after: $after) { processor seq stream subject originalSeq reason time deliveries payload } }',
        { after },
      ),
    [after],
  );
  const letters = list.data?.deadLetters ?? [];
  return (
    <section class="panel" aria-labelledby="dlq-title">
      <h2 id="dlq-title">Dead letters</h2>
      <p>
        Messages a processor gave up on, oldest first. Redrive or purge them with <code>telly dlq</code>.
      </p>
      <ErrorText error={list.error} />
      {list.data && letters.length === 0 && (
        <p data-testid="dlq-empty">
          {after === null ? 'None: every processor applied everything.' : 'No more.'}
        </p>
      )}
      {letters.length > 0 && (
        <ScrollTable label="Dead letters">
          <table data-testid="dlq">
            <thead>
              <tr>
                <th scope="col">Processor</th>
                <th scope="col">When</th>
                <th scope="col">Original</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {letters.map((d) => (
                <tr key={d.seq}>
                  <td>{d.processor}</td>
                  <td>{formatTime(d.time)}</td>
                  <td>
                    {d.stream} #{d.originalSeq} <code>{d.subject}</code>
                  </td>
                  <td>
                    {d.reason} <span class="hint">({d.deliveries} deliveries)</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollTable>
      )}
      <div class="actions">
        {after !== null && (
          <button type="button" onClick={() => setAfter(null)}>
            First page
          </button>
        )}
        {letters.length === 20 && (
          <button type="button" onClick={() => setAfter(letters[letters.length - 1]!.seq)}>
            Next page
          </button>
        )}
        <button type="button" onClick={list.reload}>
          Refresh
        </button>
      </div>
    </section>
  );
}
