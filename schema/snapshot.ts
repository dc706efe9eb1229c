/**
 * Snapshots and time travel: `snapshots` lists them; `published(asOf:, snapshotId:)` is the root of
 * every data field, answered by one snapshot, which it names (`snapshot { id publishedAt dataThrough }`).
 */
import { GraphQLError } from 'graphql';
import { SnapshotNotFoundError } from '../resolvers/snapshots.ts';
import { builder, dateArg } from './builder.ts';
import { PublishedRef, SnapshotRef } from './refs.ts';

SnapshotRef.implement({
  description: 'A published, immutable snapshot of the marts.',
  fields: (t) => ({
    id: t.id({ resolve: (s) => String(s.id) }),
    publishedAt: t.field({ type: 'DateTime', resolve: (s) => s.publishedAt }),
    dataThrough: t.field({ type: 'Date', nullable: true, description: 'The date the data runs through.', resolve: (s) => s.dataThrough }),
    runId: t.string({ nullable: true, resolve: (s) => s.runId }),
  }),
});

function parseSnapshotId(id: string | null | undefined): number | undefined {
  if (id === null || id === undefined) return undefined;
  if (!/^[1-9][0-9]{0,15}$/.test(id)) throw new GraphQLError('snapshotId must be a snapshot number', { extensions: { code: 'BAD_USER_INPUT' } });
  return Number(id);
}

builder.queryFields((t) => ({
  snapshots: t.field({
    type: [SnapshotRef],
    description: 'Every readable snapshot, oldest first.',
    resolve: (_r, _a, ctx) => ctx.data.source.list(),
  }),
  published: t.field({
    type: PublishedRef,
    description: 'The published marts as of a date (latest snapshot published by the end of that day in the district’s time zone) or a snapshot id; the current snapshot when neither is given.',
    args: {
      asOf: t.arg({ type: 'Date', required: false }),
      snapshotId: t.arg.id({ required: false }),
    },
    resolve: async (_r, args, ctx) => {
      try {
        return await ctx.data.at({ asOf: dateArg(args.asOf), snapshotId: parseSnapshotId(args.snapshotId === null || args.snapshotId === undefined ? undefined : String(args.snapshotId)) });
      } catch (err) {
        if (err instanceof SnapshotNotFoundError) throw new GraphQLError(err.message, { extensions: { code: 'SNAPSHOT_NOT_FOUND' } });
        throw err;
      }
    },
  }),
}));

PublishedRef.implement({
  description: 'The published marts of one snapshot, as the caller may see them.',
  fields: (t) => ({
    snapshot: t.field({ type: SnapshotRef, description: 'The snapshot that answers.', resolve: (d) => d.info }),
    dataDictionary: t.field({ type: 'JSON', nullable: true, description: 'The data dictionary and lineage kept in this snapshot’s manifest.', resolve: (d) => d.q.snap.dictionary }),
  }),
});
