/**
 * `canvas`: Canvas data in the Ed-Fi LMS Unifying Data Model CSV layout (headers as the LMS
 * Toolkit writes them, UTF-8 with BOM). ELA and mathematics sections of grades 6-12; one
 * assignment per section and week; submissions Graded (on time), Late or Missing, driven by the
 * student's engagement and the section's teacher effect.
 */
import { CsvFile } from '../writer.ts';
import { type Gen, rel, identity, vendorLayout, RowMaker, clamp, logistic } from '../gen.ts';
import { loginName } from '../gen.ts';
import type { Section } from '../district.ts';
import { UDM_ASSIGNMENTS_HEADER, UDM_SECTIONS_HEADER, UDM_SECTION_ASSOCIATIONS_HEADER, UDM_SUBMISSIONS_HEADER, UDM_USERS_HEADER } from '../headers.ts';
import { dayToIso } from '../calendar.ts';
import { hashKey, h32, u01, normalInv } from '../rng.ts';
import { letterOf } from '../model.ts';

const L = {
  users: vendorLayout('canvas', 'users', UDM_USERS_HEADER, { SISUserIdentifier: { role: 'student' } }, { defects: ['missing_required', 'ragged_row'], nativeBom: true }),
  sections: vendorLayout('canvas', 'sections', UDM_SECTIONS_HEADER, {}, { defects: [], nativeBom: true }),
  sectionAssociations: vendorLayout('canvas', 'section-associations', UDM_SECTION_ASSOCIATIONS_HEADER, {}, { defects: ['ragged_row'], nativeBom: true }),
  assignments: vendorLayout('canvas', 'assignments', UDM_ASSIGNMENTS_HEADER, { DueDateTime: { role: 'date', dateStyle: 'datetime' } }, { defects: ['invalid_date', 'ragged_row'], nativeBom: true }),
  submissions: vendorLayout(
    'canvas',
    'submissions',
    UDM_SUBMISSIONS_HEADER,
    { SubmissionDateTime: { role: 'date', dateStyle: 'datetime' }, EarnedPoints: { role: 'score', min: 0, max: 100 } },
    { defects: ['invalid_date', 'out_of_range', 'ragged_row', 'conflicting_duplicate'], key: ['AssignmentSourceSystemIdentifier', 'LMSUserSourceSystemIdentifier'], dupField: 'EarnedPoints' },
  ),
};
const M = {
  users: new RowMaker(L.users),
  sections: new RowMaker(L.sections),
  assoc: new RowMaker(L.sectionAssociations),
  assignments: new RowMaker(L.assignments),
};

/** Canvas carries grades 6-12 ELA (slot 0) and mathematics (slot 1) sections. */
export function inCanvas(sec: Section): boolean {
  return sec.course.grade >= 6 && (sec.course.subject === 'ela' || sec.course.subject === 'math');
}

function dt(day: number, minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${dayToIso(day)} ${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:00`;
}

/** Weeks of the school year: instructional day indices grouped by Monday-based week. */
export function canvasWeeks(g: Gen): Array<{ week: number; days: number[]; delivery: number }> {
  const out: Array<{ week: number; days: number[]; delivery: number }> = [];
  let cur: number[] = [];
  let curWeek = -1;
  const days = g.cal.instructionalDays;
  days.forEach((day, idx) => {
    const w = Math.floor((day - 4) / 7);
    if (w !== curWeek && cur.length > 0) {
      out.push({ week: out.length, days: cur, delivery: days[cur[cur.length - 1] as number] as number });
      cur = [];
    }
    curWeek = w;
    cur.push(idx);
  });
  if (cur.length > 0) out.push({ week: out.length, days: cur, delivery: days[cur[cur.length - 1] as number] as number });
  return out;
}

function userRow(g: Gen, i: number, modified: string): string[] {
  const d = g.d;
  const det = d.detail(i);
  const lid = d.localIdOf(i);
  const login = loginName(det.first, det.last, lid);
  return M.users.make({
    SourceSystemIdentifier: d.canvasUserId(i),
    SourceSystem: 'Canvas',
    UserRole: 'student',
    LocalUserIdentifier: login,
    SISUserIdentifier: lid,
    Name: `${det.first} ${det.last}`,
    EmailAddress: `${login}@students.${d.domain}`,
    CreateDate: modified,
    LastModifiedDate: modified,
  });
}

function assocRow(userCanvasId: number, sec: Section, status: string, modified: string): string[] {
  return M.assoc.make({
    SourceSystemIdentifier: `${sec.canvasId}-${userCanvasId}`,
    SourceSystem: 'Canvas',
    EnrollmentStatus: status,
    LMSUserSourceSystemIdentifier: userCanvasId,
    LMSSectionSourceSystemIdentifier: sec.canvasId,
    CreateDate: modified,
    LastModifiedDate: modified,
  });
}

/** Canvas sections of a student at a school. */
function canvasSections(g: Gen, i: number, s: number): Section[] {
  const d = g.d;
  if ((d.grade[i] as number) < 6) return [];
  const out: Section[] = [];
  for (const slot of [0, 1]) {
    const x = d.sectionAt(i, s, slot);
    if (x >= 0) out.push(d.sections[x] as Section);
  }
  return out;
}

/** Opening delivery: users, sections and section associations. */
export async function writeCanvasOpening(g: Gen, deliveryDay: number): Promise<void> {
  const d = g.d;
  const modified = dt(deliveryDay, 120);
  const users = await CsvFile.open(g.ctx, L.users, rel('canvas', deliveryDay, 'users.csv'), identity('canvas', 'users', deliveryDay));
  const secs = await CsvFile.open(g.ctx, L.sections, rel('canvas', deliveryDay, 'sections.csv'), identity('canvas', 'sections', deliveryDay));
  const assoc = await CsvFile.open(g.ctx, L.sectionAssociations, rel('canvas', deliveryDay, 'section-associations.csv'), identity('canvas', 'section-associations', deliveryDay));
  const Y = g.cal.schoolYear;
  const teachers = new Set<number>();
  for (const sec of d.sections) {
    if (!inCanvas(sec)) continue;
    teachers.add(sec.teacher);
    await secs.add(
      M.sections.make({
        SourceSystemIdentifier: sec.canvasId,
        SourceSystem: 'Canvas',
        SISSectionIdentifier: sec.id,
        Title: `${sec.course.code}-${String(sec.num).padStart(2, '0')}`,
        SectionDescription: sec.course.title,
        Term: `${Y}-S1,${Y}-S2`,
        LMSSectionStatus: 'Active',
        CreateDate: modified,
        LastModifiedDate: modified,
      }),
    );
    const t = d.staff[sec.teacher];
    if (t) await assoc.add(assocRow(t.canvasId, sec, 'Active', modified));
  }
  for (const ti of [...teachers].sort((a, b) => a - b)) {
    const t = d.staff[ti];
    if (!t) continue;
    const login = loginName(t.first, t.last, t.id);
    await users.add(M.users.make({ SourceSystemIdentifier: t.canvasId, SourceSystem: 'Canvas', UserRole: 'teacher', LocalUserIdentifier: login, SISUserIdentifier: t.id, Name: `${t.first} ${t.last}`, EmailAddress: `${login}@${d.domain}`, CreateDate: modified, LastModifiedDate: modified }));
  }
  for (let i = 0; i < d.n; i++) {
    const s = d.schoolOn(i, 0);
    if (s < 0) continue;
    const list = canvasSections(g, i, s);
    if (list.length === 0) continue;
    if (users.row(userRow(g, i, modified))) await users.flush();
    for (const sec of list) if (assoc.row(assocRow(d.canvasUserId(i), sec, 'Active', modified))) await assoc.flush();
  }
  await users.close();
  await secs.close();
  await assoc.close();
}

const SUBMISSION_ORDER = ['SourceSystemIdentifier', 'SourceSystem', 'SubmissionStatus', 'SubmissionDateTime', 'EarnedPoints', 'Grade', 'AssignmentSourceSystemIdentifier', 'LMSUserSourceSystemIdentifier', 'CreateDate', 'LastModifiedDate', 'SourceCreateDate', 'SourceLastModifiedDate'];
if (SUBMISSION_ORDER.join(',') !== UDM_SUBMISSIONS_HEADER.join(',')) throw new Error('internal: UDM submissions header changed');

interface Assignment {
  id: number;
  dueIdx: number;
  points: number;
  created: string;
}
const assignmentKey = (seed: number) => hashKey(seed, 'assignment');

/** Assignment of a section in a week: due day index and points. */
function assignmentOf(g: Gen, sec: Section, week: { week: number; days: number[] }, key = assignmentKey(g.d.seed)): Assignment {
  const k = h32(key, sec.idx, week.week);
  const dueIdx = week.days[k % week.days.length] as number;
  const points = [10, 20, 25, 50, 100][(k >>> 8) % 5] as number;
  const due = g.cal.instructionalDays[dueIdx] as number;
  return { id: 300_000_000 + sec.idx * 64 + week.week, dueIdx, points, created: dt(due - 3, 7 * 60) };
}

const TITLES_ELA = ['Reading response', 'Vocabulary quiz', 'Close reading', 'Essay draft', 'Grammar practice', 'Literature circle notes', 'Argument outline'];
const TITLES_MATH = ['Problem set', 'Skills quiz', 'Exit ticket review', 'Practice worksheet', 'Unit check', 'Modeling task', 'Homework'];

/** Weekly delivery: new users and associations of the week, the week's assignments and submissions. */
export async function writeCanvasWeek(g: Gen, week: { week: number; days: number[]; delivery: number }): Promise<void> {
  const d = g.d;
  const day = week.delivery;
  const modified = dt(day, 23 * 60);
  // students who entered, left or transferred this week (the opening delivery has those of day 0)
  {
    const newcomers: Array<{ i: number; s: number; old: number }> = [];
    for (const idx of week.days) {
      for (const i of g.entrants[idx] as number[]) newcomers.push({ i, s: d.school[i] as number, old: -1 });
      for (const i of g.transfers[idx] as number[]) newcomers.push({ i, s: d.trSchool[i] as number, old: d.school[i] as number });
    }
    const leavers: number[] = [];
    for (const idx of week.days) for (const i of g.leavers[idx] as number[]) leavers.push(i);
    const withSections = newcomers.filter((x) => canvasSections(g, x.i, x.s).length > 0);
    const leaving = leavers.filter((i) => canvasSections(g, i, d.school[i] as number).length > 0);
    if (withSections.some((x) => x.old < 0)) {
      const users = await CsvFile.open(g.ctx, L.users, rel('canvas', day, 'users.csv'), identity('canvas', 'users', day));
      for (const x of withSections) if (x.old < 0) await users.add(userRow(g, x.i, modified));
      await users.close();
    }
    if (withSections.length + leaving.length > 0) {
      const assoc = await CsvFile.open(g.ctx, L.sectionAssociations, rel('canvas', day, 'section-associations.csv'), identity('canvas', 'section-associations', day));
      for (const x of withSections) {
        if (x.old >= 0) for (const sec of canvasSections(g, x.i, x.old)) await assoc.add(assocRow(d.canvasUserId(x.i), sec, 'Inactive', modified));
        for (const sec of canvasSections(g, x.i, x.s)) await assoc.add(assocRow(d.canvasUserId(x.i), sec, 'Active', modified));
      }
      for (const i of leaving) for (const sec of canvasSections(g, i, d.school[i] as number)) await assoc.add(assocRow(d.canvasUserId(i), sec, 'Inactive', modified));
      await assoc.close();
    }
  }
  if (week.days.length < 3) return; // no assignments in short weeks
  const asg = await CsvFile.open(g.ctx, L.assignments, rel('canvas', day, 'assignments.csv'), identity('canvas', 'assignments', day));
  for (const sec of d.sections) {
    if (!inCanvas(sec)) continue;
    const a = assignmentOf(g, sec, week);
    const due = g.cal.instructionalDays[a.dueIdx] as number;
    const titles = sec.course.subject === 'ela' ? TITLES_ELA : TITLES_MATH;
    const title = `${titles[(a.id >>> 3) % titles.length]} ${week.week + 1}`;
    await asg.add(
      M.assignments.make({
        SourceSystemIdentifier: a.id,
        SourceSystem: 'Canvas',
        Title: title,
        AssignmentCategory: 'Assignment',
        AssignmentDescription: `${title} for ${sec.course.title}`,
        StartDateTime: dt(due - 2, 8 * 60),
        EndDateTime: dt(due, 23 * 60 + 59),
        DueDateTime: dt(due, 23 * 60 + 59),
        SubmissionType: sec.course.subject === 'ela' ? 'online_upload' : 'online_quiz',
        MaxPoints: a.points,
        LMSSectionSourceSystemIdentifier: sec.canvasId,
        CreateDate: dt(due - 3, 7 * 60),
        LastModifiedDate: dt(due - 3, 7 * 60),
      }),
    );
  }
  await asg.close();
  const sub = await CsvFile.open(g.ctx, L.submissions, rel('canvas', day, 'submissions.csv'), identity('canvas', 'submissions', day));
  const akey = assignmentKey(d.seed);
  const assignments: Array<Assignment | undefined> = d.sections.map((sec) => (inCanvas(sec) ? assignmentOf(g, sec, week, akey) : undefined));
  const kSub = hashKey(d.seed, 'submission', week.week);
  const firstIdx = week.days[0] as number;
  const lastIdx = week.days[week.days.length - 1] as number;
  for (let i = 0; i < d.n; i++) {
    if ((d.grade[i] as number) < 6) continue;
    if ((d.entry[i] as number) > lastIdx) continue;
    const ex = d.exit[i] as number;
    if (ex >= 0 && ex < firstIdx) continue;
    for (const slot of [0, 1]) {
      // the assignment of the section the student is in on its due date
      let s = d.schoolOn(i, firstIdx);
      if (s < 0) s = d.schoolOn(i, lastIdx);
      if (s < 0) continue;
      const secIdx = d.sectionAt(i, s, slot);
      if (secIdx < 0) continue;
      const sec = d.sections[secIdx] as Section;
      const a = assignments[secIdx];
      if (!a || d.schoolOn(i, a.dueIdx) !== s) continue;
      const due = g.cal.instructionalDays[a.dueIdx] as number;
      const eng = d.engage[i] as number;
      const u1 = u01(kSub, i, slot * 2);
      const u2 = u01(kSub, i, slot * 2 + 1);
      const pSubmit = logistic(2.0 + 1.1 * eng + 0.6 * sec.markEffect);
      const pOnTime = logistic(1.4 + 0.9 * eng + 0.3 * sec.markEffect);
      let status: string;
      let when = '';
      let earned = '';
      let grade = '';
      if (u1 >= pSubmit) {
        status = 'Missing';
      } else {
        const abil = sec.course.subject === 'ela' ? (d.abilE[i] as number) : (d.abilM[i] as number);
        const frac = clamp(0.76 + 0.1 * abil + 0.05 * eng + 0.06 * sec.markEffect + 0.09 * normalInv(u01(kSub, i, 10 + slot)), 0, 1);
        const pts = Math.round(frac * a.points * 10) / 10;
        earned = String(pts);
        grade = letterOf(frac * 100);
        if (u2 < pOnTime) {
          status = 'Graded';
          when = dt(due - (u2 < 0.3 ? 1 : 0), 15 * 60 + Math.floor(u2 * 400));
        } else {
          status = 'Late';
          // late, but by the time of the extract (the delivery night)
          const lateDay = Math.min(day, due + 1 + Math.floor(u2 * 3));
          when = lateDay === due ? dt(due, 23 * 60 + 59) : dt(lateDay, 7 * 60 + Math.floor(u2 * 600));
        }
      }
      const uid = d.canvasUserId(i);
      if (
        sub.row(
          // UDM submissions header order (checked at load: SUBMISSION_ORDER)
          [`${a.id}-${uid}`, 'Canvas', status, when, earned, grade, String(a.id), String(uid), a.created, modified, '', ''],
        )
      )
        await sub.flush();
    }
  }
  await sub.close();
}

