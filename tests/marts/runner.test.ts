import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Db, openInstance } from '../../src/db/duckdb.ts';
import { DEFAULT_SQL_DIR, loadProject, referencedRelations, topologicalOrder, withDependencies } from '../../pipeline/models/project.ts';
import { MetadataError } from '../../pipeline/models/metadata.ts';
import { type ModelResult, ModelError, buildInOrder, chunkRanges, runModels } from '../../pipeline/models/runner.ts';
import { DEFAULT_SEEDS_DIR } from '../../seeds/load.ts';
import { fitCalibration, writeCalibration } from '../../pipeline/predict/calibrate.ts';
import { TENANT, key, makeDistrict, writeDistrict } from './district.ts';

describe('the SQL project', () => {
  const project = loadProject();

  it('names follow the layer convention and every model has complete metadata', () => {
    const prefix: Record<string, string> = { build: 'bld_', dimension: 'dim_', fact: 'fct_', measure: 'msr_', view: 'v_' };
    for (const m of project.models.values()) {
      expect(m.name.startsWith(prefix[m.layer]!), m.name).toBe(true);
      expect(m.meta.columns.length).toBeGreaterThan(0);
      for (const c of m.meta.primary_key) expect(m.meta.columns.map((x) => x.name), `${m.name} key ${c}`).toContain(c);
    }
    for (const v of ['v_chronic_absenteeism_risk', 'v_wellbeing_risk_profiles', 'v_equity_outcomes', 'v_class_section_comparison', 'v_performance_correlations']) {
      expect(project.models.get(v)?.layer).toBe('view');
    }
  });

  it('the run order puts every model after what it reads', () => {
    const pos = new Map(project.order.map((n, k) => [n, k]));
    for (const m of project.models.values()) for (const d of m.dependsOn) expect(pos.get(d)!, `${d} before ${m.name}`).toBeLessThan(pos.get(m.name)!);
  });

  it('dependencies come from the SQL, ignoring comments and strings', () => {
    expect(referencedRelations(`-- marts.not_this\nSELECT 'marts.nor_this' FROM marts.fct_x /* marts.no */ JOIN refined.students s ON edlake_param('x') > 0`)).toEqual([
      'marts.fct_x',
      'refined.students',
      'seeds.parameters',
    ]);
  });

  it('a model runs with its dependencies alone', () => {
    const sel = withDependencies(project, ['v_chronic_absenteeism_risk']);
    // the measures read the runs of days and the days with an event, on integers (decisions 0203, 0209)
    expect(sel).toContain('bld_enrollment_segments');
    expect(sel).toContain('bld_attendance_event_days');
    expect(sel).not.toContain('fct_student_attendance_daily');
    expect(sel).toContain('bld_student_numbers');
    expect(sel).toContain('bld_calendar_days');
    expect(sel).not.toContain('v_equity_outcomes');
    expect(sel.at(-1)).toBe('v_chronic_absenteeism_risk');
    expect(() => withDependencies(project, ['nope'])).toThrow(/no model named "nope"/);
  });

  it('a dependency cycle is named', () => {
    const models = new Map([
      ['a', { name: 'a', dependsOn: ['b'] }],
      ['b', { name: 'b', dependsOn: ['c'] }],
      ['c', { name: 'c', dependsOn: ['a'] }],
      ['d', { name: 'd', dependsOn: [] }],
    ]);
    expect(() => topologicalOrder(models)).toThrow(/cycle among models: a → b → c → a/);
  });

  it('bad metadata stops with the file and the field', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'edlake-sql-'));
    try {
      cpSync(DEFAULT_SQL_DIR, dir, { recursive: true });
      const f = path.join(dir, 'dims', 'dim_school.yml');
      writeFileSync(f, readFileSync(f, 'utf8').replace('pii: none, edfi_domain: Education Organization, description: "Name of the school."', 'pii: secret, edfi_domain: Education Organization, description: "Name of the school."'));
      expect(() => loadProject(dir)).toThrow(MetadataError);
      expect(() => loadProject(dir)).toThrow(/dim_school\.yml: columns\.3\.pii/);
      rmSync(path.join(dir, 'dims', 'dim_school.yml'));
      expect(() => loadProject(dir)).toThrow(/dim_school\.sql: metadata file dim_school\.yml is missing/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a chunked model that is not a table, is chunked over a model it does not read, does not keep to its chunk or keeps to another column, and a model that calls edlake_in_chunk undeclared', () => {
    const cases: Array<[string, (yml: string, sql: string) => [string, string], RegExp]> = [
      ['view', (yml, sql) => [yml.replace(/^chunks:/m, 'materialized: view\nchunks:'), sql], /bld_attendance_event_days\.yml: chunks: only a table can be built in chunks, not a view/],
      ['over', (yml, sql) => [yml.replace('over: bld_student_numbers.student_num', 'over: dim_school.school_num'), sql], /chunks\.over: dim_school\.school_num is not a column of a model the SQL reads \(marts\.dim_school\)/],
      ['no macro', (yml, sql) => [yml, sql.replace(/edlake_in_chunk\([^()]*\)/g, 'true')], /bld_attendance_event_days\.yml: chunks: the SQL must keep its rows to the chunk with edlake_in_chunk/],
      ['undeclared', (yml, sql) => [yml.replace(/^chunks:.*\n/m, ''), sql], /bld_attendance_event_days\.yml: the SQL calls edlake_in_chunk but the metadata declares no chunks/],
      ['other column', (yml, sql) => [yml, sql.replace('edlake_in_chunk(s.student_num)', 'edlake_in_chunk(c.school_num)')], /chunks: edlake_in_chunk\(c\.school_num\) must filter on student_num, the column of chunks\.over/],
    ];
    for (const [label, edit, message] of cases) {
      const dir = mkdtempSync(path.join(tmpdir(), 'edlake-sql-'));
      try {
        cpSync(DEFAULT_SQL_DIR, dir, { recursive: true });
        const yml = path.join(dir, 'build', 'bld_attendance_event_days.yml');
        const sql = path.join(dir, 'build', 'bld_attendance_event_days.sql');
        const [y, q] = edit(readFileSync(yml, 'utf8'), readFileSync(sql, 'utf8'));
        expect(y + q, `${label}: the edit applies`).not.toBe(readFileSync(yml, 'utf8') + readFileSync(sql, 'utf8'));
        writeFileSync(yml, y);
        writeFileSync(sql, q);
        expect(() => loadProject(dir), label).toThrow(message);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});

describe('chunk ranges', () => {
  it('split the column into ceil(rows / rows_per_chunk) contiguous ranges of near-equal size that cover min..max', async () => {
    const db = await Db.open(':memory:');
    try {
      await db.run(`CREATE SCHEMA marts`);
      await db.run(`CREATE TABLE marts.nums AS SELECT (range + 1)::INTEGER AS n FROM range(10)`);
      expect(await chunkRanges(db, { over: 'nums.n', rows_per_chunk: 3 })).toEqual([
        { from: 1, to: 3 },
        { from: 3, to: 6 },
        { from: 6, to: 8 },
        { from: 8, to: 11 },
      ]);
      expect(await chunkRanges(db, { over: 'nums.n', rows_per_chunk: 10 })).toEqual([{ from: 1, to: 11 }]);
      expect(await chunkRanges(db, { over: 'nums.n', rows_per_chunk: 1 })).toHaveLength(10);
      await db.run(`DELETE FROM marts.nums`);
      expect(await chunkRanges(db, { over: 'nums.n', rows_per_chunk: 3 })).toEqual([{ from: 0, to: 0 }]);
    } finally {
      db.close();
    }
  });
});

describe('models built at once (decision 0208)', () => {
  const project = loadProject();
  const names = project.order;
  /** A build that takes `ms` and logs its start and end, on a fake connection numbered by the pool. */
  function timedBuild(events: Array<{ at: 'start' | 'end'; name: string; conn: unknown }>, fail?: string) {
    return async (conn: Db, m: { name: string; layer: string }): Promise<ModelResult> => {
      events.push({ at: 'start', name: m.name, conn });
      await new Promise((r) => setTimeout(r, 5 + (m.name.length % 4) * 3));
      events.push({ at: 'end', name: m.name, conn });
      if (m.name === fail) throw new Error(`${m.name} broke`);
      return { name: m.name, layer: m.layer, ms: 1, rows: 1 };
    };
  }
  const conns = [{ id: 1 }, { id: 2 }] as unknown as Db[];

  it('starts a model only after what it reads, runs two at once on separate connections, and a chunked model alone', async () => {
    const events: Array<{ at: 'start' | 'end'; name: string; conn: unknown }> = [];
    const done: string[] = [];
    const built = await buildInOrder(project, names, conns, (m) => done.push(m.name), timedBuild(events));
    expect([...built.keys()].sort()).toEqual([...names].sort());
    expect(done.sort()).toEqual([...names].sort());
    const running = new Map<string, unknown>();
    let overlapped = false;
    const ended = new Set<string>();
    const chunked = names.filter((n) => project.models.get(n)!.meta.chunks);
    expect(chunked).toContain('bld_attendance_event_days');
    for (const e of events) {
      if (e.at === 'start') {
        for (const d of project.models.get(e.name)!.dependsOn) expect(ended.has(d), `${d} built before ${e.name} starts`).toBe(true);
        // never two models on one connection, never more than two at once
        expect([...running.values()]).not.toContain(e.conn);
        running.set(e.name, e.conn);
        expect(running.size).toBeLessThanOrEqual(2);
        if (running.size === 2) overlapped = true;
        if ([...running.keys()].some((n) => chunked.includes(n))) expect(running.size, `${[...running.keys()].join(', ')} with a chunked model`).toBe(1);
      } else {
        running.delete(e.name);
        ended.add(e.name);
      }
    }
    expect(overlapped).toBe(true);
  });

  it('after a failure starts nothing new, lets the model in flight finish, and throws the failure', async () => {
    const events: Array<{ at: 'start' | 'end'; name: string; conn: unknown }> = [];
    const fail = 'dim_school';
    const err = await buildInOrder(project, names, conns, () => {}, timedBuild(events, fail)).catch((e: unknown) => e);
    expect((err as Error).message).toBe('dim_school broke');
    const failedAt = events.findIndex((e) => e.at === 'end' && e.name === fail);
    expect(events.slice(failedAt + 1).filter((e) => e.at === 'start')).toEqual([]);
    // every model that started also ended before the error came back
    const starts = events.filter((e) => e.at === 'start').map((e) => e.name).sort();
    expect(events.filter((e) => e.at === 'end').map((e) => e.name).sort()).toEqual(starts);
    expect(starts.length).toBeLessThan(names.length);
  });

  it('builds the same marts on two connections as on one', async () => {
    const instance = await openInstance(':memory:');
    const db = new Db(await instance.connect());
    try {
      await writeDistrict(db, makeDistrict());
      const one = await runModels(db, { commit: 'each-model' });
      const tables = ['bld_enrollment_segments', 'bld_attendance_event_days', 'msr_student_attendance', 'v_chronic_absenteeism_risk', 'v_equity_outcomes', 'v_class_section_comparison', 'v_performance_correlations', 'v_wellbeing_risk_profiles'];
      for (const t of tables) await db.run(`CREATE OR REPLACE TEMP TABLE ${t}_one AS SELECT * FROM marts.${t}`);
      const two = await runModels(db, { commit: 'each-model', concurrency: 2, connect: async () => new Db(await instance.connect()) });
      expect(two.models.map((m) => m.name)).toEqual(one.models.map((m) => m.name));
      expect(two.models.map((m) => m.rows)).toEqual(one.models.map((m) => m.rows));
      expect(two.blocked).toBe(false);
      for (const t of tables) {
        // doubles to 9 decimals: a parallel sum's last digits differ between any two runs
        const cols = await db.all<{ c: string; ty: string }>(`SELECT column_name AS c, data_type AS ty FROM information_schema.columns WHERE table_schema = 'marts' AND table_name = $1 ORDER BY ordinal_position`, [t]);
        const list = cols.map(({ c, ty }) => (ty === 'DOUBLE' ? `round("${c}", 9)` : `"${c}"`)).join(', ');
        const diff = await db.scalar<number>(
          `SELECT count(*) FROM ((SELECT ${list} FROM ${t}_one EXCEPT ALL SELECT ${list} FROM marts.${t}) UNION ALL (SELECT ${list} FROM marts.${t} EXCEPT ALL SELECT ${list} FROM ${t}_one))`,
        );
        expect(diff, t).toBe(0);
      }
      await expect(runModels(db, { commit: 'each-model', concurrency: 2 })).rejects.toThrow(/concurrency above 1 needs connect/);
    } finally {
      db.close();
    }
  });
});

describe('runner behaviour', () => {
  let db: Db;
  let instance: Awaited<ReturnType<typeof openInstance>>;
  beforeAll(async () => {
    instance = await openInstance(':memory:');
    db = new Db(await instance.connect());
    await writeDistrict(db, makeDistrict());
  });
  afterAll(() => db.close());

  it('runs a selection with its dependencies and records rows and durations', async () => {
    // since decision 0203 the measures no longer read the published fact, so it is selected beside them
    const r = await runModels(db, { select: ['msr_student_attendance', 'fct_student_attendance_daily'] });
    expect(r.models.map((m) => m.name)).toEqual(withDependencies(loadProject(), ['msr_student_attendance', 'fct_student_attendance_daily']));
    const fact = r.models.find((m) => m.name === 'fct_student_attendance_daily')!;
    expect(fact.rows).toBe(await db.scalar<number>(`SELECT count(*) FROM marts.fct_student_attendance_daily`));
    expect(r.tests.every((t) => r.models.some((m) => t.model === m.name))).toBe(true);
  });

  /**
   * A build whose last view fails after dim_school was rebuilt with one school fewer (dim_course,
   * which reads only refined tables, may be ordered before dim_school: a failure there proves
   * nothing). Returns the error and dim_school's row count before the build.
   */
  async function buildWithFailingView(commit: 'once' | 'each-model'): Promise<{ err: unknown; before: number }> {
    await runModels(db, { select: ['dim_school'] });
    const before = (await db.scalar<number>(`SELECT count(*) FROM marts.dim_school`))!;
    const dir = mkdtempSync(path.join(tmpdir(), 'edlake-sql-'));
    try {
      cpSync(DEFAULT_SQL_DIR, dir, { recursive: true });
      writeFileSync(path.join(dir, 'views', 'v_performance_correlations.sql'), 'SELECT no_such_column FROM marts.dim_school');
      await db.run('DELETE FROM refined.schools WHERE school_id = $1', ['6000002']);
      return { err: await runModels(db, { sqlDir: dir, commit }).catch((e: unknown) => e), before };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('a failing model rolls the whole build back and names the model and its file', async () => {
    try {
      const { err, before } = await buildWithFailingView('once');
      expect(err).toBeInstanceOf(ModelError);
      expect((err as ModelError).model).toBe('v_performance_correlations');
      expect((err as Error).message).toMatch(/v_performance_correlations\.sql/);
      // dim_school was rebuilt (one school fewer) before the view failed, and rolled back
      expect(await db.scalar<number>(`SELECT count(*) FROM marts.dim_school`)).toBe(before);
    } finally {
      await writeDistrict(db, makeDistrict());
    }
  });

  it('with commit each-model, a failing model keeps the models built before it (for a database the caller discards)', async () => {
    try {
      const { err, before } = await buildWithFailingView('each-model');
      expect((err as ModelError).model).toBe('v_performance_correlations');
      // dim_school was rebuilt with one school fewer and committed before the view failed
      expect(await db.scalar<number>(`SELECT count(*) FROM marts.dim_school`)).toBe(before - 1);
      // the connection is usable: no transaction was left open
      await db.run('BEGIN TRANSACTION');
      await db.run('ROLLBACK');
    } finally {
      await writeDistrict(db, makeDistrict());
    }
  });

  it('builds the days with an attendance event in chunks of students with the same rows as in one statement', async () => {
    const one = await runModels(db, { select: ['bld_attendance_event_days'], skipTests: true });
    expect(one.models.find((m) => m.name === 'bld_attendance_event_days')?.chunks).toBe(1);
    await db.run(`CREATE OR REPLACE TEMP TABLE days_one AS SELECT * FROM marts.bld_attendance_event_days`);
    const students = (await db.scalar<number>(`SELECT count(*) FROM marts.bld_student_numbers`))!;
    const dir = mkdtempSync(path.join(tmpdir(), 'edlake-sql-'));
    try {
      cpSync(DEFAULT_SQL_DIR, dir, { recursive: true });
      const yml = path.join(dir, 'build', 'bld_attendance_event_days.yml');
      writeFileSync(yml, readFileSync(yml, 'utf8').replace(/rows_per_chunk: \d+/, 'rows_per_chunk: 7'));
      // as the pipeline builds: each chunk committed on its own, beside other models on a second connection
      const r = await runModels(db, {
        sqlDir: dir,
        select: ['bld_attendance_event_days'],
        skipTests: true,
        commit: 'each-model',
        concurrency: 2,
        connect: async () => new Db(await instance.connect()),
      });
      expect(r.models.find((m) => m.name === 'bld_attendance_event_days')?.chunks).toBe(Math.ceil(students / 7));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const count = (t: string) => db.scalar<number>(`SELECT count(*) FROM ${t}`);
    // the test district's students all have events on their days
    expect(await count('days_one')).toBeGreaterThan(students);
    expect(await count('(SELECT * FROM days_one EXCEPT ALL SELECT * FROM marts.bld_attendance_event_days)')).toBe(0);
    expect(await count('(SELECT * FROM marts.bld_attendance_event_days EXCEPT ALL SELECT * FROM days_one)')).toBe(0);
    // the variables are reset after the model: the macro selects nothing outside a chunked build
    expect(await db.scalar<number>(`SELECT count(*) FROM marts.bld_student_numbers WHERE edlake_in_chunk(student_num)`)).toBe(0);
  });

  it('builds a model declared materialized: view as a view, replacing a table of that name from an earlier build, and back', async () => {
    const kind = () => db.scalar<string>(`SELECT table_type FROM information_schema.tables WHERE table_schema = 'marts' AND table_name = 'fct_student_attendance_daily'`);
    // a working database built before the fact became a view
    await db.run(`CREATE SCHEMA IF NOT EXISTS marts`);
    await db.run(`DROP VIEW IF EXISTS marts.fct_student_attendance_daily`);
    await db.run(`CREATE OR REPLACE TABLE marts.fct_student_attendance_daily AS SELECT 1 AS x`);
    const r = await runModels(db, { select: ['fct_student_attendance_daily'], skipTests: true });
    expect(await kind()).toBe('VIEW');
    const days = await db.scalar<number>(`SELECT sum(days)::INTEGER FROM marts.bld_enrollment_segments`);
    expect(r.models.find((m) => m.name === 'fct_student_attendance_daily')?.rows).toBe(days);
    const dir = mkdtempSync(path.join(tmpdir(), 'edlake-sql-'));
    try {
      cpSync(DEFAULT_SQL_DIR, dir, { recursive: true });
      const yml = path.join(dir, 'facts', 'fct_student_attendance_daily.yml');
      writeFileSync(yml, readFileSync(yml, 'utf8').replace(/^materialized: view\n/m, ''));
      await runModels(db, { sqlDir: dir, select: ['fct_student_attendance_daily'], skipTests: true });
      expect(await kind()).toBe('BASE TABLE');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await runModels(db, { select: ['fct_student_attendance_daily'], skipTests: true });
    expect(await kind()).toBe('VIEW');
  });

  it('warns when a model’s row count changes by more than the configured share', async () => {
    await runModels(db);
    const before = (await db.scalar<number>(`SELECT count(*) FROM marts.fct_student_attendance_daily`))!;
    // half of the enrollments disappear from the refined layer (keys are hashes: an arbitrary half)
    await db.run(`DELETE FROM refined.student_school_associations WHERE student_key > $1`, ['8']);
    const r = await runModels(db);
    const after = (await db.scalar<number>(`SELECT count(*) FROM marts.fct_student_attendance_daily`))!;
    const share = Math.abs(after - before) / before;
    expect(share).toBeGreaterThan(0.25);
    const t = r.tests.find((x) => x.name === 'fct_student_attendance_daily.row_count_change')!;
    expect(t.severity).toBe('warn');
    expect(t.status).toBe('fail');
    expect(t.sample).toEqual([{ model: 'fct_student_attendance_daily', previous_rows: before, rows: after, change_share: Math.round(share * 10000) / 10000, limit_share: 0.25 }]);
    // a warning does not block publishing
    expect(r.tests.filter((x) => x.severity === 'error' && x.status === 'fail').map((x) => x.name)).toEqual([]);
    expect(r.blocked).toBe(false);
    await writeDistrict(db, makeDistrict());
  });
});

describe('calibration', () => {
  it('fits the link by least squares on prior state scores and makes the new version active', async () => {
    const db = await Db.open(':memory:');
    const seeds = mkdtempSync(path.join(tmpdir(), 'edlake-seeds-'));
    try {
      cpSync(DEFAULT_SEEDS_DIR, seeds, { recursive: true });
      const d = makeDistrict();
      await writeDistrict(db, d);
      await runModels(db, { seedsDir: seeds, skipTests: true });
      const report = await fitCalibration(db, 'cal-test');
      // Oracle: OLS of (prior + growth x elapsed) on the first MAP math score, grade 7.
      const link = report.links.find((l) => l.vendor === 'nwea_map' && l.subject === 'Math' && l.grade === 7 && l.window === 'Fall')!;
      expect(link.origin).toBe('fitted');
      const growth = report.predictions.find((p) => p.subject === 'Math' && p.grade === 7)!.growthPerYear;
      const first = new Map<string, { score: number; date: string }>();
      for (const r of d.results.filter((x) => x.assessment === 'MAP-MATH' && x.window === 'Fall')) {
        const f = first.get(r.student);
        if (!f || r.date < f.date) first.set(r.student, { score: r.score, date: r.date });
      }
      const firstDay = Date.parse('2025-09-02T00:00:00Z');
      const lastDay = Date.parse(`${(await db.scalar<string>(`SELECT last_instructional_date::VARCHAR FROM marts.bld_as_of`))!}T00:00:00Z`);
      const xs: number[] = [];
      const ys: number[] = [];
      for (const [s, f] of first) {
        const prior = d.results.find((x) => x.student === s && x.assessment === 'SBAC-MATH');
        if (!prior) continue;
        const elapsed = (Date.parse(`${f.date}T00:00:00Z`) - firstDay) / (lastDay - firstDay);
        xs.push(f.score);
        ys.push(prior.score + growth * elapsed);
      }
      const mx = xs.reduce((a, x) => a + x, 0) / xs.length;
      const my = ys.reduce((a, x) => a + x, 0) / ys.length;
      const slope = xs.reduce((a, x, k) => a + (x - mx) * (ys[k]! - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
      expect(link.n).toBe(xs.length);
      expect(Math.abs(link.slope - slope)).toBeLessThan(1e-9);
      expect(Math.abs(link.intercept - (my - slope * mx))).toBeLessThan(1e-6);
      expect(link.r2).toBeGreaterThan(0.5);
      // grades without history keep the previous version's link
      expect(report.links.find((l) => l.vendor === 'iready' && l.grade === 3 && l.window === null)!.origin).toBe('previous');
      expect(report.links.find((l) => l.vendor === 'nwea_map' && l.subject === 'Math' && l.grade === 7 && l.window === 'Winter')!.origin).toBe('fitted');

      writeCalibration(report, { seedsDir: seeds, method: 'test' });
      const r = await runModels(db, { seedsDir: seeds });
      expect(r.blocked).toBe(false);
      expect(await db.scalar(`SELECT DISTINCT model_version FROM marts.fct_predictions`)).toBe('cal-test');
      expect(await db.scalar(`SELECT count(*) FROM seeds.prediction_models WHERE is_active`)).toBe(1);
      expect(() => writeCalibration(report, { seedsDir: seeds, method: 'test' })).toThrow(/already exists/);
      expect(await db.scalar(`SELECT count(*) FROM marts.fct_predictions WHERE tenant = $1`, [TENANT])).toBeGreaterThan(0);
    } finally {
      rmSync(seeds, { recursive: true, force: true });
      db.close();
    }
  });
});

