/** School: keyed, named (school names are public), with its sections and students in scope. */
import { schoolByKey, SCHOOL_ORDER } from '../resolvers/schools.ts';
import { sectionsBySchool } from '../resolvers/sections.ts';
import { studentsBySchool } from '../resolvers/students.ts';
import { builder } from './builder.ts';
import { nodeId, parseNodeId, SchoolRef, SectionRef, StudentRef, wrap, wrapOne } from './refs.ts';

export const SchoolOrderEnum = builder.enumType('SchoolOrder', {
  values: Object.keys(SCHOOL_ORDER) as Array<keyof typeof SCHOOL_ORDER>,
});

builder.node(SchoolRef, {
  description: 'A school of the district, as published in one snapshot.',
  id: { resolve: (s) => nodeId(s.d, s.row.school_key) },
  loadOne: async (id, ctx) => {
    const { snapshotId, key } = parseNodeId(id);
    const d = await ctx.data.byId(snapshotId);
    return wrapOne(d, await schoolByKey(d).load(key));
  },
  fields: (t) => ({
    tenant: t.string({ description: 'Tenant (district) the row belongs to.', resolve: (s) => s.row.tenant }),
    key: t.id({ description: 'School key (hash of tenant and school ID).', resolve: (s) => s.row.school_key }),
    schoolId: t.string({ description: 'State/district school ID.', resolve: (s) => s.row.school_id }),
    name: t.string({ resolve: (s) => s.row.school_name }),
    level: t.string({ nullable: true, resolve: (s) => s.row.school_level }),
    sections: t.field({
      type: [SectionRef],
      description: 'Sections of the school that the caller may see.',
      resolve: async (s) => wrap(s.d, await sectionsBySchool(s.d).load(s.row.school_key)),
    }),
    students: t.field({
      type: [StudentRef],
      description: 'Students of the school that the caller may see.',
      resolve: async (s) => wrap(s.d, await studentsBySchool(s.d).load(s.row.school_key)),
    }),
  }),
});
