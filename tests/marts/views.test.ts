import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Db, type Row } from '../../src/db/duckdb.ts';
import { runModels, type RunModelsResult } from '../../pipeline/models/runner.ts';
import { S1, S2, TENANT, instructionalDay, key, makeDistrict, writeDistrict, type District } from './district.ts';
import { attendanceMarkCorrelation, chronicRisk, equityRow, mathPrediction, sectionComparison, tierOf } from './oracle.ts';

const close = (a: unknown, b: number, eps = 1e-9) => {
  expect(typeof a).toBe('number');
  expect(Math.abs((a as number) - b)).toBeLessThan(eps);
};
const schoolKey = async (db: Db, school: string) => (await db.scalar<string>(`SELECT edlake_key($1, [$2])`, [TENANT, school]))!;

describe('marts on a hand-made district (oracle computed in TypeScript)', () => {
  let db: Db;
  let d: District;
  let run: RunModelsResult;
  beforeAll(async () => {
    db = await Db.open(':memory:');
    d = makeDistrict();
    await writeDistrict(db, d);
    run = await runModels(db);
  });
  afterAll(() => db.close());

  it('builds every model, passes the error-severity data tests and is publishable', () => {
    const broken = run.tests.filter((t) => t.severity === 'error' && t.status !== 'pass' && t.status !== 'skipped');
    expect(broken.map((t) => `${t.name}: ${t.message ?? JSON.stringify(t.sample[0])}`)).toEqual([]);
    expect(run.blocked).toBe(false);
    expect(run.models.length).toBeGreaterThanOrEqual(30);
    for (const m of run.models) expect(m.ms).toBeGreaterThanOrEqual(0);
  });

  it('reports the unmapped attendance code and submission status as a warning without blocking', () => {
    const t = run.tests.find((x) => x.name === 'project.unmapped_descriptors')!;
    expect(t.severity).toBe('warn');
    expect(t.status).toBe('fail');
    expect(t.sample).toContainEqual(expect.objectContaining({ descriptor_type: 'AttendanceEventCategoryDescriptor', descriptor_value: 'ZZ' }));
    expect(t.sample).toContainEqual(expect.objectContaining({ descriptor_type: 'SubmissionStatusDescriptor', descriptor_value: 'excused' }));
    // everything else the fixture delivers is mapped (several capitalisations and namespaces)
    expect(t.failures).toBe(2);
  });

  it('chronic absenteeism risk: every enrolled student agrees with the oracle', async () => {
    const expected = chronicRisk(d);
    const rows = await db.all<Row>(`SELECT * FROM marts.v_chronic_absenteeism_risk`);
    expect(rows.length).toBe(expected.size);
    const byKey = new Map(rows.map((r) => [r['student_key'] as string, r]));
    for (const [name, e] of expected) {
      const r = byKey.get(key(name));
      expect(r, name).toBeDefined();
      expect(r!['days_enrolled'], name).toBe(e.daysEnrolled);
      close(r!['days_absent'], e.daysAbsent);
      close(r!['attendance_rate'], e.attendanceRate);
      close(r!['absence_rate_30d'], e.absenceRate30);
      expect(r!['longest_absence_streak'], name).toBe(e.streak);
      expect(r!['tier_code'], name).toBe(e.tier);
      expect(r!['is_chronically_absent'], name).toBe(e.chronic);
      expect(r!['trend'], name).toBe(e.trend);
      close(r!['projected_absence_rate_eoy'], e.projected);
      expect(r!['school_key']).toBe(await schoolKey(db, e.school));
    }
    // the designed cases, spelled out
    expect(expected.get('A')!.streak).toBe(5);
    expect(expected.has('E')).toBe(false); // exited: not in the view
    expect(byKey.has(key('E'))).toBe(false);
    expect(expected.get('D')!.chronic).toBe(false); // 23.8 % absent but only 21 days enrolled
    expect(expected.get('D')!.tier).toBe('severe_chronic');
    expect(expected.get('C')!.daysEnrolled).toBe(48); // transfer: 20 days at S1 + 28 at S2
  });

  it('the measures built on integer keys equal aggregates of the published daily fact (decision 0203)', async () => {
    // per student and per school and student: the current year's rows of fct_student_attendance_daily,
    // aggregated here on the published keys; the measures must hold exactly these figures
    const diff = await db.all(`
      WITH f AS (SELECT f.* FROM marts.fct_student_attendance_daily f JOIN marts.bld_as_of a ON a.tenant = f.tenant AND a.school_year = f.school_year),
      s AS (SELECT tenant, student_key, count(*) AS days_enrolled, sum(absent_fraction) AS days_absent, min(calendar_date) AS first_day, max(calendar_date) AS last_day FROM f GROUP BY ALL)
      SELECT s.*, m.days_enrolled AS m_days, m.days_absent AS m_absent FROM s FULL JOIN marts.msr_student_attendance m USING (tenant, student_key)
      WHERE m.days_enrolled IS DISTINCT FROM s.days_enrolled OR abs(m.days_absent - s.days_absent) > 1e-9 OR m.days_absent IS NULL OR s.days_absent IS NULL
         OR m.first_enrolled_date IS DISTINCT FROM s.first_day OR m.last_enrolled_date IS DISTINCT FROM s.last_day`);
    expect(diff).toEqual([]);
    const diffSchool = await db.all(`
      WITH f AS (SELECT f.* FROM marts.fct_student_attendance_daily f JOIN marts.bld_as_of a ON a.tenant = f.tenant AND a.school_year = f.school_year),
      s AS (SELECT tenant, school_key, school_id, student_key, count(*) AS days_enrolled, sum(absent_fraction) AS days_absent FROM f GROUP BY ALL)
      SELECT * FROM s FULL JOIN marts.msr_school_student_attendance m USING (tenant, school_key, school_id, student_key)
      WHERE m.days_enrolled IS DISTINCT FROM s.days_enrolled OR m.days_absent IS DISTINCT FROM s.days_absent`);
    expect(diffSchool).toEqual([]);
    // day numbers (from the runs' offsets, no sort): each student's row number in date order within
    // the year, counted here on the published fact, for every day with an event and every run's first day
    const misnumbered = await db.all(`
      WITH f AS (SELECT n.student_num, f.calendar_date,
                        row_number() OVER (PARTITION BY f.tenant, f.student_key, f.school_year ORDER BY f.calendar_date) AS expected
                 FROM marts.fct_student_attendance_daily f JOIN marts.bld_student_numbers n USING (tenant, student_key))
      SELECT 'event day' AS what, a.student_num, a.calendar_date, a.day_number, f.expected
      FROM marts.bld_attendance_event_days a LEFT JOIN f USING (student_num, calendar_date)
      WHERE a.day_number IS DISTINCT FROM f.expected
      UNION ALL
      SELECT 'run', g.student_num, g.first_date, g.first_day_number, f.expected
      FROM marts.bld_enrollment_segments g LEFT JOIN f ON f.student_num = g.student_num AND f.calendar_date = g.first_date
      WHERE g.first_day_number IS DISTINCT FROM f.expected`);
    expect(misnumbered).toEqual([]);
    // the day numbers were checked on days with events, and on runs after the first
    expect(await db.scalar<number>(`SELECT count(*) FROM marts.bld_attendance_event_days WHERE day_number > 1`)).toBeGreaterThan(0);
    expect(await db.scalar<number>(`SELECT count(*) FROM marts.bld_enrollment_segments WHERE first_day_number > 1`)).toBeGreaterThan(0);
    // every day of the fact belongs to exactly one enrollment
    const enrolled = await db.scalar<number>(`SELECT sum(days_enrolled) FROM marts.fct_enrollment`);
    expect(enrolled).toBe(await db.scalar<number>(`SELECT count(*) FROM marts.fct_student_attendance_daily`));
    expect(await db.scalar<number>(`SELECT count(*) FROM marts.msr_student_attendance`)).toBeGreaterThan(0);
  });

  it('no student is counted twice in a day, even with overlapping enrollments', async () => {
    const dup = await db.scalar<number>(`SELECT count(*) FROM (SELECT student_key, calendar_date FROM marts.fct_student_attendance_daily GROUP BY ALL HAVING count(*) > 1)`);
    expect(dup).toBe(0);
    const f = await db.all(`SELECT school_id, count(*) AS n FROM marts.fct_student_attendance_daily WHERE student_key = $1 GROUP BY 1 ORDER BY 1`, [key('F')]);
    expect(f).toEqual([
      { school_id: S1, n: 11 }, // days 1-9 and 49-50 (S2 has not submitted them)
      { school_id: S2, n: 39 }, // days 10-48
    ]);
    // the transfer's two enrollments carry their own days
    expect(await db.all(`SELECT school_id, days_enrolled FROM marts.fct_enrollment WHERE student_key = $1 ORDER BY entry_date`, [key('C')])).toEqual([
      { school_id: S1, days_enrolled: 20 },
      { school_id: S2, days_enrolled: 28 },
    ]);
  });

  it('equity outcomes: a school x group row and the district row agree with the oracle', async () => {
    const s1 = await schoolKey(db, S1);
    for (const [scope, group] of [[{ school: S1 }, 'ALL'], [{ school: S1 }, 'SED'], ['district', 'ALL'], ['district', 'EL']] as const) {
      const e = equityRow(d, scope, group);
      const r = await db.one<Row>(
        `SELECT * FROM marts.v_equity_outcomes WHERE scope = $1 AND school_key IS NOT DISTINCT FROM $2 AND group_code = $3`,
        [scope === 'district' ? 'district' : 'school', scope === 'district' ? null : s1, group],
      );
      expect(r, `${JSON.stringify(scope)} ${group}`).toBeDefined();
      expect(r!['students']).toBe(e.students);
      close(r!['attendance_rate'], e.attendanceRate);
      if (e.chronicRate === null) expect(r!['chronic_absence_rate']).toBeNull();
      else close(r!['chronic_absence_rate'], e.chronicRate);
      close(r!['suspension_rate'], e.suspensionRate);
      expect(r!['is_suppressed']).toBe(e.students <= 10);
    }
    const all = equityRow(d, { school: S1 }, 'ALL');
    const sed = equityRow(d, { school: S1 }, 'SED');
    const gap = await db.scalar<number>(`SELECT attendance_rate_gap_to_all FROM marts.v_equity_outcomes WHERE scope = 'school' AND school_key = $1 AND group_code = 'SED'`, [s1]);
    close(gap, sed.attendanceRate - all.attendanceRate);
  });

  it('class section comparison: the section with low marks stands apart from its peers', async () => {
    for (const measure of ['mean_course_mark', 'lms_submission_rate'] as const) {
      const e = sectionComparison(d, 'M1', measure);
      const r = await db.one<Row>(`SELECT * FROM marts.v_class_section_comparison WHERE section_key = $1`, [key('M1')]);
      expect(r!['students']).toBe(e.students);
      expect(r!['peer_sections']).toBe(3);
      close(r![measure], e.value);
      close(r![`${measure}_peer_mean`], e.peerMean);
      close(r![`${measure}_z`], e.z);
      expect((r!['measures_apart'] as string[]).includes(measure)).toBe(Math.abs(e.z) >= 2);
    }
    const m1 = sectionComparison(d, 'M1', 'mean_course_mark');
    expect(m1.z).toBeLessThan(-2); // the fixture's section effect
    expect(await db.scalar(`SELECT stands_apart FROM marts.v_class_section_comparison WHERE section_key = $1`, [key('M1')])).toBe(m1.students >= 10);
    expect(await db.scalar(`SELECT teacher_staff_key FROM marts.v_class_section_comparison WHERE section_key = $1`, [key('M1')])).toBe(key('T1'));
  });

  it('performance correlations: attendance rate against course mark at a school', async () => {
    const e = attendanceMarkCorrelation(d, S1);
    const r = await db.one<Row>(
      `SELECT * FROM marts.v_performance_correlations WHERE school_key = $1 AND grade_band = 'Middle (6-8)' AND measure = 'attendance_rate' AND outcome = 'course_mark'`,
      [await schoolKey(db, S1)],
    );
    expect(r!['n']).toBe(e.n);
    close(r!['r'], e.r, 1e-9);
    close(r!['r_ci_low'], e.low, 1e-9);
    close(r!['r_ci_high'], e.high, 1e-9);
    close(r!['slope'], e.slope, 1e-6);
  });

  it('predictions: predicted score, error, level and probability of Met follow the model', async () => {
    for (const s of ['P0', 'P5', 'D']) {
      const e = mathPrediction(d, s);
      const r = await db.one<Row>(`SELECT * FROM marts.fct_predictions WHERE student_key = $1 AND subject = 'Math'`, [key(s)]);
      close(r!['predicted_scale_score'], e.predicted, 1e-6);
      close(r!['standard_error'], e.se);
      expect(r!['predicted_level']).toBe(e.level);
      close(r!['probability_met'], e.pMet, 1e-6);
      expect(r!['model_version']).toBe(e.model);
    }
    // D has no prior score: the larger standard error
    const seD = await db.scalar<number>(`SELECT standard_error FROM marts.fct_predictions WHERE student_key = $1 AND subject = 'Math'`, [key('D')]);
    const seP = await db.scalar<number>(`SELECT standard_error FROM marts.fct_predictions WHERE student_key = $1 AND subject = 'Math'`, [key('P0')]);
    expect(seD!).toBeGreaterThan(seP!);
  });

  it('well-being risk profiles: indicators from the seeds and the reasons behind the score', async () => {
    const p2 = await db.one<Row>(`SELECT * FROM marts.v_wellbeing_risk_profiles WHERE student_key = $1`, [key('P2')]);
    expect(p2!['state_offenses']).toBe(1);
    expect(p2!['behavior_level']).toBe('at_risk'); // any state-reportable offense
    expect(p2!['reasons']).toContain('state-reportable offense or conduct offenses above the at-risk threshold');
    const p4 = await db.one<Row>(`SELECT * FROM marts.v_wellbeing_risk_profiles WHERE student_key = $1`, [key('P4')]);
    expect(p4!['conduct_offenses']).toBe(3);
    expect(p4!['behavior_level']).toBe('warning'); // more than 2, not more than 5
    // risk score = sum of the component points listed by the reasons (the seed weights)
    const rows = await db.all<{ risk_score: number; reasons: string[]; attendance_rate: number | null; attendance_level: string | null }>(
      `SELECT risk_score, reasons, attendance_rate, attendance_level FROM marts.v_wellbeing_risk_profiles`,
    );
    const points = new Map((await db.all<{ reason: string; points: number }>(`SELECT reason, points FROM seeds.risk_weights`)).map((w) => [w.reason, w.points]));
    for (const r of rows) {
      expect(r.risk_score).toBe(Math.min(100, r.reasons.reduce((a, x) => a + points.get(x)!, 0)));
      const expectedLevel = r.attendance_rate === null ? null : r.attendance_rate < 0.8 ? 'at_risk' : r.attendance_rate < 0.88 ? 'warning' : null;
      expect(r.attendance_level).toBe(expectedLevel);
    }
  });
});

describe('newly entered a worse tier since the previous snapshot', () => {
  it('compares with the tiers recorded by the previous publishable run', async () => {
    const db = await Db.open(':memory:');
    const night1 = makeDistrict({ throughDay: 30 });
    await writeDistrict(db, night1);
    const r1 = await runModels(db);
    expect(r1.blocked).toBe(false);
    expect(await db.scalar<number>(`SELECT count(*) FILTER (WHERE entered_worse_tier) FROM marts.v_chronic_absenteeism_risk`)).toBe(0);
    const night2 = makeDistrict();
    await writeDistrict(db, night2);
    await runModels(db);
    const before = chronicRisk(night1);
    const after = chronicRisk(night2);
    const rows = await db.all<{ student_key: string; previous_tier_code: string | null; entered_worse_tier: boolean }>(
      `SELECT student_key, previous_tier_code, entered_worse_tier FROM marts.v_chronic_absenteeism_risk`,
    );
    let worse = 0;
    for (const [name, a] of after) {
      const b = before.get(name);
      const row = rows.find((x) => x.student_key === key(name))!;
      expect(row.previous_tier_code, name).toBe(b ? b.tier : null);
      const expected = b !== undefined && a.severity !== null && b.severity !== null && a.severity > b.severity;
      expect(row.entered_worse_tier, name).toBe(expected);
      if (expected) worse++;
    }
    expect(worse).toBeGreaterThan(0);
    expect(before.get('B')!.tier).toBe(tierOf(2.5 / 30).code); // at risk on night 1
    expect(after.get('B')!.tier).toBe('moderate_chronic');
    db.close();
  });
});

describe('several attendance events on one day', () => {
  it('count the largest absent fraction once and list the distinct categories in order', async () => {
    const db = await Db.open(':memory:');
    const d = makeDistrict();
    // A already has a tardy (T) on day 10 at S1: add an excused absence, a second tardy and an unmapped code
    const day10 = instructionalDay(10);
    for (const code of ['E', 'Tardy', 'ZZ']) d.events.push({ student: 'A', school: S1, date: day10, code });
    await writeDistrict(db, d);
    const r = await runModels(db);
    expect(r.blocked).toBe(false);
    const rows = await db.all(
      `SELECT absent_fraction, is_full_day_absence, attendance_categories FROM marts.fct_student_attendance_daily
       WHERE student_key = $1 AND school_id = $2 AND calendar_date = $3::DATE`,
      [key('A'), S1, day10],
    );
    // seeds/reference/attendance_codes.csv: T and Tardy -> tardy (0), E -> excused_absence (1); ZZ is unmapped (0)
    expect(rows).toEqual([{ absent_fraction: 1, is_full_day_absence: true, attendance_categories: ['excused_absence', 'tardy', 'unmapped'].sort().join(',') }]);
    // still one row for the day, and the day counts once in the student's absences
    expect(await db.scalar<number>(`SELECT count(*) FROM marts.fct_student_attendance_daily WHERE student_key = $1 AND calendar_date = $2::DATE`, [key('A'), day10])).toBe(1);
    db.close();
  });
});

describe('a broken refined row blocks publishing', () => {
  it('a duplicate enrollment key fails an error test that names the rows', async () => {
    const db = await Db.open(':memory:');
    const d = makeDistrict();
    await writeDistrict(db, d);
    const a = d.enrollments.find((e) => e.student === 'A')!;
    await db.run(
      `INSERT INTO refined.student_school_associations (tenant, student_key, school_id, school_year, entry_date, exit_withdraw_date, entry_grade_level_descriptor, _file_sha256, _row_number, _source)
       VALUES ($1, $2, $3, 2026, $4, NULL, 'Eighth grade', 'injected', 1, 'test')`,
      [TENANT, key('A'), a.school, a.entry],
    );
    const r = await runModels(db);
    expect(r.blocked).toBe(true);
    const failing = r.tests.filter((t) => t.severity === 'error' && t.status === 'fail');
    const t = failing.find((x) => x.name === 'fct_enrollment.unique_enrollment_key')!;
    expect(t).toBeDefined();
    expect(t.failures).toBe(1);
    const enrollmentKey = await db.scalar<string>(`SELECT edlake_key($1, [$2, $3, $4::DATE::VARCHAR])`, [TENANT, key('A'), a.school, a.entry]);
    expect(t.sample).toEqual([{ enrollment_key: enrollmentKey, occurrences: 2 }]);
    // the duplicate enrollment also counts A twice on each of its days: caught on the runs of days,
    // where the duplicate's run starts before the other run of the same enrollment has ended
    const twice = failing.find((x) => x.name === 'bld_enrollment_segments.no_student_counted_twice_in_a_day')!;
    expect(twice).toBeDefined();
    const aNum = await db.scalar<number>(`SELECT student_num FROM marts.bld_student_numbers WHERE student_key = $1`, [key('A')]);
    const days = await db.scalar<number>(`SELECT count(*) FROM marts.fct_student_attendance_daily WHERE student_key = $1 AND school_id = $2 AND calendar_date >= $3::DATE`, [key('A'), a.school, a.entry]);
    const distinctDays = await db.scalar<number>(`SELECT count(DISTINCT calendar_date) FROM marts.fct_student_attendance_daily WHERE student_key = $1 AND school_id = $2 AND calendar_date >= $3::DATE`, [key('A'), a.school, a.entry]);
    // the fact lists each day of the duplicated enrollment twice
    expect(distinctDays).toBeGreaterThan(0);
    expect(days).toBe(2 * distinctDays!);
    expect(twice.failures).toBe(1);
    expect(twice.sample).toHaveLength(1);
    expect(twice.sample[0]!['student_num']).toBe(aNum);
    expect(String(twice.sample[0]!['entry_date'])).toBe(a.entry);
    // the duplicate's run also starts before the other one ends, in the order of the day numbers
    const numbering = failing.find((x) => x.name === 'bld_enrollment_segments.day_numbers_complete')!;
    expect(numbering).toBeDefined();
    expect(numbering.sample.every((r) => r['student_num'] === aNum)).toBe(true);
    // the blocked run did not record tiers for the next comparison
    expect(await db.scalar<number>(`SELECT count(*) FROM meta.chronic_tier_snapshots`)).toBe(0);
    db.close();
  });
});
