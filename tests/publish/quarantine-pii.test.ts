/**
 * PII class of quarantined values (decision 0608), checked over every source layout against the
 * contracts: a delivered field that feeds a direct or key column, an identity feed or a student ID
 * is never shown; fields nobody maps are withheld too (deny by default).
 */
import { describe, expect, it } from 'vitest';
import { quarantinePiiClass, SHOWN_CLASSES } from '../../pipeline/publish/quarantine.ts';
import { allLayouts } from '../../pipeline/sources/index.ts';
import { entity } from '../../pipeline/contracts/index.ts';

describe('quarantine PII classes', () => {
  it('withholds identity feeds, student IDs and direct/key columns of every layout; shows plain columns', async () => {
    let direct = 0;
    let plain = 0;
    for (const { layout } of allLayouts()) {
      const header = (logical: string) => layout.columns[logical]?.[0] ?? logical;
      for (const feed of layout.identity ?? []) {
        for (const l of [feed.firstName, feed.lastName, feed.birthDate, feed.email, feed.phone, feed.stateId].filter((x): x is string => x !== undefined)) {
          expect(SHOWN_CLASSES.has(quarantinePiiClass({ layout: layout.id, entity: 'identity', field: header(l), rule: 'invalid_value' })), `${layout.id} ${l}`).toBe(false);
          // the same header quarantined for an entity: still personal
          for (const m of layout.mappings) expect(SHOWN_CLASSES.has(quarantinePiiClass({ layout: layout.id, entity: m.entity, field: header(l), rule: 'invalid_value' })), `${layout.id} ${m.entity} ${l}`).toBe(false);
          direct++;
        }
      }
      for (const c of layout.student?.candidates ?? []) {
        for (const m of layout.mappings) expect(SHOWN_CLASSES.has(quarantinePiiClass({ layout: layout.id, entity: m.entity, field: header(c), rule: 'missing_required' })), `${layout.id} ${c}`).toBe(false);
      }
      for (const m of layout.mappings) {
        const contract = entity(m.entity);
        for (const [col, e] of Object.entries(m.fields)) {
          if (typeof e !== 'string') continue;
          const c = contract.columns.find((x) => x.name === col);
          if (!c) continue;
          const cls = quarantinePiiClass({ layout: layout.id, entity: m.entity, field: header(e), rule: 'invalid_value' });
          if (c.pii === 'direct' || c.pii === 'key') expect(SHOWN_CLASSES.has(cls), `${layout.id} ${col}`).toBe(false);
          if (c.pii === 'none' && cls === 'none') plain++;
        }
      }
    }
    expect(direct).toBeGreaterThan(3);
    expect(plain).toBeGreaterThan(10);
    expect(quarantinePiiClass({ layout: 'no.such.layout', entity: 'sections', field: 'x', rule: 'invalid_value' })).toBe('unknown');
    expect(quarantinePiiClass({ layout: allLayouts()[0]!.layout.id, entity: null, field: 'NotAColumnAnywhere', rule: 'invalid_value' })).toBe('unknown');
    expect(quarantinePiiClass({ layout: null, entity: 'sections', field: 'x', rule: 'unknown_student' })).toBe('key');
  });
});
