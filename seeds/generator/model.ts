/**
 * Generation model parameters: the hidden truth from which every score is drawn.
 * These are the generator's own parameters (not the pipeline's seeds); the achievement level
 * thresholds must equal those of ../shared/DOMAIN.md (a test compares them with
 * seeds/reference/smarter_balanced_thresholds.csv when that table exists).
 */

export type Subject = 'ela' | 'math';
export const SUBJECTS: readonly Subject[] = ['ela', 'math'];

/** Smarter Balanced threshold scale scores for levels 2, 3, 4 by grade (DOMAIN.md, since 2020-21). */
export const SBAC_THRESHOLDS: Record<Subject, Record<number, [number, number, number]>> = {
  ela: {
    3: [2367, 2432, 2490],
    4: [2416, 2473, 2533],
    5: [2442, 2502, 2582],
    6: [2457, 2531, 2618],
    7: [2479, 2552, 2649],
    8: [2487, 2567, 2668],
    11: [2493, 2583, 2682],
  },
  math: {
    3: [2381, 2436, 2501],
    4: [2411, 2485, 2549],
    5: [2455, 2528, 2579],
    6: [2473, 2552, 2610],
    7: [2484, 2567, 2635],
    8: [2504, 2586, 2653],
    11: [2543, 2628, 2718],
  },
};

export const TESTED_GRADES = [3, 4, 5, 6, 7, 8, 11];
export function isTestedGrade(g: number): boolean {
  return TESTED_GRADES.includes(g);
}

/** Achievement level 1-4 of a scale score in a tested grade. */
export function sbacLevel(subject: Subject, grade: number, score: number): number {
  const t = SBAC_THRESHOLDS[subject][grade];
  if (!t) throw new Error(`no Smarter Balanced thresholds for grade ${grade}`);
  return score >= t[2] ? 4 : score >= t[1] ? 3 : score >= t[0] ? 2 : 1;
}

/**
 * Mean and SD of the state scale by grade (continuous in grade so that untested grades have a
 * position too: used to place every student on a common latent scale). Roughly California's
 * recent distributions.
 */
const SCALE_MEAN: Record<Subject, number[]> = {
  // index = grade 0..12 (K..12); TK uses K
  ela: [2280, 2320, 2365, 2410, 2450, 2488, 2510, 2533, 2550, 2562, 2572, 2585, 2592],
  math: [2290, 2330, 2372, 2415, 2455, 2480, 2495, 2508, 2520, 2532, 2542, 2550, 2556],
};
const SCALE_SD: Record<Subject, number[]> = {
  ela: [80, 82, 85, 90, 95, 100, 100, 104, 106, 108, 110, 112, 114],
  math: [78, 80, 82, 85, 92, 98, 110, 115, 120, 122, 124, 126, 128],
};
export function scaleMean(s: Subject, grade: number): number {
  return SCALE_MEAN[s][Math.max(0, Math.min(12, grade))] as number;
}
export function scaleSd(s: Subject, grade: number): number {
  return SCALE_SD[s][Math.max(0, Math.min(12, grade))] as number;
}
/** Standard error of measurement of a summative scale score. */
export const SBAC_SEM = 24;

/** Vendors of interim assessments. */
export type Vendor = 'nwea_map' | 'iready' | 'star';
export type WindowName = 'Fall' | 'Winter' | 'Spring';
export const WINDOW_FRACTION: Record<WindowName, number> = { Fall: 0.1, Winter: 0.5, Spring: 0.9 };

/**
 * Vendor scales: score = mean(grade, window) + sd(grade) * (latent z + noise).
 * Fall means by grade K..12 and typical fall-to-spring growth.
 */
interface VendorScale {
  fallMean: number[];
  growth: number[];
  sd: number[];
  min: number;
  max: number;
}
export const VENDOR_SCALES: Record<Vendor, Partial<Record<Subject, VendorScale>>> = {
  nwea_map: {
    ela: {
      fallMean: [137, 156, 172, 188, 198, 206, 211, 215, 218, 219, 221, 222, 223],
      growth: [22, 18, 15, 11, 9, 7, 6, 5, 4, 3, 2, 2, 2],
      sd: [12, 14, 15, 16, 16, 16, 16, 16, 16, 17, 17, 17, 17],
      min: 100,
      max: 350,
    },
    math: {
      fallMean: [140, 161, 176, 188, 200, 209, 214, 220, 224, 226, 229, 231, 233],
      growth: [23, 20, 16, 13, 11, 10, 8, 7, 6, 4, 3, 3, 2],
      sd: [12, 13, 14, 14, 15, 16, 16, 17, 18, 19, 19, 20, 20],
      min: 100,
      max: 350,
    },
  },
  iready: {
    ela: {
      fallMean: [362, 420, 478, 520, 548, 568, 583, 597, 609, 619, 628, 634, 640],
      growth: [45, 45, 40, 30, 25, 21, 18, 16, 14, 13, 12, 11, 10],
      sd: [32, 40, 45, 50, 50, 50, 52, 54, 55, 56, 57, 58, 58],
      min: 100,
      max: 800,
    },
    math: {
      fallMean: [362, 398, 428, 450, 470, 486, 500, 511, 522, 530, 537, 543, 548],
      growth: [40, 34, 30, 28, 27, 24, 20, 18, 17, 15, 14, 13, 12],
      sd: [25, 27, 28, 30, 32, 34, 36, 38, 40, 41, 42, 43, 44],
      min: 100,
      max: 800,
    },
  },
  star: {
    ela: {
      fallMean: [90, 150, 260, 380, 480, 570, 640, 700, 760, 810, 850, 890, 920],
      growth: [60, 120, 120, 110, 90, 80, 70, 60, 55, 50, 45, 40, 35],
      sd: [40, 70, 110, 140, 160, 175, 185, 195, 205, 210, 215, 220, 225],
      min: 0,
      max: 1400,
    },
  },
};

export function vendorScore(v: Vendor, s: Subject, grade: number, w: WindowName, z: number): number {
  const sc = VENDOR_SCALES[v][s];
  if (!sc) throw new Error(`vendor ${v} has no ${s} scale`);
  const g = Math.max(0, Math.min(12, grade));
  const mean = (sc.fallMean[g] as number) + (sc.growth[g] as number) * (WINDOW_FRACTION[w] - 0.1) / 0.8;
  const x = Math.round(mean + (sc.sd[g] as number) * z);
  return Math.max(sc.min, Math.min(sc.max, x));
}

/** Interim measurement noise in latent SD units (brief: 0.35-0.45). */
export const INTERIM_NOISE_SD = 0.45;
/** CERS interim (ICA) noise in latent SD units. */
export const ICA_NOISE_SD = 0.45;

/** Letter grade of a percent, and back. */
export const LETTERS: Array<[number, string]> = [
  [97, 'A+'],
  [93, 'A'],
  [90, 'A-'],
  [87, 'B+'],
  [83, 'B'],
  [80, 'B-'],
  [77, 'C+'],
  [73, 'C'],
  [70, 'C-'],
  [67, 'D+'],
  [63, 'D'],
  [60, 'D-'],
  [0, 'F'],
];
export function letterOf(percent: number): string {
  for (const [min, l] of LETTERS) if (percent >= min) return l;
  return 'F';
}
