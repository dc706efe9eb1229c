/**
 * The Pothos builder: scope-auth FIRST (its checks wrap every resolver before other plugins run),
 * then relay (nodes, connections). Scalars from graphql-scalars.
 */
import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import RelayPlugin from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import { DateResolver, DateTimeResolver, JSONResolver, NonNegativeFloatResolver, NonNegativeIntResolver } from 'graphql-scalars';
import { POLICY, type Role } from '../src/auth/roles.ts';
import type { RequestData } from '../resolvers/context.ts';

export interface GraphQLContext {
  data: RequestData;
}

export interface AuthScopes {
  /** raw tier: pipeline runs, quarantine (data engineers). */
  raw: boolean;
  /** student names joined for the caller's own students (teachers, principals). */
  namesInScope: boolean;
  /** audited re-identification (data stewards). */
  reidentify: boolean;
  /** any of the listed roles. */
  role: Role;
}

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  AuthScopes: AuthScopes;
  DefaultFieldNullability: false;
  Scalars: {
    Date: { Input: Date; Output: Date | string };
    DateTime: { Input: Date; Output: Date | string };
    NonNegativeInt: { Input: number; Output: number };
    NonNegativeFloat: { Input: number; Output: number };
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  plugins: [ScopeAuthPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (ctx) => {
      const role = ctx.data.viewer.role;
      const p = POLICY[role];
      return {
        raw: p.raw,
        namesInScope: p.names === 'in_scope',
        reidentify: p.names === 'reidentify',
        role: (r: Role) => r === role,
      };
    },
    unauthorizedError: (_parent, _ctx, info) =>
      new GraphQLError(`Forbidden: ${info.parentType.name}.${info.fieldName} is outside your role's tier`, {
        extensions: { code: 'FORBIDDEN' },
      }),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
  },
});

builder.addScalarType('Date', DateResolver);
builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('NonNegativeInt', NonNegativeIntResolver);
builder.addScalarType('NonNegativeFloat', NonNegativeFloatResolver);
builder.addScalarType('JSON', JSONResolver);

/** 'YYYY-MM-DD' of a Date scalar input (parsed at UTC midnight by graphql-scalars). */
export function dateArg(d: Date | null | undefined): string | undefined {
  return d ? d.toISOString().slice(0, 10) : undefined;
}
