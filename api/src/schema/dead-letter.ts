import type { DeadLetter } from '@telly/runtime';
import { isSubjectError } from '@telly/schemas';
import { builder, principalOf } from '../builder.ts';
import { invalid } from '../errors.ts';

const DeadLetterEntry = builder.objectRef<DeadLetter>('DeadLetter').implement({
  description:
    'A message a processor gave up on (dlq.<processor>): it was not applied to that projection. `telly dlq` shows, redrives and purges it.',
  fields: (t) => ({
    processor: t.exposeString('processor'),
    seq: t.float({ description: 'its position in the DLQ stream', resolve: (d) => d.seq }),
    stream: t.exposeString('stream', { description: 'where the original is: MESSAGES, EVENTS, …' }),
    subject: t.exposeString('subject', { description: 'the original subject' }),
    originalSeq: t.float({
      description: 'the position of the original in its stream',
      resolve: (d) => d.originalSeq,
    }),
    reason: t.exposeString('reason', { description: 'the last error' }),
    time: t.field({ type: 'DateTime', description: 'when it was dead-lettered', resolve: (d) => d.time }),
    deliveries: t.exposeInt('deliveries', { description: 'deliveries spent before giving up' }),
    headers: t.field({ type: 'JSON', description: 'the original headers', resolve: (d) => d.headers }),
    payload: t.string({
      description: 'the original payload as UTF-8 (binary bytes replaced)',
      resolve: (d) => new TextDecoder().decode(d.data),
    }),
  }),
});

builder.queryFields((t) => ({
  deadLetters: t.field({
    type: [DeadLetterEntry],
    authScopes: { admin: true },
    description:
      'Entries of the dead-letter queue, oldest first: of one processor or of all. Admins of the operator tenant only.',
    complexity: ({ first }) => ({ field: 10, multiplier: Math.min(Math.max(first ?? 50, 1), 500) }),
    args: {
      processor: t.arg.string({ description: 'e.g. telemetry-pg; all when omitted' }),
      first: t.arg.int({ description: 'at most 500 (default 50)' }),
      after: t.arg.float({ description: 'entries after this DLQ seq' }),
    },
    resolve: async (_root, args, ctx) => {
      ctx.services.ops.authorize(principalOf(ctx));
      const page = await ctx.services.deadLetters
        .list({
          processor: args.processor ?? undefined,
          first: args.first ?? undefined,
          after: args.after ?? undefined,
        })
        .catch((err: unknown) => {
          throw isSubjectError(err) ? invalid('processor', err.message) : err;
        });
      return page.items;
    },
  }),
}));
