/** DDL derived from the contracts: the refined tables are created from the same declarations that are enforced. */
import { ident } from '../../src/db/duckdb.ts';
import { ENTITIES } from './entities.ts';
import { STANDARD_COLUMNS, type EntityContract } from './types.ts';

export function allColumns(e: EntityContract) {
  return [STANDARD_COLUMNS[0]!, ...e.columns, ...STANDARD_COLUMNS.slice(1)];
}

/** `CREATE TABLE IF NOT EXISTS refined.<entity> (...)` for one contract. */
export function createTableSql(e: EntityContract, schema = 'refined'): string {
  const cols = allColumns(e).map((c) => `  ${ident(c.name)} ${c.type}`);
  return `CREATE TABLE IF NOT EXISTS ${ident(schema)}.${ident(e.entity)} (\n${cols.join(',\n')}\n)`;
}

/** DDL for every refined table, in declaration order (referenced entities first). */
export function refinedDdl(schema = 'refined'): string[] {
  return [`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`, ...ENTITIES.map((e) => createTableSql(e, schema))];
}
