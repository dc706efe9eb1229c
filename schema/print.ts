/** Write the printed SDL to schema/schema.graphql: `tsx schema/print.ts`. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printedSchema } from './index.ts';

writeFileSync(fileURLToPath(new URL('./schema.graphql', import.meta.url)), printedSchema());
