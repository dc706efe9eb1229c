import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/progress.ts';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 80, write: (s: string) => (chunks.push(s), true) } };
}

describe('progress reporter', () => {
  it('writes plain, throttled log lines when not a terminal', () => {
    const { chunks, stream } = sink(false);
    let t = 0;
    const p = createProgress({ stream, now: () => t, throttleMs: 1000 });
    p.stage('models', 3);
    p.item('dim_school', { rows: 12 });
    t = 100;
    p.item('dim_student', { rows: 3000 }); // throttled
    t = 200;
    p.item('v_equity_outcomes', { rows: 40 }); // last item: always shown
    t = 1500;
    p.done();
    const lines = chunks.join('').trim().split('\n');
    expect(chunks.every((c) => !c.includes('\r'))).toBe(true);
    expect(lines.map((l) => l.replace(/^\S+ /, ''))).toEqual([
      'stage models started (3 items)',
      'stage models 1/3 dim_school rows=12',
      'stage models 3/3 v_equity_outcomes rows=40',
      'stage models done in 1.5 s: 3 items, 3,052 rows',
    ]);
    expect(lines[0]).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it('rewrites one status line on a terminal and leaves finished stages above it', () => {
    const { chunks, stream } = sink(true);
    const p = createProgress({ stream, now: () => 0 });
    p.stage('publish', 2);
    p.item('marts.dim_school', { rows: 3 });
    p.done('snapshot 4');
    p.end();
    const out = chunks.join('');
    expect(out).toContain('\r\x1b[2K▸ publish 1/2  marts.dim_school  3 rows');
    expect(out).toContain('✓ stage publish done in 0 ms: 1 items, 3 rows; snapshot 4\n');
  });
});
