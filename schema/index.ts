/** Assembles the schema: imports every type file (each registers itself with the builder). */
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.ts';
import './snapshot.ts';
import './school.ts';
import './section.ts';
import './staff.ts';
import './student.ts';
import './assessment.ts';
import './views.ts';
import './published.ts';
import './aggregates.ts';
import './admin.ts';
import './identity.ts';

builder.queryType({});

let built: GraphQLSchema | undefined;

export function buildSchema(): GraphQLSchema {
  built ??= builder.toSchema({ sortSchema: true });
  return built;
}

/** The SDL committed in schema/schema.graphql (a test fails when it drifts). */
export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(buildSchema()))}\n`;
}
