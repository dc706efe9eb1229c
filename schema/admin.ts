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
  description: 'A delivered row the contracts refused (raw tier). Offending values of PII columns (key, direct) and of fields that cannot be traced to a contract column are withheld: value null, valueRedacted true.',
  fields: (t) => ({
    runId: t.string({ nullable: true, description: 'The pipeline run that quarantined the row.', resolve: (q) => q.row.run_id }),
    file: t.string({ nullable: true, description: 'Delivered file, relative to the landing folder.', resolve: (q) => q.row.file }),
    rowNumber: t.int({ nullable: true, description: '1-based data row in the file (header not counted).', resolve: (q) => q.row.row_number }),
    source: t.string({ nullable: true, resolve: (q) => q.row.source }),
    entity: t.string({ nullable: true, description: 'Refined entity (contract) the row was for; identity for identity feeds.', resolve: (q) => q.row.entity }),
    field: t.string({ nullable: true, description: 'The field as delivered (header name).', resolve: (q) => q.row.field }),
    rule: t.string({ nullable: true, description: 'Reason code (src/quality/reasons.ts).', resolve: (q) => q.row.rule }),
    reason: t.string({ nullable: true, resolve: (q) => q.row.reason }),
    value: t.string({ nullable: true, description: 'The offending value, unless withheld.', resolve: (q) => q.row.value }),
    valueRedacted: t.boolean({ description: 'A value was delivered but is withheld (PII class key, direct or unknown).', resolve: (q) => q.row.value_redacted }),
    piiClass: t.string({ nullable: true, description: 'PII class of the field’s contract column: none, quasi, key, direct, or unknown.', resolve: (q) => q.row.pii_class }),
    deliveryDate: t.field({ type: 'Date', nullable: true, description: 'Delivery night of the file.', resolve: (q) => q.row.delivery_date }),
    deliveredAt: t.field({ type: 'DateTime', nullable: true, description: 'When the lake first saw the file.', resolve: (q) => q.row.delivered_at }),
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
      description:
        'Rows in quarantine as of this snapshot: every row the runs up to the one that published it refused (data engineers). Null when the snapshot has no quarantine file.',
      args: {
        source: t.arg.string({ required: false }),
        entity: t.arg.string({ required: false }),
        rule: t.arg.string({ required: false, description: 'Reason code, e.g. invalid_date.' }),
        runId: t.arg.string({ required: false }),
        file: t.arg.string({ required: false }),
      },
      resolve: async (d, args) => {
        const page = await listQuarantine(d, args, { source: args.source, entity: args.entity, rule: args.rule, runId: args.runId, file: args.file });
        return page ? connection(d, page) : null;
      },
    },
    { name: 'QuarantinedRowConnection', fields: (tc) => ({ totalCount: tc.field({ type: 'NonNegativeInt', resolve: (c) => (c as unknown as { totalCount: number }).totalCount }) }) },
  ),
}));
