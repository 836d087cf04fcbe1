import { useState } from 'preact/hooks';
import { gql } from '../api/session.ts';
import type { Channel, Connection, Thing } from '../api/types.ts';
import { href, navigate } from '../router.ts';
import { ago, ErrorText, formatTime, Status, useAction, useAsync } from '../ui.tsx';
import { Credentials, type Issued } from './credentials.tsx';
import { Presence, THING_SUMMARY } from './devices.tsx';
import { RenameInline } from './rename.tsx';

const THING = `query Thing($id: ID!) {
  thing(id: $id) {
    ${THING_SUMMARY} metadata createdAt updatedAt
    channels(first: 100) { nodes { id name } }
    bootstrap { externalId content updatedAt channels { id name } }
  }
}`;

/** The tabs of a thing's pages. */
export function ThingTabs({ id, current }: { id: string; current: 'device' | 'data' | 'commands' }) {
  const tab = (name: typeof current, label: string, link: string) => (
    <a href={link} aria-current={current === name ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <nav class="tabs" aria-label="Thing">
      {tab('device', 'Device', href('things', id))}
      {tab('data', 'Data', href('things', id, 'data'))}
      {tab('commands', 'Commands', href('things', id, 'commands'))}
    </nav>
  );
}

export function ThingPage({ id }: { id: string }) {
  const thing = useAsync(() => gql<{ thing: Thing | null }>(THING, { id }), [id]);
  const [issued, setIssued] = useState<Issued | undefined>();
  const t = thing.data?.thing;
  if (thing.error && !t) return <ErrorText error={thing.error} />;
  if (!t) return thing.loading ? <p role="status">Loading…</p> : <p>No such thing in your tenant.</p>;
  return (
    <section>
      <h1>{t.name}</h1>
      <ThingTabs id={id} current="device" />
      <RenameInline kind="thing" id={id} name={t.name} onRenamed={thing.reload} />
      <StatusPanel thing={t} onChanged={thing.reload} onIssued={setIssued} />
      {issued && <Credentials issued={issued} />}
      <ChannelsPanel thing={t} onChanged={thing.reload} />
      <MetadataPanel thing={t} onChanged={thing.reload} />
      <BootstrapPanel thing={t} onChanged={thing.reload} />
      <RejectionsPanel id={id} />
      <DeletePanel thing={t} />
    </section>
  );
}

function StatusPanel({
  thing,
  onChanged,
  onIssued,
}: {
  thing: Thing;
  onChanged(): void;
  onIssued(i: Issued): void;
}) {
  const toggle = useAction(async () => {
    const mutation = thing.enabled ? 'disableThing' : 'enableThing';
    await gql(`mutation Toggle($id: ID!) { ${mutation}(id: $id) { id enabled } }`, { id: thing.id });
    onChanged();
  });
  const rotate = useAction(async () => {
    if (!confirm(`Issue a new key for ${thing.name}? The current key stops working at once.`)) return;
    const { rotateThingKey } = await gql<{ rotateThingKey: { key: string } }>(
      'mutation Rotate($id: ID!) { rotateThingKey(id: $id) { key thing { id } } }',
      { id: thing.id },
    );
    onIssued({
      thingId: thing.id,
      name: thing.name,
      key: rotateThingKey.key,
      channelIds: thing.channels.nodes.map((c) => c.id),
      externalId: thing.bootstrap?.externalId,
    });
  });
  const s = thing.status;
  return (
    <section class="panel" aria-labelledby="status-title">
      <h2 id="status-title">Status</h2>
      <dl class="facts">
        <dt>State</dt>
        <dd>
          <Presence thing={thing} />
          {!s.online && s.offlineReason ? ` (last session: ${s.offlineReason})` : ''}
        </dd>
        <dt>Last seen</dt>
        <dd>
          {ago(s.lastSeenAt)} <span class="hint">{formatTime(s.lastSeenAt)}</span>
        </dd>
        <dt>Last message</dt>
        <dd>
          {ago(s.lastMessageAt)} <span class="hint">{formatTime(s.lastMessageAt)}</span>
        </dd>
        <dt>Thing id</dt>
        <dd>
          <code>{thing.id}</code>
        </dd>
      </dl>
      <div class="actions">
        <button type="button" onClick={() => void toggle.run()} disabled={toggle.busy}>
          {thing.enabled ? 'Disable' : 'Enable'}
        </button>
        <button type="button" onClick={() => void rotate.run()} disabled={rotate.busy}>
          Rotate key and show QR code
        </button>
      </div>
      <ErrorText error={toggle.error ?? rotate.error} />
    </section>
  );
}

function ChannelsPanel({ thing, onChanged }: { thing: Thing; onChanged(): void }) {
  const all = useAsync(
    () =>
      gql<{ channels: Connection<Channel> }>(
        'query Channels { channels(first: 500) { nodes { id name } pageInfo { hasNextPage endCursor } totalCount } }',
      ),
    [],
  );
  const connected = new Set(thing.channels.nodes.map((c) => c.id));
  const choices = all.data?.channels.nodes.filter((c) => !connected.has(c.id)) ?? [];
  const [choice, setChoice] = useState('');
  const act = useAction(async (mutation: 'connect' | 'disconnect', channelId: string) => {
    await gql(`mutation Link($t: ID!, $c: ID!) { ${mutation}(thingId: $t, channelId: $c) }`, {
      t: thing.id,
      c: channelId,
    });
    setChoice('');
    onChanged();
  });
  return (
    <section class="panel" aria-labelledby="channels-title">
      <h2 id="channels-title">Channels</h2>
      {thing.channels.nodes.length === 0 ? (
        <p>Not connected to any channel: it cannot publish yet.</p>
      ) : (
        <ul class="plain">
          {thing.channels.nodes.map((c) => (
            <li key={c.id}>
              <a href={href('channels', c.id)}>{c.name}</a> <code class="hint">{c.id}</code>{' '}
              <button type="button" onClick={() => void act.run('disconnect', c.id)} disabled={act.busy}>
                Disconnect<span class="visually-hidden"> from {c.name}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          if (choice) void act.run('connect', choice);
        }}
      >
        <label>
          Connect to channel
          <select value={choice} onChange={(e) => setChoice(e.currentTarget.value)}>
            <option value="">Choose a channel…</option>
            {choices.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={!choice || act.busy}>
          Connect
        </button>
      </form>
      {all.data && all.data.channels.totalCount === 0 && (
        <p>
          No channels yet: <a href={href('channels')}>create one</a>.
        </p>
      )}
      <ErrorText error={act.error ?? all.error} />
    </section>
  );
}

/** JSON typed by a person: an object, or an error naming what is wrong. */
export function parseObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${what} must be a JSON object, like {"room": "A1"}`);
  return value as Record<string, unknown>;
}

function MetadataPanel({ thing, onChanged }: { thing: Thing; onChanged(): void }) {
  const [text, setText] = useState(() => JSON.stringify(thing.metadata, null, 2));
  const [saved, setSaved] = useState(false);
  const save = useAction(async () => {
    const metadata = parseObject(text, 'Metadata');
    await gql(
      'mutation Meta($id: ID!, $i: UpdateThingInput!) { updateThing(id: $id, input: $i) { id metadata } }',
      {
        id: thing.id,
        i: { metadata },
      },
    );
    setSaved(true);
    onChanged();
  });
  return (
    <details class="panel">
      <summary>Metadata</summary>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setSaved(false);
          void save.run();
        }}
      >
        <label>
          Metadata (a JSON object)
          <textarea
            rows={6}
            spellcheck={false}
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={save.busy}>
          Save metadata
        </button>
        {saved && <Status kind="ok">Saved.</Status>}
        <ErrorText error={save.error} />
      </form>
    </details>
  );
}

function BootstrapPanel({ thing, onChanged }: { thing: Thing; onChanged(): void }) {
  const b = thing.bootstrap;
  const [externalId, setExternalId] = useState(b?.externalId ?? '');
  const [externalKey, setExternalKey] = useState('');
  const [content, setContent] = useState(b?.content ?? '{}');
  const [saved, setSaved] = useState<string | undefined>();
  const save = useAction(async () => {
    await gql('mutation Boot($i: BootstrapInput!) { configureBootstrap(input: $i) { id } }', {
      i: {
        thingId: thing.id,
        externalId: externalId.trim(),
        externalKey,
        content,
        channelIds: thing.channels.nodes.map((c) => c.id),
      },
    });
    setExternalKey('');
    setSaved('Saved. The device fetches it with its external key.');
    onChanged();
  });
  const remove = useAction(async () => {
    await gql('mutation Unboot($t: ID!) { removeBootstrap(thingId: $t) }', { t: thing.id });
    setSaved('Removed.');
    onChanged();
  });
  return (
    <details class="panel">
      <summary>Bootstrap config</summary>
      <p>
        A device holding only its external id and key fetches its credentials and this config from{' '}
        <code>{`${location.origin}/things/bootstrap/${externalId || '{externalId}'}`}</code>. Each fetch
        issues a new thing key. Its channels are the thing's channels.
      </p>
      {b && (
        <p>
          Configured {formatTime(b.updatedAt)} for channels{' '}
          {b.channels.map((c) => c.name).join(', ') || 'none'}.
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setSaved(undefined);
          void save.run();
        }}
      >
        <label>
          External id (e.g. the MAC address)
          <input required value={externalId} onInput={(e) => setExternalId(e.currentTarget.value)} />
        </label>
        <label>
          External key <span class="hint">(at least 12 characters, about 16 random letters and digits)</span>
          <input
            required
            type="password"
            autocomplete="new-password"
            value={externalKey}
            onInput={(e) => setExternalKey(e.currentTarget.value)}
          />
        </label>
        <label>
          Content (handed to the device as is)
          <textarea
            rows={4}
            spellcheck={false}
            value={content}
            onInput={(e) => setContent(e.currentTarget.value)}
          />
        </label>
        <div class="actions">
          <button type="submit" disabled={save.busy}>
            Save bootstrap config
          </button>
          {b && (
            <button type="button" onClick={() => void remove.run()} disabled={remove.busy}>
              Remove bootstrap config
            </button>
          )}
        </div>
        {saved && <Status kind="ok">{saved}</Status>}
        <ErrorText error={save.error ?? remove.error} />
      </form>
    </details>
  );
}

function RejectionsPanel({ id }: { id: string }) {
  const list = useAsync(
    () =>
      gql<{
        thing: {
          rejections: Connection<{
            id: string;
            time: string;
            protocol: string;
            reason: string;
            detail: string;
          }>;
        } | null;
      }>(
        'query Rejections($id: ID!) { thing(id: $id) { rejections(first: 20) { nodes { id time protocol reason detail } pageInfo { hasNextPage endCursor } totalCount } } }',
        { id },
      ),
    [id],
  );
  const nodes = list.data?.thing?.rejections.nodes ?? [];
  return (
    <details class="panel">
      <summary>Refused publishes ({list.data?.thing?.rejections.totalCount ?? '…'})</summary>
      <ErrorText error={list.error} />
      {nodes.length === 0 ? (
        <p>None in the last 7 days.</p>
      ) : (
        <ul class="plain">
          {nodes.map((r) => (
            <li key={r.id}>
              {formatTime(r.time)} · {r.protocol} · <strong>{r.reason}</strong>: {r.detail}
            </li>
          ))}
        </ul>
      )}
      <button type="button" onClick={list.reload}>
        Refresh
      </button>
    </details>
  );
}

function DeletePanel({ thing }: { thing: Thing }) {
  const del = useAction(async () => {
    if (!confirm(`Delete ${thing.name}? Its key stops working at every bridge. Its data stays.`)) return;
    await gql('mutation Del($id: ID!) { deleteThing(id: $id) }', { id: thing.id });
    navigate('things');
  });
  return (
    <details class="panel">
      <summary>Delete</summary>
      <button type="button" class="danger" onClick={() => void del.run()} disabled={del.busy}>
        Delete {thing.name}
      </button>
      <ErrorText error={del.error} />
    </details>
  );
}
