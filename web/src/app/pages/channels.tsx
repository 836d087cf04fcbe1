import { useState } from 'preact/hooks';
import { gql } from '../api/session.ts';
import type { Channel, Connection } from '../api/types.ts';
import { href, navigate } from '../router.ts';
import {
  ErrorText,
  Field,
  Form,
  formatTime,
  Pager,
  ScrollTable,
  SearchBox,
  useAction,
  useAsync,
  usePager,
} from '../ui.tsx';
import { RenameInline } from './rename.tsx';

const PAGE_SIZE = 20;

export function ChannelsPage() {
  const [search, setSearch] = useState('');
  const pager = usePager(search);
  const list = useAsync(
    () =>
      gql<{ channels: Connection<Channel & { things: { totalCount: number } }> }>(
        `query Channels($first: Int, $after: String, $f: ChannelFilter) {
          channels(first: $first, after: $after, filter: $f) {
            nodes { id name createdAt things(first: 1) { totalCount } } pageInfo { hasNextPage endCursor } totalCount
          }
        }`,
        { first: PAGE_SIZE, after: pager.after, f: search ? { nameContains: search } : null },
      ),
    [search, pager.after],
  );
  const channels = list.data?.channels;
  return (
    <section>
      <h1>Channels</h1>
      <CreateChannel onCreated={(id) => navigate('channels', id)} />
      <SearchBox label="Search channels by name" value={search} onChange={setSearch} />
      <ErrorText error={list.error} />
      {channels && channels.nodes.length === 0 && (
        <p>{search ? 'No channel matches.' : 'No channels yet: create one above.'}</p>
      )}
      {channels && channels.nodes.length > 0 && (
        <ScrollTable label="Channels">
          <table>
            <caption class="visually-hidden">Channels</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Things</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {channels.nodes.map((c) => (
                <tr key={c.id}>
                  <td>
                    <a href={href('channels', c.id)}>{c.name}</a>
                  </td>
                  <td>{c.things.totalCount}</td>
                  <td>{formatTime(c.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollTable>
      )}
      {channels && (
        <Pager
          label="Channels"
          page={pager.page}
          total={channels.totalCount}
          hasNext={channels.pageInfo.hasNextPage}
          onNext={() => pager.next(channels.pageInfo.endCursor)}
          onPrevious={pager.previous}
        />
      )}
    </section>
  );
}

function CreateChannel({ onCreated }: { onCreated(id: string): void }) {
  const [name, setName] = useState('');
  const action = useAction(async () => {
    const { createChannel } = await gql<{ createChannel: { id: string } }>(
      'mutation CreateChannel($i: CreateChannelInput!) { createChannel(input: $i) { id } }',
      { i: { name: name.trim() } },
    );
    onCreated(createChannel.id);
  });
  return (
    <details class="panel">
      <summary>New channel</summary>
      <Form class="inline" onSubmit={() => void action.run()}>
        <Field label="Name" required maxLength={200} value={name} onChange={setName} />
        <button type="submit" disabled={action.busy}>
          Create channel
        </button>
      </Form>
      <ErrorText error={action.error} />
    </details>
  );
}

export function ChannelPage({ id }: { id: string }) {
  const channel = useAsync(
    () =>
      gql<{ channel: (Channel & { things: Connection<{ id: string; name: string }> }) | null }>(
        'query Channel($id: ID!) { channel(id: $id) { id name createdAt metadata things(first: 100) { nodes { id name } pageInfo { hasNextPage endCursor } totalCount } } }',
        { id },
      ),
    [id],
  );
  const del = useAction(async () => {
    if (!confirm('Delete this channel? Every thing is disconnected from it.')) return;
    await gql('mutation DelChannel($id: ID!) { deleteChannel(id: $id) }', { id });
    navigate('channels');
  });
  const c = channel.data?.channel;
  if (channel.error && !c) return <ErrorText error={channel.error} />;
  if (!c) return channel.loading ? <p role="status">Loading…</p> : <p>No such channel in your tenant.</p>;
  return (
    <section>
      <h1>{c.name}</h1>
      <p>
        Channel id <code data-testid="channel-id">{c.id}</code>: devices publish on MQTT topic{' '}
        <code>channels/{c.id}/messages</code> or HTTP <code>POST /channels/{c.id}/messages</code>.
      </p>
      <RenameInline kind="channel" id={id} name={c.name} onRenamed={channel.reload} />
      <section class="panel" aria-labelledby="things-title">
        <h2 id="things-title">Connected things ({c.things.totalCount})</h2>
        {c.things.nodes.length === 0 ? (
          <p>None yet: connect a thing from its page.</p>
        ) : (
          <ul class="plain">
            {c.things.nodes.map((t) => (
              <li key={t.id}>
                <a href={href('things', t.id)}>{t.name}</a>
              </li>
            ))}
          </ul>
        )}
      </section>
      <details class="panel">
        <summary>Delete</summary>
        <button type="button" class="danger" onClick={() => void del.run()} disabled={del.busy}>
          Delete channel {c.name}
        </button>
        <ErrorText error={del.error} />
      </details>
    </section>
  );
}
