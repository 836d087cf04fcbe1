import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/errors.ts';
import { subscribe } from '../api/live.ts';
import { gql } from '../api/session.ts';
import type { Connection } from '../api/types.ts';
import { href } from '../router.ts';
import { ErrorText, Form, formatTime, Status, useAction, useAsync } from '../ui.tsx';

type AlertStatus = 'OPEN' | 'ACKNOWLEDGED' | 'RESOLVED' | 'CLEARED';

interface Alert {
  id: string;
  status: AlertStatus;
  severity: string;
  message: string;
  measurement: string;
  value: unknown;
  raisedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  note: string | null;
  resolvedAt: string | null;
  thing: { id: string; name: string } | null;
  rule: { id: string; name: string } | null;
}

const FIELDS =
  'id status severity message measurement value raisedAt acknowledgedAt acknowledgedBy note resolvedAt thing { id name } rule { id name }';
/** The list is read again this often, beside the live changes. */
const POLL_MS = 5_000;
const STATUSES: (AlertStatus | '')[] = ['', 'OPEN', 'ACKNOWLEDGED', 'RESOLVED', 'CLEARED'];

/** The tenant's alerts, kept current by the `alerts` subscription; acknowledge in place. */
export function AlertsPage() {
  const [status, setStatus] = useState<AlertStatus | ''>('');
  const list = useAsync(
    () =>
      gql<{ alerts: Connection<Alert> }>(
        `query Alerts($status: AlertStatus) { alerts(first: 50, status: $status) { nodes { ${FIELDS} } pageInfo { hasNextPage endCursor } totalCount } }`,
        { status: status || null },
      ),
    [status],
  );
  // changes that arrived live, newest first, over the list as it was read
  const [live, setLive] = useState<Alert[]>([]);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    setLive([]);
    return subscribe<{ alerts: Alert }>(
      `subscription LiveAlerts { alerts { ${FIELDS} } }`,
      {},
      { next: ({ alerts: a }) => setLive((l) => [a, ...l.filter((x) => x.id !== a.id)]), error: setError },
    );
  }, []);
  // read again meanwhile: a live view can end (the platform restarting, a lost connection)
  useEffect(() => {
    const timer = setInterval(list.reload, POLL_MS);
    return () => clearInterval(timer);
  }, [list.reload]);
  const byId = new Map<string, Alert>();
  for (const a of list.data?.alerts.nodes ?? []) byId.set(a.id, a);
  const shown = [
    ...live.filter((a) => !byId.has(a.id) && (!status || a.status === status)),
    ...(list.data?.alerts.nodes ?? []).map((a) => live.find((l) => l.id === a.id) ?? a),
  ].filter((a) => !status || a.status === status);
  return (
    <section>
      <h1>Alerts</h1>
      <p>Raised by the tenant's rules; new ones and changes appear here as they happen.</p>
      <div class="toolbar">
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value as AlertStatus | '')}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s ? s.toLowerCase() : 'all'}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorText error={list.error} />
      {error !== undefined && (
        <Status kind="warn">
          Live updates stopped ({describeError(error)}); the list is read again every {POLL_MS / 1000} s.
        </Status>
      )}
      {list.data && shown.length === 0 && (
        <p>No alerts{status ? ` that are ${status.toLowerCase()}` : ''}.</p>
      )}
      {shown.length > 0 && (
        <ul class="plain" data-testid="alerts">
          {shown.map((a) => (
            <AlertItem
              key={a.id}
              alert={a}
              onChanged={(next) => setLive((l) => [next, ...l.filter((x) => x.id !== next.id)])}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

function AlertItem({ alert: a, onChanged }: { alert: Alert; onChanged(a: Alert): void }) {
  const [note, setNote] = useState('');
  const ack = useAction(async () => {
    const { acknowledgeAlert } = await gql<{ acknowledgeAlert: Alert }>(
      `mutation Ack($id: ID!, $note: String) { acknowledgeAlert(id: $id, note: $note) { ${FIELDS} } }`,
      { id: a.id, note: note.trim() || null },
    );
    onChanged(acknowledgeAlert);
  });
  return (
    <li class="panel" data-alert-id={a.id} data-status={a.status}>
      <p>
        <span class={`badge badge-${a.status === 'OPEN' ? 'pending' : 'succeeded'}`}>
          {a.status.toLowerCase()}
        </span>{' '}
        <strong>{a.severity.toLowerCase()}</strong>: {a.message}
      </p>
      <p class="hint">
        {a.rule ? <a href={href('rules', a.rule.id)}>{a.rule.name}</a> : 'a rule'} on{' '}
        {a.thing ? <a href={href('things', a.thing.id, 'data')}>{a.thing.name}</a> : 'a thing'} ·{' '}
        {a.measurement} = {JSON.stringify(a.value)} · raised {formatTime(a.raisedAt)}
        {a.acknowledgedAt &&
          ` · acknowledged ${formatTime(a.acknowledgedAt)}${a.acknowledgedBy ? ` by ${a.acknowledgedBy}` : ''}`}
        {a.note && ` (“${a.note}”)`}
        {a.resolvedAt && ` · resolved ${formatTime(a.resolvedAt)}`}
      </p>
      {a.status === 'OPEN' && (
        <Form class="inline" onSubmit={() => void ack.run()}>
          <label>
            Note
            <input value={note} onInput={(e) => setNote(e.currentTarget.value)} />
          </label>
          <button type="submit" disabled={ack.busy}>
            Acknowledge
          </button>
        </Form>
      )}
      {a.status === 'ACKNOWLEDGED' && <Status kind="ok">Acknowledged.</Status>}
      <ErrorText error={ack.error} />
    </li>
  );
}
