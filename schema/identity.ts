/** Viewer, and audited re-identification for data stewards. */
import { GraphQLError } from 'graphql';
import { builder } from './builder.ts';
import { tenantWide } from '../resolvers/scope.ts';

const ViewerRef = builder.objectRef<{ role: string; staffKey: string | undefined; scopeKind: string; tenant: string | null; schools: number; sections: number }>('Viewer').implement({
  description: 'Who the caller is, and the size of the scope the roster gives them.',
  fields: (t) => ({
    role: t.string({ resolve: (v) => v.role }),
    staffKey: t.id({ nullable: true, resolve: (v) => v.staffKey ?? null }),
    scope: t.string({ description: 'all (every tenant), tenant (one tenant, district-wide), schools or sections.', resolve: (v) => v.scopeKind }),
    tenant: t.string({ nullable: true, description: 'The tenant (district) whose rows the caller reads; null: every tenant of the lake.', resolve: (v) => v.tenant }),
    schools: t.field({ type: 'NonNegativeInt', description: 'Schools in scope (0 when the scope is the whole district).', resolve: (v) => v.schools }),
    sections: t.field({ type: 'NonNegativeInt', description: 'Sections in scope (teachers).', resolve: (v) => v.sections }),
  }),
});

const ReidentifiedRef = builder
  .objectRef<{ studentKey: string; studentUniqueId: string | null; firstName: string | null; lastName: string | null }>('ReidentifiedStudent')
  .implement({
    fields: (t) => ({
      studentKey: t.id({ resolve: (r) => r.studentKey }),
      studentUniqueId: t.string({ nullable: true, resolve: (r) => r.studentUniqueId }),
      firstName: t.string({ nullable: true, resolve: (r) => r.firstName }),
      lastName: t.string({ nullable: true, resolve: (r) => r.lastName }),
    }),
  });

builder.queryFields((t) => ({
  viewer: t.field({
    type: ViewerRef,
    resolve: async (_r, _a, ctx) => {
      const { scope } = await ctx.data.scope();
      return {
        role: ctx.data.viewer.role,
        staffKey: ctx.data.viewer.staffKey,
        scopeKind: tenantWide(scope) ? 'tenant' : scope.kind,
        tenant: scope.kind === 'all' ? null : (scope.tenant ?? null),
        schools: scope.kind === 'all' || tenantWide(scope) ? 0 : scope.schoolKeys.length,
        sections: scope.kind === 'sections' ? scope.sectionKeys.length : 0,
      };
    },
  }),
}));

builder.mutationType({
  fields: (t) => ({
    reidentify: t.field({
      type: ReidentifiedRef,
      nullable: true,
      authScopes: { reidentify: true },
      description: 'Re-identify a student (data stewards). The reason is required and the request is written to the append-only audit log before anything is returned.',
      args: {
        studentKey: t.arg.id({ required: true }),
        reason: t.arg.string({ required: true }),
      },
      resolve: async (_r, args, ctx) => {
        const reason = args.reason.trim();
        if (reason.length < 10) throw new GraphQLError('a reason of at least 10 characters is required', { extensions: { code: 'BAD_USER_INPUT' } });
        const key = String(args.studentKey);
        if (!/^[0-9a-f]{16,128}$/.test(key)) throw new GraphQLError('studentKey is not a student key', { extensions: { code: 'BAD_USER_INPUT' } });
        if (!ctx.data.identity) throw new GraphQLError('the identity store is not available', { extensions: { code: 'UNAVAILABLE' } });
        const v = ctx.data.viewer;
        return ctx.data.identity.reidentify(key, { subject: v.identity.subject ?? v.identity.staffId ?? v.identity.email, role: v.role, staffKey: v.staffKey }, reason, ctx.data.requestId);
      },
    }),
  }),
});
