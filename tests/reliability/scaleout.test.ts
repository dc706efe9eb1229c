/**
 * API replicas are stateless readers of the same snapshots (docs/scale-out.md): two `edlake serve`
 * processes on one lake keep answering while a pipeline run (another process) publishes, and both
 * then answer from the new snapshot without a restart. Every answer is checked against the Parquet
 * files of the snapshot it names, read with plain DuckDB.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANALYST_QUERY, gql, lakeCopy, serve, sharedDistrict, SnapshotOracle, spawnEdlake, token, type AnalystAnswer, type District, type Served } from './lib.ts';

describe('two API processes on one lake while the pipeline publishes', () => {
  let dir: string;
  let district: District;
  const servers: Served[] = [];
  beforeAll(async () => {
    district = await sharedDistrict();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edlake-scaleout-'));
  }, 600_000);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('both keep answering, then both answer from the new snapshot, without a restart', async () => {
    const lake = lakeCopy(district.lake1, path.join(dir, 'lake'));
    servers.push(...(await Promise.all([serve(lake), serve(lake)])));
    expect(servers[0]!.port).not.toBe(servers[1]!.port);
    const bearer = await token('data_analyst');
    const oracle = new SnapshotOracle(lake);
    const seen: number[][] = [[], []];
    const problems: string[] = [];
    let calls = 0;
    let publishing = true;
    const ask = async (i: number) => {
      const r = await gql(servers[i]!.port, bearer, ANALYST_QUERY);
      calls++;
      if (r.status !== 200 || r.body.errors) {
        problems.push(`server ${i}: HTTP ${r.status} ${JSON.stringify(r.body.errors ?? r.body)}`);
        return;
      }
      const a = (r.body.data as { published: AnalystAnswer }).published;
      seen[i]!.push(Number(a.snapshot.id));
      problems.push(...(await oracle.check(a)));
    };
    const loop = async (i: number) => {
      while (publishing) {
        await ask(i);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const loops = [loop(0), loop(1)];
    const run = spawnEdlake(['pipeline', 'run', '--landing', district.landing2, '--lake', lake, '--quiet']);
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    // Both pick up the new snapshot without a restart (they re-read CURRENT when it changes).
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && seen.some((s) => s[s.length - 1] !== 2)) await new Promise((r) => setTimeout(r, 200));
    publishing = false;
    await Promise.all(loops);
    await ask(0);
    await ask(1);
    expect(problems).toEqual([]);
    for (const s of seen) {
      expect(s[0]).toBe(1);
      expect(s[s.length - 1]).toBe(2);
      expect([...s].sort((a, b) => a - b)).toEqual(s); // never back to an older snapshot
    }
    // The two snapshots differ on the students' days, so an answer mixing them would have been caught.
    expect(await oracle.differ(1, 2)).toBeGreaterThan(0);
    expect(calls).toBeGreaterThan(10);
    for (const s of servers) expect(s.child.exitCode).toBeNull();
  });
});
