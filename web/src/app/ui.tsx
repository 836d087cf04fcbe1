import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import { type ApiRequestError, describeError, isApiRequestError } from './api/errors.ts';

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/** Runs `load` when `deps` change (and on reload); the newest answer wins. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const run = useRef(0);
  useEffect(() => {
    const mine = ++run.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === run.current && setState({ data, loading: false }),
      (error: unknown) => mine === run.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/** An error in words, announced to screen readers. */
export function ErrorText({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  return (
    <p class="error" role="alert">
      {describeError(error)}
    </p>
  );
}

/** Whether the error names `field`, or an item of it (`input.to[2]` is of `input.to`). */
const names = (error: unknown, field: string | undefined): error is ApiRequestError =>
  !!field &&
  isApiRequestError(error) &&
  error.field !== undefined &&
  (error.field === field ||
    (error.field.startsWith(`${field}[`) && /^\[\d+\]$/.test(error.field.slice(field.length))));

/** The API's complaint about `field` (an input path, e.g. `input.condition.value2`), or undefined. */
export function fieldMessage(error: unknown, field: string | undefined): string | undefined {
  if (!names(error, field)) return undefined;
  // the API says "input.condition.value2: condition.value2 must not be…"; beside the field, its path is noise
  let words = error.message;
  const parts = error.field!.split('.');
  for (let i = 0; i < parts.length; i++) {
    const path = parts.slice(i).join('.');
    if (words.startsWith(`${path}: `)) words = words.slice(path.length + 2);
    if (words.startsWith(`${path} `)) words = words.slice(path.length + 1);
  }
  return describeError(new Error(words));
}

/** The error unless it names one of `fields`, which show it beside themselves ({@link FieldError}). */
export const unclaimed = (error: unknown, fields: readonly string[]) =>
  fields.some((f) => names(error, f)) ? undefined : error;

/** The API's complaint about one field, beside it, announced; `id` is what the input's aria-describedby names. */
export function FieldError({ error, field, id }: { error: unknown; field: string | undefined; id?: string }) {
  const message = fieldMessage(error, field);
  if (!message) return null;
  return (
    <p class="error field-error" role="alert" id={id}>
      {message}
    </p>
  );
}

/**
 * The attributes of an input that `field`'s complaint describes, and that complaint beside it:
 * `const [invalid, complaint] = useFieldError(error, 'input.name')`.
 */
export function useFieldError(error: unknown, field: string | undefined) {
  const id = useId();
  const bad = fieldMessage(error, field) !== undefined;
  const attrs = bad ? { 'aria-invalid': true as const, 'aria-describedby': id } : {};
  return [attrs, <FieldError key="error" error={error} field={field} id={id} />] as const;
}

/** A polite status line (saved, unchanged…). */
export function Status({
  children,
  kind = 'info',
}: {
  children: ComponentChildren;
  kind?: 'info' | 'ok' | 'warn';
}) {
  return (
    <p class={`status status-${kind}`} role="status">
      {children}
    </p>
  );
}

/** Runs an action, tracking busy and its error. */
export function useAction<A extends unknown[]>(action: (...args: A) => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = async (...args: A) => {
    setBusy(true);
    setError(undefined);
    try {
      await action(...args);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, setError };
}

/** Cursor paging: the cursors of the pages before, to go back. */
export function usePager(resetKey: unknown) {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  useEffect(() => setStack([null]), [resetKey]);
  const after = stack[stack.length - 1] ?? null;
  return {
    after,
    page: stack.length,
    next: (cursor: string | null | undefined) => cursor && setStack((s) => [...s, cursor]),
    previous: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
  };
}

export function Pager({
  page,
  hasNext,
  onNext,
  onPrevious,
  total,
  label,
}: {
  page: number;
  hasNext: boolean;
  onNext(): void;
  onPrevious(): void;
  total: number | undefined;
  label: string;
}) {
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <button type="button" onClick={onPrevious} disabled={page <= 1}>
        Previous
      </button>
      <span>
        Page {page}
        {total !== undefined ? ` · ${total} in all` : ''}
      </span>
      <button type="button" onClick={onNext} disabled={!hasNext}>
        Next
      </button>
    </nav>
  );
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
export const formatTime = (iso: string | null | undefined) => (iso ? dateTime.format(new Date(iso)) : '—');

/** "5 s ago", "3 min ago"… for last seen. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** A form whose submit runs `onSubmit` instead of navigating. */
export function Form({
  onSubmit,
  children,
  class: className,
}: {
  onSubmit(): void;
  children: ComponentChildren;
  class?: string;
}) {
  return (
    <form
      class={className}
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      {children}
    </form>
  );
}

/** The search box above a list. */
export function SearchBox({
  label,
  value,
  onChange,
}: {
  label: string;
  value: string;
  onChange(v: string): void;
}) {
  return (
    <search class="toolbar">
      <label>
        {label}
        <input type="search" value={value} onInput={(e) => onChange(e.currentTarget.value)} />
      </label>
    </search>
  );
}

/** A labelled text input bound to `value`; the API's complaint about `field` (in `error`) shows beside it. */
export function Field({
  label,
  value,
  onChange,
  type = 'text',
  autocomplete,
  required,
  minLength,
  maxLength,
  inputMode,
  rows,
  error,
  field,
}: {
  label: ComponentChildren;
  value: string;
  onChange(v: string): void;
  type?: 'text' | 'email' | 'password' | 'url';
  autocomplete?: string;
  required?: boolean;
  minLength?: number;
  maxLength?: number;
  inputMode?: 'decimal' | 'numeric';
  /** A textarea of this many rows. */
  rows?: number;
  error?: unknown;
  field?: string;
}) {
  const [invalid, complaint] = useFieldError(error, field);
  const onInput = (e: { currentTarget: { value: string } }) => onChange(e.currentTarget.value);
  return (
    <>
      {/* biome-ignore lint/a11y/noLabelWithoutControl: its control is the textarea or the input below */}
      <label>
        {label}
        {rows ? (
          <textarea
            rows={rows}
            spellcheck={false}
            required={required}
            maxLength={maxLength}
            value={value}
            onInput={onInput}
            {...invalid}
          />
        ) : (
          <input
            // preact types each input type apart; these take the same attributes
            type={type as 'text'}
            autocomplete={autocomplete}
            required={required}
            minLength={minLength}
            maxLength={maxLength}
            inputMode={inputMode}
            value={value}
            onInput={onInput}
            {...invalid}
          />
        )}
      </label>
      {complaint}
    </>
  );
}

/** A labelled select bound to `value`; the API's complaint about `field` (in `error`) shows beside it. */
export function SelectField<T extends string>({
  label,
  value,
  onChange,
  options,
  error,
  field,
}: {
  label: ComponentChildren;
  value: T;
  onChange(v: T): void;
  options: readonly { value: T; label: string }[];
  error?: unknown;
  field?: string;
}) {
  const [invalid, complaint] = useFieldError(error, field);
  return (
    <>
      <label>
        {label}
        <select value={value} onChange={(e) => onChange(e.currentTarget.value as T)} {...invalid}>
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      </label>
      {complaint}
    </>
  );
}

/**
 * A wide table's horizontal scroller. It takes keyboard focus so that a keyboard user can scroll it
 * (axe's scrollable-region-focusable); a labelled section is the region landmark a screen reader names.
 */
export function ScrollTable({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard to scroll it
    <section class="table-wrap" tabIndex={0} aria-label={`${label}, scrollable table`}>
      {children}
    </section>
  );
}
