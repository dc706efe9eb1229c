/** Raw tier for data engineers: pipeline runs and quarantined rows. Every other role: FORBIDDEN. */
import { listQuarantine, pipelineRuns, type QuarantineRow, type RunSummary } from '../resolvers/admin.ts';
import { builder } from './builder.ts';
import { connection, PublishedRef, type In } from './refs.ts';

const RunRef = builder.objectRef<RunSummary>('PipelineRun').implement({
  fields: (t) => ({
    runId: t.string({ resolve: (r) => r.runId }),
    status: t.string({ resolve: (r) => r.status }),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.finishedAt }),
    durationMs: t.field({ type: 'NonNegativeFloat', nullable: true, resolve: (r) => r.durationMs }),
    snapshotId: t.id({ nullable: true, description: 'The snapshot the run published, if any.', resolve: (r) => (r.snapshotId === null ? null : String(r.snapshotId)) }),
    files: t.field({ type: 'NonNegativeInt', nullable: true, resolve: (r) => r.files }),
    record: t.field({ type: 'JSON', nullable: true, description: 'The whole run record.', resolve: (r) => r.record }),
  }),
});

const QuarantineRef = builder.objectRef<In<QuarantineRow>>('QuarantinedRow').implement({
  fields: (t) => ({
    runId: t.string({ nullable: true, resolve: (q) => q.row.run_id }),
    file: t.string({ nullable: true, resolve: (q) => q.row.file }),
    rowNumber: t.int({ nullable: true, resolve: (q) => q.row.row_number }),
    source: t.string({ nullable: true, resolve: (q) => q.row.source }),
    entity: t.string({ nullable: true, resolve: (q) => q.row.entity }),
    field: t.string({ nullable: true, resolve: (q) => q.row.field }),
    rule: t.string({ nullable: true, resolve: (q) => q.row.rule }),
    value: t.string({ nullable: true, resolve: (q) => q.row.value }),
    reason: t.string({ nullable: true, resolve: (q) => q.row.reason }),
  }),
});

builder.queryFields((t) => ({
  pipelineRuns: t.field({
    type: [RunRef],
    nullable: true,
    authScopes: { raw: true },
    description: 'Pipeline run records, newest first (data engineers).',
    args: { limit: t.arg.int({ required: false, defaultValue: 50 }) },
    resolve: (_r, args, ctx) => pipelineRuns(ctx.data.lake, Math.max(0, Math.min(500, args.limit ?? 50))),
  }),
}));

builder.objectFields(PublishedRef, (t) => ({
  quarantine: t.connection(
    {
      type: QuarantineRef,
      nullable: true,
      authScopes: { raw: true },
      description: 'Rows quarantined by the run that built this snapshot (data engineers).',
      args: { source: t.arg.string({ required: false }), entity: t.arg.string({ required: false }) },
      resolve: async (d, args) => {
        const page = await listQuarantine(d, args, { source: args.source, entity: args.entity });
        return page ? connection(d, page) : null;
      },
    },
    { name: 'QuarantinedRowConnection', fields: (tc) => ({ totalCount: tc.field({ type: 'NonNegativeInt', resolve: (c) => (c as unknown as { totalCount: number }).totalCount }) }) },
  ),
}));
