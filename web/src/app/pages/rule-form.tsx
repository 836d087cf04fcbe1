import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api/session.ts';
import type { ChannelRef, Rule } from '../api/types.ts';
import { href, navigate } from '../router.ts';
import { ErrorText, Field, FieldError, Form, SelectField, unclaimed, useAction, useAsync } from '../ui.tsx';
import { BacktestPanel, useBacktest } from './backtest.tsx';
import {
  type ActionDraft,
  AGGREGATES,
  type Draft,
  draftOf,
  EMPTY_DRAFT,
  emptyAction,
  inputOf,
  OPS,
  RANGED,
  type Scope,
  SEVERITIES,
  THRESHOLD,
} from './rule-draft.ts';
import { RULE_FIELDS, useScopes } from './rules.tsx';

/** The fields the form shows the API's complaints beside; the rest show under the form. */
const FIELDS = [
  'input.name',
  'input.severity',
  'input.thingId',
  'input.channelId',
  'input.thingMetadata',
  'input.measurement',
  'input.condition.aggregate',
  'input.condition.window',
  'input.condition.op',
  'input.condition.value',
  'input.condition.value2',
  'input.condition.for',
  'input.condition.clearValue',
  'input.message',
  'input.cooldown',
  'input.actions',
];

/** The fields of each kind of action, beside which the API's complaints show. */
const ACTION_FIELDS: Record<ActionDraft['kind'], string[]> = {
  email: ['email.to'],
  webhook: ['webhook.url', 'webhook.secret'],
  command: [
    'command.thingId',
    'command.name',
    'command.payload',
    'command.on',
    'command.duration',
    'command.revertPayload',
  ],
};
const fieldsOf = (draft: Draft) => [
  ...FIELDS,
  ...draft.actions.flatMap((a, i) => ACTION_FIELDS[a.kind].map((f) => `input.actions[${i}].${f}`)),
];

const SAVE = {
  create: `mutation CreateRule($input: CreateRuleInput!) { createRule(input: $input) { id } }`,
  update: `mutation UpdateRule($id: ID!, $input: CreateRuleInput!) { updateRule(id: $id, input: $input) { id } }`,
};

/** A rule's form (`id` "new": an unsaved one), saved with createRule / updateRule, and its backtest. */
export function RulePage({ id }: { id: string }) {
  const isNew = id === 'new';
  const saved = useAsync(
    () =>
      isNew
        ? Promise.resolve({ rule: null })
        : gql<{ rule: Rule | null }>(`query Rule($id: ID!) { rule(id: $id) { ${RULE_FIELDS} } }`, { id }),
    [id],
  );
  const scopes = useScopes();
  const [draft, setDraft] = useState<Draft>(EMPTY_DRAFT);
  useEffect(() => {
    if (saved.data?.rule) setDraft(draftOf(saved.data.rule));
  }, [saved.data]);
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  // the complaint shown is that of what ran last: a save or a backtest
  const [last, setLast] = useState<'save' | 'backtest'>('save');
  const save = useAction(async () => {
    const input = inputOf(draft);
    if (isNew) await gql(SAVE.create, { input });
    else await gql(SAVE.update, { id, input });
    navigate('rules');
  });
  const backtest = useBacktest();
  const error = last === 'save' ? save.error : backtest.run.error;
  const title = isNew ? 'New rule' : `Rule ${saved.data?.rule?.name ?? ''}`.trim();
  if (!isNew && saved.data && !saved.data.rule)
    return (
      <section>
        <h1>Rule</h1>
        <p>
          This rule no longer exists, or it is not in your tenant. <a href={href('rules')}>All rules</a>
        </p>
      </section>
    );
  return (
    <section>
      <h1>{title}</h1>
      <p>
        <a href={href('rules')}>All rules</a>
      </p>
      <ErrorText error={saved.error ?? scopes.error} />
      <Form
        class="rule-form"
        onSubmit={() => {
          setLast('save');
          void save.run();
        }}
      >
        <fieldset>
          <legend>Rule</legend>
          <Field
            label="Name"
            required
            maxLength={200}
            value={draft.name}
            onChange={(name) => set({ name })}
            error={error}
            field="input.name"
          />
          <SelectField
            label="Severity"
            value={draft.severity}
            onChange={(severity) => set({ severity })}
            options={SEVERITIES.map((s) => ({ value: s, label: s.toLowerCase() }))}
            error={error}
            field="input.severity"
          />
        </fieldset>
        <ScopeFields
          draft={draft}
          set={set}
          things={scopes.things}
          channels={scopes.channels}
          error={error}
        />
        <ConditionFields draft={draft} set={set} error={error} />
        <fieldset>
          <legend>Notification</legend>
          <Field
            label={
              <>
                Message{' '}
                <span class="hint">(default “{'{thing}: {name} is {value} (threshold {threshold})'}”)</span>
              </>
            }
            maxLength={1024}
            value={draft.message}
            onChange={(message) => set({ message })}
            error={error}
            field="input.message"
          />
          <Field
            label={
              <>
                Cooldown{' '}
                <span class="hint">(least time between two notifications for one thing, e.g. 10m)</span>
              </>
            }
            value={draft.cooldown}
            onChange={(cooldown) => set({ cooldown })}
            error={error}
            field="input.cooldown"
          />
        </fieldset>
        <ActionsFields draft={draft} set={set} things={scopes.things} error={error} />
        <button type="submit" disabled={save.busy}>
          {isNew ? 'Create rule' : 'Save rule'}
        </button>
        {last === 'save' && <ErrorText error={unclaimed(error, fieldsOf(draft))} />}
      </Form>
      <BacktestPanel
        backtest={backtest}
        things={scopes.things}
        onRun={() => {
          setLast('backtest');
          void backtest.run.run(() => inputOf(draft), isNew ? undefined : id);
        }}
      />
      {last === 'backtest' && <ErrorText error={unclaimed(error, fieldsOf(draft))} />}
    </section>
  );
}

interface Part {
  draft: Draft;
  set(patch: Partial<Draft>): void;
  error: unknown;
}

function ScopeFields({
  draft,
  set,
  things,
  channels,
  error,
}: Part & { things: ChannelRef[]; channels: ChannelRef[] }) {
  const scopes: { scope: Scope; words: string }[] = [
    { scope: 'thing', words: 'One thing' },
    { scope: 'channel', words: 'The things of a channel' },
    { scope: 'tenant', words: 'Every thing of the tenant' },
  ];
  const pick = (list: ChannelRef[], what: string) => [
    { value: '', label: `Pick a ${what}` },
    ...list.map((x) => ({ value: x.id, label: x.name })),
  ];
  return (
    <fieldset>
      <legend>Watches</legend>
      {scopes.map((s) => (
        <label key={s.scope}>
          <input
            type="radio"
            name="scope"
            checked={draft.scope === s.scope}
            onChange={() => set({ scope: s.scope })}
          />{' '}
          {s.words}
        </label>
      ))}
      {draft.scope === 'thing' && (
        <SelectField
          label="Thing"
          value={draft.thingId}
          onChange={(thingId) => set({ thingId })}
          options={pick(things, 'thing')}
          error={error}
          field="input.thingId"
        />
      )}
      {draft.scope === 'channel' && (
        <SelectField
          label="Channel"
          value={draft.channelId}
          onChange={(channelId) => set({ channelId })}
          options={pick(channels, 'channel')}
          error={error}
          field="input.channelId"
        />
      )}
      {draft.scope !== 'thing' && (
        <Field
          label={
            <>
              Only things with this metadata{' '}
              <span class="hint">(a JSON object, e.g. {'{"zone": "greenhouse-1"}'}; empty: all)</span>
            </>
          }
          rows={2}
          value={draft.thingMetadata}
          onChange={(thingMetadata) => set({ thingMetadata })}
          error={error}
          field="input.thingMetadata"
        />
      )}
    </fieldset>
  );
}

function ConditionFields({ draft, set, error }: Part) {
  const compares = draft.op !== 'NO_DATA';
  return (
    <fieldset>
      <legend>Condition</legend>
      <Field
        label={
          <>
            Measurement <span class="hint">(the SenML name, e.g. temperature)</span>
          </>
        }
        required
        maxLength={256}
        value={draft.measurement}
        onChange={(measurement) => set({ measurement })}
        error={error}
        field="input.measurement"
      />
      {compares && (
        <SelectField
          label="Compare"
          value={draft.aggregate}
          onChange={(aggregate) => set({ aggregate })}
          options={AGGREGATES.map((a) => ({ value: a.aggregate, label: a.words }))}
          error={error}
          field="input.condition.aggregate"
        />
      )}
      {compares && draft.aggregate !== 'VALUE' && (
        <Field
          label={
            <>
              Window <span class="hint">(e.g. 5m)</span>
            </>
          }
          value={draft.window}
          onChange={(window) => set({ window })}
          error={error}
          field="input.condition.window"
        />
      )}
      <SelectField
        label="Raise when it is"
        value={draft.op}
        onChange={(op) => set({ op })}
        options={OPS.map((o) => ({ value: o.op, label: o.words }))}
        error={error}
        field="input.condition.op"
      />
      {compares && (
        <Field
          label={
            RANGED.has(draft.op) ? (
              'From'
            ) : draft.op === 'EQ' || draft.op === 'NEQ' ? (
              <>
                Value <span class="hint">(a number, text, true or false)</span>
              </>
            ) : (
              'Value'
            )
          }
          inputMode={draft.op === 'EQ' || draft.op === 'NEQ' ? undefined : 'decimal'}
          value={draft.value}
          onChange={(value) => set({ value })}
          error={error}
          field="input.condition.value"
        />
      )}
      {RANGED.has(draft.op) && (
        <Field
          label="To"
          inputMode="decimal"
          value={draft.value2}
          onChange={(value2) => set({ value2 })}
          error={error}
          field="input.condition.value2"
        />
      )}
      <Field
        label={
          draft.op === 'NO_DATA' ? (
            <>
              Silence <span class="hint">(e.g. 10m)</span>
            </>
          ) : (
            <>
              For <span class="hint">(true this long before raising, e.g. 5m; empty: at once)</span>
            </>
          )
        }
        required={draft.op === 'NO_DATA'}
        value={draft.for}
        onChange={(v) => set({ for: v })}
        error={error}
        field="input.condition.for"
      />
      {THRESHOLD.has(draft.op) && (
        <Field
          label={
            <>
              Clears {draft.op === 'LT' || draft.op === 'LTE' ? 'above' : 'below'}{' '}
              <span class="hint">(hysteresis; empty: when the condition no longer holds)</span>
            </>
          }
          inputMode="decimal"
          value={draft.clearValue}
          onChange={(clearValue) => set({ clearValue })}
          error={error}
          field="input.condition.clearValue"
        />
      )}
    </fieldset>
  );
}

const KINDS: { kind: ActionDraft['kind']; words: string }[] = [
  { kind: 'email', words: 'email' },
  { kind: 'command', words: 'command' },
  { kind: 'webhook', words: 'webhook' },
];

function ActionsFields({ draft, set, things, error }: Part & { things: ChannelRef[] }) {
  const change = (i: number, patch: Partial<ActionDraft>) =>
    set({ actions: draft.actions.map((a, j) => (j === i ? { ...a, ...patch } : a)) });
  return (
    <fieldset>
      <legend>Actions</legend>
      {draft.actions.length === 0 && <p>No actions: alerts show on the alerts page only.</p>}
      {draft.actions.map((a, i) => {
        const field = `input.actions[${i}]`;
        const n = i + 1;
        return (
          <fieldset key={i} class="action">
            <legend>
              Action {n}: {a.kind}
            </legend>
            {a.kind === 'email' && (
              <Field
                label={`Email ${n} to (addresses, comma-separated)`}
                value={a.to}
                onChange={(to) => change(i, { to })}
                error={error}
                field={`${field}.email.to`}
              />
            )}
            {a.kind === 'webhook' && (
              <>
                <Field
                  label={`Webhook ${n} URL`}
                  type="url"
                  value={a.url}
                  onChange={(url) => change(i, { url })}
                  error={error}
                  field={`${field}.webhook.url`}
                />
                <Field
                  label={`Webhook ${n} secret (16 to 256 characters; signs each POST${a.hasSecret ? '; it has one: leave blank to keep it' : ''})`}
                  type="password"
                  autocomplete="new-password"
                  value={a.secret}
                  onChange={(secret) => change(i, { secret })}
                  error={error}
                  field={`${field}.webhook.secret`}
                />
              </>
            )}
            {a.kind === 'command' && (
              <>
                <SelectField
                  label={`Command ${n} to thing`}
                  value={a.thingId}
                  onChange={(thingId) => change(i, { thingId })}
                  options={[
                    { value: '', label: 'Pick a thing' },
                    ...things.map((t) => ({ value: t.id, label: t.name })),
                  ]}
                  error={error}
                  field={`${field}.command.thingId`}
                />
                <Field
                  label={`Command ${n} name`}
                  value={a.name}
                  onChange={(name) => change(i, { name })}
                  error={error}
                  field={`${field}.command.name`}
                />
                <Field
                  label={`Command ${n} payload (JSON)`}
                  rows={2}
                  value={a.payload}
                  onChange={(payload) => change(i, { payload })}
                  error={error}
                  field={`${field}.command.payload`}
                />
                <SelectField
                  label={`Command ${n} sent when the alert is`}
                  value={a.on}
                  onChange={(on) => change(i, { on })}
                  options={[
                    { value: 'RAISED', label: 'raised' },
                    { value: 'RESOLVED', label: 'resolved' },
                  ]}
                  error={error}
                  field={`${field}.command.on`}
                />
                <Field
                  label={`Command ${n} duration (timed: the revert payload is sent after it, e.g. 30s; empty: not timed)`}
                  value={a.duration}
                  onChange={(duration) => change(i, { duration })}
                  error={error}
                  field={`${field}.command.duration`}
                />
                {a.duration.trim() && (
                  <Field
                    label={`Command ${n} revert payload (JSON)`}
                    rows={2}
                    value={a.revertPayload}
                    onChange={(revertPayload) => change(i, { revertPayload })}
                    error={error}
                    field={`${field}.command.revertPayload`}
                  />
                )}
              </>
            )}
            <button type="button" onClick={() => set({ actions: draft.actions.filter((_, j) => j !== i) })}>
              Remove action {n}
            </button>
          </fieldset>
        );
      })}
      <FieldError error={error} field="input.actions" />
      <div class="actions">
        {KINDS.map((k) => (
          <button
            key={k.kind}
            type="button"
            onClick={() => set({ actions: [...draft.actions, emptyAction(k.kind)] })}
          >
            Add {k.words} action
          </button>
        ))}
      </div>
    </fieldset>
  );
}
