/**
 * Object references shared between type files (each type is implemented in its own file).
 * Every object carries the snapshot data it was read from, so nested fields read the same snapshot
 * with the same scope and the same request's loaders.
 */
import type { SnapshotData } from '../resolvers/context.ts';
import type { SchoolRow } from '../resolvers/schools.ts';
import type { SectionRow } from '../resolvers/sections.ts';
import type { StudentRow } from '../resolvers/students.ts';
import type { StaffRow } from '../resolvers/staff.ts';
import type { PredictionRow, ResultRow } from '../resolvers/assessments.ts';
import type { ChronicRow, ComparisonRow, CorrelationRow, EquityRow, WellbeingRow } from '../resolvers/views.ts';
import type { AttendanceAggregateRow } from '../resolvers/aggregates.ts';
import type { SnapshotInfo } from '../resolvers/snapshots.ts';
import type { Page } from '../resolvers/page.ts';
import { GraphQLError } from 'graphql';
import { builder } from './builder.ts';

export interface In<R> {
  d: SnapshotData;
  row: R;
}

export const SnapshotRef = builder.objectRef<SnapshotInfo>('Snapshot');
export const PublishedRef = builder.objectRef<SnapshotData>('Published');
export const SchoolRef = builder.objectRef<In<SchoolRow>>('School');
export const SectionRef = builder.objectRef<In<SectionRow>>('Section');
export const StudentRef = builder.objectRef<In<StudentRow>>('Student');
export const StaffRef = builder.objectRef<In<StaffRow>>('Staff');
export const ResultRef = builder.objectRef<In<ResultRow>>('AssessmentResult');
export const PredictionRef = builder.objectRef<In<PredictionRow>>('Prediction');
export const ChronicRef = builder.objectRef<In<ChronicRow>>('ChronicAbsenteeismRisk');
export const WellbeingRef = builder.objectRef<In<WellbeingRow>>('WellbeingRiskProfile');
export const EquityRef = builder.objectRef<In<EquityRow>>('EquityOutcome');
export const ComparisonRef = builder.objectRef<In<ComparisonRow>>('ClassSectionComparison');
export const CorrelationRef = builder.objectRef<In<CorrelationRow>>('PerformanceCorrelation');
export const AttendanceAggregateRef = builder.objectRef<In<AttendanceAggregateRow>>('AttendanceAggregate');

export function wrap<R>(d: SnapshotData, rows: R[]): Array<In<R>> {
  return rows.map((row) => ({ d, row }));
}

export function wrapOne<R>(d: SnapshotData, row: R | null): In<R> | null {
  return row === null ? null : { d, row };
}

/** A page of rows as a relay connection (edges, pageInfo, totalCount). */
export function connection<R>(d: SnapshotData, page: Page<R>) {
  return {
    totalCount: page.totalCount,
    edges: page.rows.map((row, i) => ({ cursor: page.cursorAt(i), node: { d, row } })),
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.offset > 0,
      startCursor: page.rows.length > 0 ? page.cursorAt(0) : null,
      endCursor: page.rows.length > 0 ? page.cursorAt(page.rows.length - 1) : null,
    },
  };
}

/** Global node IDs: "<snapshot id>:<key>" (the relay plugin adds the type name and encodes). */
export function nodeId(d: SnapshotData, key: string): string {
  return `${d.info.id}:${key}`;
}

export function parseNodeId(id: string): { snapshotId: number; key: string } {
  const m = /^([1-9][0-9]*):([A-Za-z0-9_-]{1,128})$/.exec(id);
  if (!m) throw new GraphQLError('invalid node id', { extensions: { code: 'BAD_USER_INPUT' } });
  return { snapshotId: Number(m[1]), key: m[2] as string };
}
