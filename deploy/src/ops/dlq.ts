// `telly dlq`: the dead-letter queue for operators — list, show, redrive, purge — against the
// running platform's NATS.
import { parseArgs } from 'node:util';
import {
  type DeadLetter,
  DeadLetterQueue,
  isDeadLetterError,
  isStreamNotFound,
  MAX_DEAD_LETTERS_PAGE,
} from '@telly/runtime';
import { isSubjectError } from '@telly/schemas';
import { parseConfig } from '../config.ts';
import { isUsageError, UsageError } from '../usage-error.ts';
import { connectPlatformNats } from './platform.ts';

export const DLQ_USAGE = `usage: telly dlq list [--processor P] [--first N] [--after SEQ]
       telly dlq show <seq>
       telly dlq redrive <seq>
       telly dlq purge <seq> | --processor P | --all

what the processors gave up on (dlq.<processor>), oldest first; <seq> is an entry's DLQ sequence

list     the entries, with each processor's count
show     one entry: where it came from, why it failed, its headers and payload
redrive  republishes the original message to its subject for its processor alone, under a new
         message id, then removes the entry; should it fail again, it comes back as a new entry
         (REGISTRY and COMMANDS entries are never republished: fix the processor, rebuild)
purge    removes one entry, every entry of a processor, or (--all) every entry

NATS_URL (and NATS_USER / NATS_PASSWORD, NATS_TOKEN or NATS_CREDS) select the platform;
without them, the one \`telly up\` runs here (TELLY_DATA_DIR, TELLY_NATS_PORT)`;

/** Why the command could not run, in one line that names what to fix; exit status 1. */
class DlqCommandError extends Error {}

function seqOf(raw: string | undefined): number {
  if (raw === undefined) throw new UsageError('which entry? give its DLQ sequence, e.g. telly dlq show 12');
  const seq = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(seq) || seq < 1)
    throw new UsageError(`${JSON.stringify(raw)} is not a DLQ sequence (a positive integer)`);
  return seq;
}

function firstOf(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const first = Number(raw);
  if (!/^\d+$/.test(raw) || first < 1 || first > MAX_DEAD_LETTERS_PAGE)
    throw new UsageError(`--first must be a whole number from 1 to ${MAX_DEAD_LETTERS_PAGE}`);
  return first;
}

/** Connects to the platform's NATS, runs `fn`, closes. */
async function withQueue<T>(fn: (queue: DeadLetterQueue) => Promise<T>): Promise<T> {
  const { nc, natsUrl } = await connectPlatformNats(parseConfig(process.env), 'telly-dlq');
  try {
    return await fn(new DeadLetterQueue(nc));
  } catch (err) {
    if (isStreamNotFound(err))
      throw new DlqCommandError(
        `NATS at ${natsUrl} has no DLQ stream: is NATS_URL the platform's? (telly up creates the streams)`,
      );
    throw err;
  } finally {
    await nc.close();
  }
}

const oneLine = (text: string, max: number) => {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

export function formatList(entries: DeadLetter[], depths: Record<string, number>, more: boolean): string {
  const counts = Object.entries(depths);
  if (counts.length === 0) return 'the DLQ is empty';
  const lines = [`entries: ${counts.map(([p, n]) => `${p} ${n}`).join(', ')}`];
  if (entries.length === 0) {
    lines.push('none here (check --processor and --after)');
    return lines.join('\n');
  }
  const rows = entries.map((e) => [
    String(e.seq),
    e.processor,
    e.time.toISOString(),
    String(e.deliveries),
    e.subject,
    oneLine(e.reason, 80),
  ]);
  const head = ['seq', 'processor', 'dead-lettered', 'deliveries', 'subject', 'reason'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  lines.push(format(head), ...rows.map(format));
  if (more) lines.push(`… more after ${entries.at(-1)?.seq}: telly dlq list --after ${entries.at(-1)?.seq}`);
  return lines.join('\n');
}

export function formatEntry(e: DeadLetter): string {
  const headers = Object.entries(e.headers).flatMap(([key, values]) => values.map((v) => `  ${key}: ${v}`));
  return [
    `seq          ${e.seq}`,
    `processor    ${e.processor}`,
    `from         ${e.stream} seq ${e.originalSeq}, subject ${e.subject}`,
    `dead-letter  ${e.time.toISOString()} after ${e.deliveries} deliveries`,
    `reason       ${e.reason}`,
    'headers',
    ...(headers.length > 0 ? headers : ['  (none)']),
    `payload      ${new TextDecoder().decode(e.data)}`,
  ].join('\n');
}

export async function dlqCommand(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        processor: { type: 'string' },
        first: { type: 'string' },
        after: { type: 'string' },
        all: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    });
    const [action, target, ...extra] = positionals;
    if (values.help || action === undefined) {
      console.log(DLQ_USAGE);
      return action === undefined && !values.help ? 2 : 0;
    }
    if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(' ')}`);
    const processor = values.processor;
    switch (action) {
      case 'list': {
        const first = firstOf(values.first);
        const after = values.after === undefined ? undefined : seqOf(values.after);
        const text = await withQueue(async (queue) => {
          const page = await queue.list({ processor, first, after });
          return formatList(page.items, await queue.depths(processor), page.hasNextPage);
        });
        console.log(text);
        return 0;
      }
      case 'show': {
        const seq = seqOf(target);
        console.log(formatEntry(await withQueue((queue) => queue.get(seq))));
        return 0;
      }
      case 'redrive': {
        const seq = seqOf(target);
        const done = await withQueue((queue) => queue.redrive(seq));
        console.log(
          `redriven: entry ${seq} of ${done.entry.processor} is ${done.stream} seq ${done.seq} on ${done.entry.subject}, for ${done.entry.processor} alone`,
        );
        return 0;
      }
      case 'purge': {
        if (target !== undefined) {
          if (processor !== undefined || values.all)
            throw new UsageError('give an entry, --processor or --all');
          const seq = seqOf(target);
          await withQueue((queue) => queue.remove(seq));
          console.log(`purged entry ${seq}`);
          return 0;
        }
        if ((processor === undefined) === !values.all)
          throw new UsageError('purge what? give an entry, --processor P, or --all for every processor');
        const purged = await withQueue((queue) => queue.purge(processor));
        console.log(
          `purged ${purged} entr${purged === 1 ? 'y' : 'ies'}${processor ? ` of ${processor}` : ''}`,
        );
        return 0;
      }
      default:
        throw new UsageError(`unknown action ${action}: list, show, redrive or purge`);
    }
  } catch (err) {
    if (isUsageError(err)) {
      console.error(`${err.message}\n\n${DLQ_USAGE}`);
      return 2;
    }
    if (isSubjectError(err)) {
      console.error(`--processor: ${err.message}`);
      return 2;
    }
    if (isDeadLetterError(err) || err instanceof DlqCommandError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
}
