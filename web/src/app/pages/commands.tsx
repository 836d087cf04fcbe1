import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api/session.ts';
import type { Command, Connection } from '../api/types.ts';
import { ErrorText, formatTime, ScrollTable, Status, useAction, useAsync } from '../ui.tsx';
import { parseObject, ThingTabs } from './thing.tsx';

/** While a command is still moving, its status is read again this often. */
const POLL_MS = 1000;
const OPEN = new Set(['SCHEDULED', 'PENDING', 'DELIVERED']);

const COMMANDS = `query Commands($id: ID!) {
  thing(id: $id) {
    id name
    commands(first: 20) {
      nodes { id name payload status requestedAt deliveredAt completedAt expiresAt reason result revertAt revertOf { id } }
      pageInfo { hasNextPage endCursor } totalCount
    }
  }
}`;

const SEND = `mutation Send($t: ID!, $name: String!, $payload: JSON, $ttl: String, $duration: String, $revert: JSON) {
  sendCommand(thingId: $t, name: $name, payload: $payload, ttl: $ttl, duration: $duration, revertPayload: $revert) { id status }
}`;
const ON = { state: 'ON' };
const OFF = { state: 'OFF' };

export function CommandsPage({ thingId }: { thingId: string }) {
  const list = useAsync(
    () =>
      gql<{ thing: { id: string; name: string; commands: Connection<Command> } | null }>(COMMANDS, {
        id: thingId,
      }),
    [thingId],
  );
  const commands = list.data?.thing?.commands.nodes ?? [];
  const moving = commands.some((c) => OPEN.has(c.status));
  useEffect(() => {
    if (!moving) return;
    const timer = setTimeout(list.reload, POLL_MS);
    return () => clearTimeout(timer);
  }, [moving, list.data, list.reload]);
  const [sent, setSent] = useState<string | undefined>();
  const [seconds, setSeconds] = useState('30');
  const send = useAction(
    async (
      name: string,
      payload: unknown,
      ttl: string | null,
      what: string,
      timed?: { duration: string; revert: unknown },
    ) => {
      setSent(undefined);
      await gql(SEND, {
        t: thingId,
        name,
        payload,
        ttl,
        duration: timed?.duration ?? null,
        revert: timed?.revert ?? null,
      });
      setSent(`${what} sent.`);
      list.reload();
    },
  );
  const cancel = useAction(async (id: string) => {
    await gql('mutation Cancel($id: ID!) { cancelCommand(id: $id) { id status } }', { id });
    list.reload();
  });
  const thing = list.data?.thing;
  return (
    <section>
      <h1>{thing ? `Commands of ${thing.name}` : 'Commands'}</h1>
      <ThingTabs id={thingId} current="commands" />
      <section class="panel" aria-labelledby="switch-title">
        <h2 id="switch-title">Switch</h2>
        <p>
          Sends <code>switch</code> with <code>{'{"state":"ON"}'}</code> or <code>{'{"state":"OFF"}'}</code>{' '}
          to the device on <code>things/{thingId}/commands</code>.
        </p>
        <div class="actions">
          <button
            type="button"
            class="big"
            onClick={() => void send.run('switch', ON, null, 'ON')}
            disabled={send.busy}
          >
            ON
          </button>
          <button
            type="button"
            class="big"
            onClick={() => void send.run('switch', OFF, null, 'OFF')}
            disabled={send.busy}
          >
            OFF
          </button>
        </div>
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void send.run('switch', ON, null, `ON for ${seconds} s`, {
              duration: `${seconds}s`,
              revert: OFF,
            });
          }}
        >
          <label>
            Seconds
            <input
              type="number"
              inputMode="numeric"
              min={1}
              max={86400}
              required
              value={seconds}
              onInput={(e) => setSeconds(e.currentTarget.value)}
            />
          </label>
          <button type="submit" disabled={send.busy}>
            ON for {seconds || 'N'} seconds, then OFF
          </button>
        </form>
        {sent && <Status kind="ok">{sent}</Status>}
        <ErrorText error={send.error} />
      </section>
      <CustomCommand
        onSend={(name, payload, ttl) => send.run(name, payload, ttl, `Command ${name}`)}
        busy={send.busy}
      />
      <section class="panel" aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        <ErrorText error={list.error ?? cancel.error} />
        {commands.length === 0 ? (
          <p>No commands sent yet.</p>
        ) : (
          <ScrollTable label="Command history">
            <table data-testid="commands">
              <thead>
                <tr>
                  <th scope="col">Command</th>
                  <th scope="col">Status</th>
                  <th scope="col">Sent</th>
                  <th scope="col">Delivered</th>
                  <th scope="col">Completed</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {commands.map((c) => (
                  <tr key={c.id} data-command-id={c.id} data-status={c.status}>
                    <td>
                      {c.name} <code>{JSON.stringify(c.payload)}</code>
                      {c.revertOf && <span class="hint"> (revert, at {formatTime(c.revertAt)})</span>}
                      {!c.revertOf && c.revertAt && (
                        <span class="hint"> (timed: reverts at {formatTime(c.revertAt)})</span>
                      )}
                    </td>
                    <td>
                      <span class={`badge badge-${c.status.toLowerCase()}`}>{c.status.toLowerCase()}</span>
                      {c.reason ? `: ${c.reason}` : ''}
                    </td>
                    <td>{formatTime(c.requestedAt)}</td>
                    <td>{formatTime(c.deliveredAt)}</td>
                    <td>{formatTime(c.completedAt)}</td>
                    <td>
                      {c.status === 'SCHEDULED' && (
                        <button type="button" onClick={() => void cancel.run(c.id)} disabled={cancel.busy}>
                          Cancel<span class="visually-hidden"> {c.name}</span>
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollTable>
        )}
        <button type="button" onClick={list.reload}>
          Refresh
        </button>
      </section>
    </section>
  );
}

function CustomCommand({
  onSend,
  busy,
}: {
  onSend(name: string, payload: unknown, ttl: string | null): Promise<void>;
  busy: boolean;
}) {
  const [name, setName] = useState('');
  const [payload, setPayload] = useState('{}');
  const [ttl, setTtl] = useState('');
  const [error, setError] = useState<unknown>();
  return (
    <details class="panel">
      <summary>Other command</summary>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setError(undefined);
          try {
            void onSend(name.trim(), parseObject(payload, 'The payload'), ttl.trim() || null);
          } catch (err) {
            setError(err);
          }
        }}
      >
        <label>
          Name
          <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Payload (a JSON object)
          <textarea
            rows={3}
            spellcheck={false}
            value={payload}
            onInput={(e) => setPayload(e.currentTarget.value)}
          />
        </label>
        <label>
          Expires if not delivered within <span class="hint">(e.g. 30s, 5m; default 1h)</span>
          <input value={ttl} onInput={(e) => setTtl(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={busy}>
          Send command
        </button>
        <ErrorText error={error} />
      </form>
    </details>
  );
}
