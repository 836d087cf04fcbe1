import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api/session.ts';
import { ErrorText, Status, useAction } from '../ui.tsx';

type Kind = 'thing' | 'channel';
type Outcome = 'saved' | 'unchanged' | 'taken';

const WORDS: Record<Outcome, string> = {
  saved: 'Saved.',
  unchanged: 'Unchanged: that is already its name.',
  taken: 'Name taken: another one in your tenant has this name. Choose another.',
};

/**
 * Whether another thing (channel) of the tenant already has `name`. The API does not require
 * names to be unique; the dashboard keeps them apart so people can tell devices by name.
 */
async function nameTaken(kind: Kind, id: string, name: string): Promise<boolean> {
  const field = kind === 'thing' ? 'things' : 'channels';
  const filter = kind === 'thing' ? 'ThingFilter' : 'ChannelFilter';
  const answer = await gql<Record<string, { nodes: { id: string; name: string }[] }>>(
    `query Same($f: ${filter}) { ${field}(first: 500, filter: $f) { nodes { id name } } }`,
    { f: { nameContains: name } },
  );
  return answer[field]!.nodes.some((n) => n.id !== id && n.name === name);
}

/** A name edited in place: saved, unchanged, or taken (said in words beside it). */
export function RenameInline({
  kind,
  id,
  name,
  onRenamed,
}: {
  kind: Kind;
  id: string;
  name: string;
  onRenamed(): void;
}) {
  const [value, setValue] = useState(name);
  const [outcome, setOutcome] = useState<Outcome | undefined>();
  useEffect(() => setValue(name), [name]);
  const action = useAction(async () => {
    const next = value.trim();
    if (next === name) return setOutcome('unchanged');
    if (await nameTaken(kind, id, next)) return setOutcome('taken');
    const mutation = kind === 'thing' ? 'updateThing' : 'updateChannel';
    const input = kind === 'thing' ? 'UpdateThingInput' : 'UpdateChannelInput';
    await gql(`mutation Rename($id: ID!, $i: ${input}!) { ${mutation}(id: $id, input: $i) { id name } }`, {
      id,
      i: { name: next },
    });
    setOutcome('saved');
    onRenamed();
  });
  return (
    <form
      class="inline rename"
      onSubmit={(e) => {
        e.preventDefault();
        setOutcome(undefined);
        void action.run();
      }}
    >
      <label>
        Name
        <input
          required
          maxLength={200}
          value={value}
          aria-invalid={outcome === 'taken'}
          onInput={(e) => {
            setValue(e.currentTarget.value);
            setOutcome(undefined);
          }}
        />
      </label>
      <button type="submit" disabled={action.busy}>
        Rename
      </button>
      {outcome && (
        <Status kind={outcome === 'taken' ? 'warn' : outcome === 'saved' ? 'ok' : 'info'}>
          {WORDS[outcome]}
        </Status>
      )}
      <ErrorText error={action.error} />
    </form>
  );
}
