import { gql } from '../api/session.ts';
import type { ChannelRef, Connection, Rule } from '../api/types.ts';
import { href } from '../router.ts';
import { describeCondition } from '../rule-words.ts';
import { ErrorText, Pager, ScrollTable, useAction, useAsync, usePager } from '../ui.tsx';

const PAGE_SIZE = 20;
/** A rule as the list and the form read it. */
export const RULE_FIELDS = `id name enabled thingId channelId thingMetadata measurement
  condition { op value value2 valueString valueBoolean for clearValue aggregate window }
  severity message cooldown actions`;

/** The tenant's things and channels by id, for the rules' scopes (the first page of each). */
export function useScopes() {
  const scopes = useAsync(
    () =>
      gql<{ things: { nodes: ChannelRef[] }; channels: { nodes: ChannelRef[] } }>(
        '{ things(first: 100) { nodes { id name } } channels(first: 100) { nodes { id name } } }',
        {},
      ),
    [],
  );
  return {
    things: scopes.data?.things.nodes ?? [],
    channels: scopes.data?.channels.nodes ?? [],
    // read (or failed): the rules show the names, not ids that a moment later turn into them
    ready: scopes.data !== undefined || scopes.error !== undefined,
    error: scopes.error,
  };
}

type Scopes = ReturnType<typeof useScopes>;

/** Rules: pages of them, each enabled or disabled in place, deleted after a confirmation. */
export function RulesPage() {
  const pager = usePager(null);
  const scopes = useScopes();
  const list = useAsync(
    () =>
      gql<{ rules: Connection<Rule> }>(
        `query Rules($first: Int, $after: String) {
          rules(first: $first, after: $after) { nodes { ${RULE_FIELDS} } pageInfo { hasNextPage endCursor } totalCount }
        }`,
        { first: PAGE_SIZE, after: pager.after },
      ),
    [pager.after],
  );
  const rules = scopes.ready ? list.data?.rules : undefined;
  return (
    <section>
      <h1>Rules</h1>
      <p>
        Each rule watches one measurement of a thing, a channel or the whole tenant and raises an alert when
        its condition holds.
      </p>
      <p>
        <a href={href('rules', 'new')}>New rule</a>
      </p>
      <ErrorText error={list.error ?? scopes.error} />
      {rules && rules.nodes.length === 0 && <p>No rules yet.</p>}
      {rules && rules.nodes.length > 0 && (
        <ScrollTable label="Rules">
          <table data-testid="rules">
            <caption class="visually-hidden">Rules</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Watches</th>
                <th scope="col">Condition</th>
                <th scope="col">Severity</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rules.nodes.map((r) => (
                <RuleRow key={r.id} rule={r} scopes={scopes} onChanged={list.reload} />
              ))}
            </tbody>
          </table>
        </ScrollTable>
      )}
      {rules && (
        <Pager
          label="Rules"
          page={pager.page}
          total={rules.totalCount}
          hasNext={rules.pageInfo.hasNextPage}
          onNext={() => pager.next(rules.pageInfo.endCursor)}
          onPrevious={pager.previous}
        />
      )}
    </section>
  );
}

/** Where a rule looks: a thing, a channel or the tenant, narrowed by thing metadata. */
export function describeScope(rule: Pick<Rule, 'thingId' | 'channelId' | 'thingMetadata'>, scopes: Scopes) {
  const name = (list: ChannelRef[], id: string) => list.find((x) => x.id === id)?.name ?? id;
  const where = rule.thingId
    ? `thing ${name(scopes.things, rule.thingId)}`
    : rule.channelId
      ? `channel ${name(scopes.channels, rule.channelId)}`
      : 'every thing of the tenant';
  return rule.thingMetadata ? `${where} with ${JSON.stringify(rule.thingMetadata)}` : where;
}

function RuleRow({ rule, scopes, onChanged }: { rule: Rule; scopes: Scopes; onChanged(): void }) {
  const toggle = useAction(async () => {
    const mutation = rule.enabled ? 'disableRule' : 'enableRule';
    await gql(`mutation Toggle($id: ID!) { ${mutation}(id: $id) { id enabled } }`, { id: rule.id });
    onChanged();
  });
  const remove = useAction(async () => {
    if (!confirm(`Delete the rule ${rule.name}? Its open alerts stay as they are.`)) return;
    await gql('mutation DeleteRule($id: ID!) { deleteRule(id: $id) }', { id: rule.id });
    onChanged();
  });
  const busy = toggle.busy || remove.busy;
  return (
    <tr data-rule-id={rule.id} data-enabled={String(rule.enabled)}>
      <td>
        <a href={href('rules', rule.id)}>{rule.name}</a>
      </td>
      <td>{describeScope(rule, scopes)}</td>
      <td>{describeCondition(rule.measurement, rule.condition)}</td>
      <td>{rule.severity.toLowerCase()}</td>
      <td>
        <span class={`badge badge-${rule.enabled ? 'on' : 'off'}`}>
          {rule.enabled ? 'enabled' : 'disabled'}
        </span>
      </td>
      <td class="links">
        <button type="button" onClick={() => void toggle.run()} disabled={busy}>
          {rule.enabled ? 'Disable' : 'Enable'}
          <span class="visually-hidden"> {rule.name}</span>
        </button>{' '}
        <button type="button" class="danger" onClick={() => void remove.run()} disabled={busy}>
          Delete<span class="visually-hidden"> {rule.name}</span>
        </button>
        <ErrorText error={toggle.error ?? remove.error} />
      </td>
    </tr>
  );
}
