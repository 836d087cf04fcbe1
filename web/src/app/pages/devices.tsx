import { useState } from 'preact/hooks';
import { gql } from '../api/session.ts';
import type { Connection, ThingSummary } from '../api/types.ts';
import { href, navigate } from '../router.ts';
import {
  ago,
  ErrorText,
  Field,
  Form,
  Pager,
  ScrollTable,
  SearchBox,
  useAction,
  useAsync,
  usePager,
} from '../ui.tsx';
import { Credentials, type Issued } from './credentials.tsx';

const PAGE_SIZE = 20;

export const THING_SUMMARY = `id name enabled
  status { online lastSeenAt lastMessageAt protocol offlineReason }
  rejections(first: 1) { nodes { id time protocol reason detail } }`;

/** Things: search, pages, and a new one with its key and QR code. */
export function DevicesPage() {
  const [search, setSearch] = useState('');
  const pager = usePager(search);
  const list = useAsync(
    () =>
      gql<{ things: Connection<ThingSummary> }>(
        `query Things($first: Int, $after: String, $f: ThingFilter) {
          things(first: $first, after: $after, filter: $f) { nodes { ${THING_SUMMARY} } pageInfo { hasNextPage endCursor } totalCount }
        }`,
        { first: PAGE_SIZE, after: pager.after, f: search ? { nameContains: search } : null },
      ),
    [search, pager.after],
  );
  const things = list.data?.things;
  return (
    <section>
      <h1>Things</h1>
      <CreateThing onCreated={list.reload} />
      <SearchBox label="Search things by name" value={search} onChange={setSearch} />
      <ErrorText error={list.error} />
      {things && things.nodes.length === 0 && (
        <p>{search ? 'No thing matches.' : 'No things yet: create one above.'}</p>
      )}
      {things && things.nodes.length > 0 && (
        <ScrollTable label="Things">
          <table>
            <caption class="visually-hidden">Things</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Last seen</th>
                <th scope="col">Last rejection</th>
                <th scope="col">
                  <span class="visually-hidden">Links</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {things.nodes.map((t) => (
                <ThingRow key={t.id} thing={t} />
              ))}
            </tbody>
          </table>
        </ScrollTable>
      )}
      {things && (
        <Pager
          label="Things"
          page={pager.page}
          total={things.totalCount}
          hasNext={things.pageInfo.hasNextPage}
          onNext={() => pager.next(things.pageInfo.endCursor)}
          onPrevious={pager.previous}
        />
      )}
    </section>
  );
}

function ThingRow({ thing }: { thing: ThingSummary }) {
  const rejection = thing.rejections.nodes[0];
  return (
    <tr>
      <td>
        <a href={href('things', thing.id)}>{thing.name}</a>
      </td>
      <td>
        <Presence thing={thing} />
      </td>
      <td>{ago(thing.status.lastSeenAt)}</td>
      <td>{rejection ? `${rejection.reason} (${ago(rejection.time)})` : '—'}</td>
      <td class="links">
        <a href={href('things', thing.id, 'data')}>Data</a>{' '}
        <a href={href('things', thing.id, 'commands')}>Commands</a>
      </td>
    </tr>
  );
}

export function Presence({ thing }: { thing: Pick<ThingSummary, 'enabled' | 'status'> }) {
  if (!thing.enabled) return <span class="badge badge-off">disabled</span>;
  return thing.status.online ? (
    <span class="badge badge-on">online{thing.status.protocol ? ` (${thing.status.protocol})` : ''}</span>
  ) : (
    <span class="badge">offline</span>
  );
}

function CreateThing({ onCreated }: { onCreated(): void }) {
  const [name, setName] = useState('');
  const [issued, setIssued] = useState<Issued | undefined>();
  const action = useAction(async () => {
    const { createThing } = await gql<{ createThing: { key: string; thing: { id: string; name: string } } }>(
      'mutation CreateThing($i: CreateThingInput!) { createThing(input: $i) { key thing { id name } } }',
      { i: { name: name.trim() } },
    );
    setIssued({
      thingId: createThing.thing.id,
      name: createThing.thing.name,
      key: createThing.key,
      channelIds: [],
    });
    setName('');
    onCreated();
  });
  return (
    <details class="panel" open={issued !== undefined}>
      <summary>New thing</summary>
      <Form class="inline" onSubmit={() => void action.run()}>
        <Field label="Name" required maxLength={200} value={name} onChange={setName} />
        <button type="submit" disabled={action.busy}>
          Create thing
        </button>
      </Form>
      <ErrorText error={action.error} />
      {issued && (
        <>
          <Credentials issued={issued} />
          <p>
            <button type="button" onClick={() => navigate('things', issued.thingId)}>
              Open {issued.name}
            </button>
          </p>
        </>
      )}
    </details>
  );
}
