import { describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.ts';
import { ENTITIES, allColumns, refinedDdl } from '../../pipeline/contracts/index.ts';

describe('refined contracts', () => {
  it('declare their primary keys among their columns and document every column', () => {
    for (const e of ENTITIES) {
      const names = new Set(allColumns(e).map((c) => c.name));
      for (const k of e.primaryKey) expect(names.has(k), `${e.entity}: key ${k} is not a column`).toBe(true);
      for (const c of allColumns(e)) expect(c.description.length, `${e.entity}.${c.name} has no description`).toBeGreaterThan(5);
      expect(names.size, `${e.entity} repeats a column`).toBe(allColumns(e).length);
    }
  });

  it('keep direct identifiers out of the refined layer', () => {
    const direct = ENTITIES.flatMap((e) => allColumns(e).filter((c) => c.pii === 'direct').map((c) => `${e.entity}.${c.name}`));
    expect(direct).toEqual([]);
    const suspicious = /(^|_)(first|last|middle)_?name|birth_date|email|phone|address|ssid|state_id/;
    for (const e of ENTITIES) for (const c of e.columns) expect(suspicious.test(c.name), `${e.entity}.${c.name}`).toBe(false);
  });

  it('reference entities and columns that exist, declared earlier', () => {
    const seen = new Map<string, Set<string>>();
    for (const e of ENTITIES) {
      seen.set(e.entity, new Set(allColumns(e).map((c) => c.name)));
      for (const c of e.columns) {
        if (!c.references) continue;
        const target = seen.get(c.references.entity);
        expect(target, `${e.entity}.${c.name} references ${c.references.entity}, not declared before it`).toBeDefined();
        expect(target!.has(c.references.column), `${e.entity}.${c.name} → ${c.references.entity}.${c.references.column}`).toBe(true);
      }
    }
  });

  it('create every refined table in DuckDB', async () => {
    const db = await Db.open(':memory:');
    for (const sql of refinedDdl()) await db.run(sql);
    const tables = await db.all<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = 'refined' order by table_name",
    );
    expect(tables.map((t) => t.table_name)).toEqual(ENTITIES.map((e) => e.entity).sort());
    db.close();
  });
});
