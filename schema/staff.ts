/** Staff: keyed only; names are not published. */
import { sectionsByTeacher } from '../resolvers/sections.ts';
import { staffByKey } from '../resolvers/staff.ts';
import { builder } from './builder.ts';
import { nodeId, parseNodeId, SectionRef, StaffRef, wrap, wrapOne } from './refs.ts';

builder.node(StaffRef, {
  description: 'A staff member (keyed; no name is published).',
  id: { resolve: (s) => nodeId(s.d, s.row.staff_key) },
  loadOne: async (id, ctx) => {
    const { snapshotId, key } = parseNodeId(id);
    const d = await ctx.data.byId(snapshotId);
    return wrapOne(d, await staffByKey(d).load(key));
  },
  fields: (t) => ({
    tenant: t.string({ description: 'Tenant (district) the row belongs to.', resolve: (s) => s.row.tenant }),
    key: t.id({ resolve: (s) => s.row.staff_key }),
    sections: t.field({
      type: [SectionRef],
      description: 'Sections the staff member teaches (active associations) that the caller may see.',
      resolve: async (s) => wrap(s.d, await sectionsByTeacher(s.d).load(s.row.staff_key)),
    }),
  }),
});
