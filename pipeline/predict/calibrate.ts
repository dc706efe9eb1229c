/**
 * Calibration of the interim-to-state linking and of the end-of-year prediction (decision 0202).
 *
 * On history where students have both an interim and a state score (this year's interim results
 * and last year's CAASPP scores), it fits:
 *  - growth per subject and grade: the difference between consecutive grades' mean state scores
 *    in last year's file (cross-sectional), per year, so that a grade-g student's prior
 *    (grade g-1) score plus growth(g) estimates the grade-g score;
 *  - the link per vendor, subject, grade and testing window: ordinary least squares of
 *    (prior score + growth x share of the year elapsed at the test) on the student's interim score
 *    in that window, so that the linked score is the state-scale position at the test date (the
 *    vendors' scales grow at their own pace within a year, hence one link per window);
 *  - the error of the interim-based estimate (sigma_I) from students tested in two windows
 *    (half the variance of the difference of their two end-of-year estimates) and of the
 *    prior-based estimate (sigma_P = variance of the later interim estimate minus the prior estimate,
 *    less sigma_I squared), and the inverse-variance weight w = sigma_P^2 / (sigma_I^2 + sigma_P^2).
 * Groups with too little data keep the parameters of the active version. The result is written
 * to the seed CSVs under a new model version, which becomes the active one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Db } from '../../src/db/duckdb.ts';
import { DEFAULT_SEEDS_DIR } from '../../seeds/load.ts';

export const MIN_PAIRS = 20;
/** SD of the prior belief about a grade's annual growth (state-scale points) before the district's data. */
export const GROWTH_PRIOR_SD = 15;

export interface LinkFit {
  vendor: string;
  subject: string;
  grade: number;
  /** Fall, Winter, Spring, or null for the any-window fallback */
  window: string | null;
  n: number;
  slope: number;
  intercept: number;
  r2: number;
  rmse: number;
  /**
   * fitted on the grade's own students; pooled over all grades of the vendor, subject and window
   * (grades without prior state scores: 3, 11, and the untested grades; both scales are vertical);
   * or carried over from the previous version
   */
  origin: 'fitted' | 'pooled' | 'previous';
}

export interface PredictionFit {
  subject: string;
  grade: number;
  growthPerYear: number;
  growthOrigin: 'fitted' | 'previous';
  wInterim: number;
  seInterimOnly: number;
  seWithPrior: number;
}

export interface CalibrationReport {
  modelVersion: string;
  previousVersion: string;
  links: LinkFit[];
  predictions: PredictionFit[];
  /** Per subject: the error components and how many students estimated them. */
  errors: Array<{ subject: string; sigmaInterim: number; sigmaPrior: number; students: number; origin: 'fitted' | 'fallback' }>;
}

type Num = number | null;

async function activeVersion(db: Db): Promise<string> {
  const v = await db.scalar<string>(`SELECT model_version FROM seeds.prediction_models WHERE is_active`);
  if (!v) throw new Error('seeds.prediction_models has no active version');
  return v;
}

/**
 * Fit the parameters from a database where the seeds and the models `fct_assessment_results`,
 * `bld_as_of` and `dim_student` are built. Writes nothing.
 */
export async function fitCalibration(db: Db, modelVersion: string): Promise<CalibrationReport> {
  const previous = await activeVersion(db);
  await db.run(`CREATE OR REPLACE TEMP TABLE cal_interim AS
    SELECT r.tenant, r.student_key, lower(r.vendor) AS vendor, r.subject, r.grade_number AS grade, r.testing_window AS test_window, r.scale_score AS score,
           greatest(0, least(1, date_diff('day', a.first_instructional_date, r.administration_date)::DOUBLE
                                / nullif(date_diff('day', a.first_instructional_date, a.last_instructional_date), 0))) AS elapsed,
           row_number() OVER (PARTITION BY r.tenant, r.student_key, lower(r.vendor), r.subject ORDER BY r.administration_date, r.result_key) AS k_first,
           row_number() OVER (PARTITION BY r.tenant, r.student_key, lower(r.vendor), r.subject ORDER BY r.administration_date DESC, r.result_key DESC) AS k_last
    FROM marts.fct_assessment_results r
    JOIN marts.bld_as_of a ON a.tenant = r.tenant AND r.school_year = a.school_year
    WHERE r.assessment_family = 'interim' AND r.scale_score IS NOT NULL AND r.subject IS NOT NULL AND r.grade_number IS NOT NULL
      AND lower(r.vendor) IN (SELECT DISTINCT vendor FROM seeds.interim_linking WHERE method = 'linear')`);
  await db.run(`CREATE OR REPLACE TEMP TABLE cal_prior AS
    SELECT r.tenant, r.student_key, r.subject, s.grade_number AS grade, arg_max(r.scale_score, r.administration_date) AS prior
    FROM marts.fct_assessment_results r
    JOIN marts.bld_as_of a ON a.tenant = r.tenant AND r.school_year = a.school_year - 1
    JOIN marts.dim_student s ON s.tenant = r.tenant AND s.student_key = r.student_key
    WHERE r.assessment_family = 'state' AND r.scale_score IS NOT NULL AND r.subject IS NOT NULL AND s.grade_number IS NOT NULL
    GROUP BY ALL`);

  // Growth: mean state score of grade x = mean prior of students now in grade x + 1. The
  // difference between consecutive grades is noisy in a small district (two cohorts of a few
  // dozen students), so it is shrunk towards the previous version's growth: a normal prior with
  // SD GROWTH_PRIOR_SD and the sampling variance s^2 (1/n_g + 1/n_h) of the difference of means.
  const means = await db.all<{ subject: string; grade: number; mean: number; n: number; sd: number }>(
    `SELECT subject, grade - 1 AS grade, avg(prior) AS mean, count(*) AS n, stddev_samp(prior) AS sd FROM cal_prior GROUP BY ALL HAVING count(*) >= ${MIN_PAIRS}`,
  );
  const prevParams = await db.all<{ subject: string; grade: number; growth_per_year: number; w_interim: number; se_interim_only: number; se_with_prior: number }>(
    `SELECT subject, grade, growth_per_year, w_interim, se_interim_only, se_with_prior FROM seeds.prediction_parameters WHERE model_version = $1`,
    [previous],
  );
  const growth = new Map<string, { value: number; origin: 'fitted' | 'previous' }>();
  const subjects = [...new Set(prevParams.map((p) => p.subject))];
  for (const subject of subjects) {
    const m = new Map(means.filter((x) => x.subject === subject).map((x) => [x.grade, x]));
    const prevOf = (g: number) => prevParams.find((p) => p.subject === subject && p.grade === g)?.growth_per_year;
    for (let g = 0; g <= 12; g++) {
      const here = m.get(g);
      let lower: number | undefined;
      for (let h = g - 1; h >= 0; h--) if (m.has(h)) { lower = h; break; }
      if (here === undefined || lower === undefined) continue;
      const low = m.get(lower)!;
      const years = g - lower;
      const diff = (here.mean - low.mean) / years;
      const varDiff = ((here.sd ** 2) / here.n + (low.sd ** 2) / low.n) / (years * years);
      const prior = prevOf(g);
      const value = prior === undefined ? diff : (diff / varDiff + prior / GROWTH_PRIOR_SD ** 2) / (1 / varDiff + 1 / GROWTH_PRIOR_SD ** 2);
      growth.set(`${subject}|${g}`, { value, origin: 'fitted' });
    }
    const fitted = [...growth].filter(([k]) => k.startsWith(`${subject}|`)).map(([, v]) => v.value);
    for (const p of prevParams.filter((x) => x.subject === subject)) {
      if (!growth.has(`${subject}|${p.grade}`)) growth.set(`${subject}|${p.grade}`, { value: p.growth_per_year, origin: 'previous' });
    }
    // grades outside the prediction table (for the link target only): the mean fitted growth
    const fallback = fitted.length > 0 ? fitted.reduce((a, x) => a + x, 0) / fitted.length : 0;
    for (let g = 0; g <= 12; g++) if (!growth.has(`${subject}|${g}`)) growth.set(`${subject}|${g}`, { value: fallback, origin: 'previous' });
  }
  await db.run(`CREATE OR REPLACE TEMP TABLE cal_growth (subject VARCHAR, grade INTEGER, growth DOUBLE)`);
  for (const [k, v] of growth) {
    const [subject, grade] = k.split('|');
    await db.run(`INSERT INTO cal_growth VALUES ($1, $2, $3)`, [subject!, Number(grade), v.value]);
  }

  // Link per window: target = prior + growth x elapsed (the state-scale position at the test date),
  // predictor = the interim score of that window (vendor scales grow at their own pace in a year).
  const pairsSql = `
      SELECT i.vendor, i.subject, i.grade, i.test_window, i.score AS x, p.prior + g.growth * i.elapsed AS y
      FROM cal_interim i
      JOIN cal_prior p ON p.tenant = i.tenant AND p.student_key = i.student_key AND p.subject = i.subject
      JOIN cal_growth g ON g.subject = i.subject AND g.grade = i.grade
      WHERE i.test_window IN ('Fall', 'Winter', 'Spring')
      QUALIFY row_number() OVER (PARTITION BY i.tenant, i.student_key, i.vendor, i.subject, i.test_window ORDER BY i.k_first) = 1`;
  const pooledFits = await db.all<{ vendor: string; subject: string; test_window: string; n: number; slope: Num; intercept: Num; r2: Num; rmse: Num }>(`
    WITH pairs AS (${pairsSql}),
    coef AS (
      SELECT vendor, subject, test_window, count(*) AS n, regr_slope(y, x) AS slope, regr_intercept(y, x) AS intercept, regr_r2(y, x) AS r2
      FROM pairs GROUP BY ALL
    )
    SELECT c.vendor, c.subject, c.test_window, c.n, c.slope, c.intercept, c.r2,
           sqrt(avg((p.y - (c.slope * p.x + c.intercept)) ^ 2)) AS rmse
    FROM coef c JOIN pairs p USING (vendor, subject, test_window)
    GROUP BY ALL ORDER BY ALL`);
  const fits = await db.all<{ vendor: string; subject: string; grade: number; test_window: string; n: number; slope: Num; intercept: Num; r2: Num; rmse: Num }>(`
    WITH pairs AS (${pairsSql}),
    coef AS (
      SELECT vendor, subject, grade, test_window, count(*) AS n, regr_slope(y, x) AS slope, regr_intercept(y, x) AS intercept, regr_r2(y, x) AS r2
      FROM pairs GROUP BY ALL
    )
    SELECT c.vendor, c.subject, c.grade, c.test_window, c.n, c.slope, c.intercept, c.r2,
           sqrt(avg((p.y - (c.slope * p.x + c.intercept)) ^ 2)) AS rmse
    FROM coef c JOIN pairs p USING (vendor, subject, grade, test_window)
    GROUP BY ALL ORDER BY ALL`);
  const prevLinks = await db.all<{ vendor: string; subject: string; grade: number; testing_window: string | null; method: string; slope: number; intercept: number; rmse: number; n: Num; r2: Num }>(
    `SELECT vendor, subject, grade, testing_window, method, slope, intercept, rmse, n, r2 FROM seeds.interim_linking WHERE model_version = $1 ORDER BY vendor, subject, grade, testing_window NULLS FIRST`,
    [previous],
  );
  const links: LinkFit[] = [];
  const fitted = fits.filter((f) => f.n >= MIN_PAIRS && f.slope !== null && f.intercept !== null && f.slope > 0);
  for (const f of fitted) {
    links.push({ vendor: f.vendor, subject: f.subject, grade: f.grade, window: f.test_window, n: f.n, slope: f.slope!, intercept: f.intercept!, r2: f.r2 ?? 0, rmse: f.rmse ?? 0, origin: 'fitted' });
  }
  // grades without their own fit (no prior state score: grades 3 and 11, untested grades) take the
  // link pooled over the vendor's grades for that subject and window
  const linkedGrades = new Set(prevLinks.filter((p) => p.method === 'linear').map((p) => `${p.vendor}|${p.subject}|${p.grade}`));
  for (const f of pooledFits.filter((x) => x.n >= MIN_PAIRS && x.slope !== null && x.intercept !== null && x.slope > 0)) {
    for (const key of linkedGrades) {
      const [vendor, subject, grade] = key.split('|') as [string, string, string];
      if (vendor !== f.vendor || subject !== f.subject) continue;
      if (links.some((l) => l.vendor === vendor && l.subject === subject && l.grade === Number(grade) && l.window === f.test_window)) continue;
      links.push({ vendor, subject, grade: Number(grade), window: f.test_window, n: f.n, slope: f.slope!, intercept: f.intercept!, r2: f.r2 ?? 0, rmse: f.rmse ?? 0, origin: 'pooled' });
    }
  }
  for (const p of prevLinks) {
    if (p.method !== 'linear') continue;
    if (links.some((l) => l.vendor === p.vendor && l.subject === p.subject && l.grade === p.grade && l.window === p.testing_window)) continue;
    links.push({ vendor: p.vendor, subject: p.subject, grade: p.grade, window: p.testing_window, n: p.n ?? 0, slope: p.slope, intercept: p.intercept, r2: p.r2 ?? 0, rmse: p.rmse, origin: 'previous' });
  }
  links.sort((a, b) => a.vendor.localeCompare(b.vendor) || a.subject.localeCompare(b.subject) || a.grade - b.grade || (a.window ?? '').localeCompare(b.window ?? ''));
  await db.run(`CREATE OR REPLACE TEMP TABLE cal_link (vendor VARCHAR, subject VARCHAR, grade INTEGER, test_window VARCHAR, slope DOUBLE, intercept DOUBLE, rmse DOUBLE)`);
  for (const l of links) await db.run(`INSERT INTO cal_link VALUES ($1, $2, $3, $4, $5, $6, $7)`, [l.vendor, l.subject, l.grade, l.window, l.slope, l.intercept, l.rmse]);

  // Error components from students with two windows at least a quarter of a year apart.
  const comps = await db.all<{ subject: string; students: number; var_ta: Num; var_tb: Num }>(`
    WITH est AS (
      SELECT i.tenant, i.student_key, i.vendor, i.subject, i.k_first, i.k_last, i.elapsed,
             l.slope * i.score + l.intercept + g.growth * (1 - i.elapsed) AS eoy_estimate, g.growth
      FROM cal_interim i
      JOIN cal_link l ON l.vendor = i.vendor AND l.subject = i.subject AND l.grade = i.grade AND (l.test_window IS NULL OR l.test_window = i.test_window)
      JOIN cal_growth g ON g.subject = i.subject AND g.grade = i.grade
      WHERE i.k_first = 1 OR i.k_last = 1
      QUALIFY row_number() OVER (PARTITION BY i.tenant, i.student_key, i.vendor, i.subject, i.k_first, i.k_last ORDER BY l.test_window IS NULL) = 1
    ),
    paired AS (
      SELECT f.subject, f.tenant, f.student_key, f.eoy_estimate AS a, t.eoy_estimate AS t, p.prior + f.growth AS b
      FROM est f
      JOIN est t ON t.tenant = f.tenant AND t.student_key = f.student_key AND t.vendor = f.vendor AND t.subject = f.subject AND t.k_last = 1
      JOIN cal_prior p ON p.tenant = f.tenant AND p.student_key = f.student_key AND p.subject = f.subject
      WHERE f.k_first = 1 AND t.elapsed - f.elapsed >= 0.25
    )
    SELECT subject, count(*) AS students, var_samp(t - a) AS var_ta, var_samp(t - b) AS var_tb FROM paired GROUP BY ALL`);
  const errors: CalibrationReport['errors'] = [];
  const predictions: PredictionFit[] = [];
  for (const subject of subjects) {
    const c = comps.find((x) => x.subject === subject);
    const subjectLinks = links.filter((l) => l.subject === subject && l.origin === 'fitted');
    const linkRmse = subjectLinks.length > 0 ? Math.sqrt(subjectLinks.reduce((a, l) => a + l.rmse ** 2 * l.n, 0) / subjectLinks.reduce((a, l) => a + l.n, 0)) : null;
    let sI: number;
    let sP: number;
    let origin: 'fitted' | 'fallback';
    if (c && c.students >= MIN_PAIRS && c.var_ta !== null && c.var_tb !== null) {
      const vI = c.var_ta / 2;
      sI = Math.sqrt(vI);
      sP = Math.sqrt(Math.max(c.var_tb - vI, vI * 0.05));
      origin = 'fitted';
    } else if (linkRmse !== null) {
      sI = linkRmse;
      sP = linkRmse;
      origin = 'fallback';
    } else {
      const prev = prevParams.filter((p) => p.subject === subject);
      sI = prev.reduce((a, p) => a + p.se_interim_only, 0) / prev.length;
      sP = sI;
      origin = 'fallback';
    }
    errors.push({ subject, sigmaInterim: sI, sigmaPrior: sP, students: c?.students ?? 0, origin });
    const w = (sP * sP) / (sI * sI + sP * sP);
    const seBoth = Math.sqrt((sI * sI * sP * sP) / (sI * sI + sP * sP));
    for (const p of prevParams.filter((x) => x.subject === subject)) {
      const g = growth.get(`${subject}|${p.grade}`)!;
      predictions.push({ subject, grade: p.grade, growthPerYear: g.value, growthOrigin: g.origin, wInterim: w, seInterimOnly: sI, seWithPrior: seBoth });
    }
  }
  return { modelVersion, previousVersion: previous, links, predictions, errors };
}

const num = (x: number, digits = 4) => String(Math.round(x * 10 ** digits) / 10 ** digits);

/** Append the calibrated version to the seed CSVs and make it the active one. */
export function writeCalibration(report: CalibrationReport, opts: { seedsDir?: string; method: string; now?: Date }): void {
  const dir = opts.seedsDir ?? DEFAULT_SEEDS_DIR;
  const v = report.modelVersion;
  const linkFile = path.join(dir, 'interim_linking.csv');
  const existing = readFileSync(linkFile, 'utf8');
  if (existing.split('\n').some((l) => l.startsWith(`${v},`))) throw new Error(`${linkFile}: model version ${v} already exists`);
  const prevIdentity = existing
    .split('\n')
    .filter((l) => l.startsWith(`${report.previousVersion},`) && l.split(',')[5] === 'identity')
    .map((l) => [v, ...l.split(',').slice(1)].join(','));
  const linkLines = report.links.map((l) =>
    [v, l.vendor, l.subject, l.grade, l.window ?? '', 'linear', num(l.slope, 6), num(l.intercept, 3), num(l.rmse, 3), l.n || '', l.origin !== 'previous' ? num(l.r2, 4) : ''].join(','),
  );
  writeFileSync(linkFile, `${existing.replace(/\n*$/, '\n')}${[...linkLines, ...prevIdentity].join('\n')}\n`);
  const predFile = path.join(dir, 'prediction_parameters.csv');
  const predLines = report.predictions.map((p) => [v, p.subject, p.grade, num(p.growthPerYear, 2), num(p.wInterim, 4), num(p.seInterimOnly, 2), num(p.seWithPrior, 2)].join(','));
  writeFileSync(predFile, `${readFileSync(predFile, 'utf8').replace(/\n*$/, '\n')}${predLines.join('\n')}\n`);
  const modelsFile = path.join(dir, 'prediction_models.csv');
  const [head, ...rows] = readFileSync(modelsFile, 'utf8').trim().split('\n');
  const deactivated = rows.map((r) => {
    const c = r.split(',');
    c[3] = 'false';
    return c.join(',');
  });
  const note = `calibrated from ${report.previousVersion}; ${report.links.filter((l) => l.origin === 'fitted').length} links fitted`;
  const created = (opts.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  writeFileSync(modelsFile, `${[head, ...deactivated, [v, created, opts.method.replaceAll(',', ';'), 'true', note].join(',')].join('\n')}\n`);
}

export const CALIBRATION_METHOD = 'OLS link per testing window on prior state score plus growth to the test date; cross-sectional growth shrunk to the previous version; inverse-variance weights from two-window students';

export function newModelVersion(now = new Date()): string {
  return `cal-${now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`;
}
