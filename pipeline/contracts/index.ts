export * from './types.ts';
export * from './entities.ts';
export * from './ddl.ts';
