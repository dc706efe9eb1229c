/**
 * The API under 50 concurrent clients (loopback, bounded in time) while a pipeline run publishes a new
 * snapshot in the middle: no error, every response wholly from the one snapshot it names (checked
 * against that snapshot's Parquet files with plain DuckDB), and the server's memory flat once warm.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANALYST_QUERY, gql, lakeCopy, serve, sharedDistrict, SnapshotOracle, spawnEdlake, token, type AnalystAnswer, type District, type Served } from './lib.ts';

const CLIENTS = 50;
const WARM_MS = 4_000;
const AFTER_MS = 6_000;
const MAX_MS = 150_000;

describe('50 concurrent clients while the pipeline publishes', () => {
  let dir: string;
  let district: District;
  let server: Served | undefined;
  beforeAll(async () => {
    district = await sharedDistrict();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edlake-load-'));
  }, 600_000);
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers every request from one whole snapshot, without error, with flat memory', async () => {
    const lake = lakeCopy(district.lake1, path.join(dir, 'lake'));
    server = await serve(lake);
    const s = server;
    const bearer = await token('data_analyst');
    const oracle = new SnapshotOracle(lake);
    const problems: string[] = [];
    const answers: Array<{ at: number; snapshot: number }> = [];
    const t0 = Date.now();
    let stop = false;
    const client = async () => {
      while (!stop) {
        try {
          const r = await gql(s.port, bearer, ANALYST_QUERY);
          if (r.status !== 200 || r.body.errors) problems.push(`HTTP ${r.status}: ${JSON.stringify(r.body.errors ?? r.body).slice(0, 300)}`);
          else {
            const a = (r.body.data as { published: AnalystAnswer }).published;
            answers.push({ at: Date.now() - t0, snapshot: Number(a.snapshot.id) });
            problems.push(...(await oracle.check(a)));
          }
        } catch (e) {
          problems.push(`request failed: ${(e as Error).message}`);
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, () => client());
    const rss: Array<{ at: number; kb: number }> = [];
    // a sample the server cannot give (it is gone: the test fails on its own checks) is not taken
    const sampler = setInterval(() => {
      try {
        rss.push({ at: Date.now() - t0, kb: s.rssKb() });
      } catch {
        clearInterval(sampler);
      }
    }, 500);

    // Warm up, then publish the next night while the clients keep asking.
    await new Promise((r) => setTimeout(r, WARM_MS));
    const rssWarm = s.rssKb();
    const run = spawnEdlake(['pipeline', 'run', '--landing', district.landing2, '--lake', lake, '--quiet']);
    const publishedAt = await Promise.race([
      run.done.then((r) => {
        expect(r.code, r.stderr).toBe(0);
        return Date.now() - t0;
      }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('pipeline run took longer than the bound')), MAX_MS)),
    ]);
    const switchedBy = Date.now() - t0;
    await new Promise((r) => setTimeout(r, AFTER_MS));
    const rssEnd = s.rssKb();
    stop = true;
    await Promise.all(clients);
    clearInterval(sampler);

    expect(problems.slice(0, 5)).toEqual([]);
    const before = answers.filter((a) => a.snapshot === 1);
    const after = answers.filter((a) => a.snapshot === 2);
    // The publish happened in the middle: answers from the old snapshot, then from the new one.
    expect(before.length).toBeGreaterThan(CLIENTS);
    expect(after.length).toBeGreaterThan(CLIENTS);
    expect(answers.filter((a) => a.at > switchedBy + 2_000).every((a) => a.snapshot === 2)).toBe(true);
    expect(await oracle.differ(1, 2)).toBeGreaterThan(0);
    // Memory: once warm, the server holds its RSS within a bound while serving (the new snapshot's
    // reader is opened in the window, so allow for one snapshot's worth), and it is not still growing
    // at the end (the last samples stay within 25% + 32 MB of those just after the switch: V8 grows its heap up to a major GC, so RSS saw-tooths; a 3-minute run of 50 clients plateaued at 440-500 MB).
    const mb = (kb: number) => Math.round(kb / 1024);
    const late = rss.filter((x) => x.at > publishedAt + 1_000).map((x) => x.kb);
    const info = `RSS warm ${mb(rssWarm)} MB, end ${mb(rssEnd)} MB, after publish ${late.map(mb).join(',')}; ${answers.length} answers in ${((Date.now() - t0) / 1000).toFixed(0)} s`;
    console.log(info);
    expect(rssEnd, info).toBeLessThan(rssWarm * 1.5 + 64 * 1024);
    expect(Math.max(...late.slice(-4)), info).toBeLessThan(Math.max(...late.slice(0, 4)) * 1.25 + 32 * 1024);
  }, MAX_MS + 120_000); // the publish may take up to MAX_MS (a loaded machine), plus the warm-up and the tail
});
