/**
 * `edlake generate`: write the fictional sample district (landing files in the real layouts of
 * their systems, and truth/ for tests). See seeds/generator/ and docs/formats/README.md.
 */
import type { Command } from 'commander';
import { UsageError } from './errors.ts';
import { GenerateArgumentError, MAX_STUDENTS, generate, parseArgs, checkOutDir } from '../../seeds/generator/generate.ts';

interface GenerateFlags {
  students?: string;
  seed?: string;
  out?: string;
  schoolYear?: string;
  through?: string;
  messiness?: string;
  quiet?: boolean;
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description(
      'Generate the fictional sample district: DIR/landing/<source>/<delivery date>/<files> in the native layouts of the SIS, LMS, state and vendor systems, and DIR/truth/ (hidden parameters and injected defects). Same arguments, same bytes; a later --through adds only the new nights.',
    )
    .requiredOption('--students <n>', `number of students of the main district (1 to ${MAX_STUDENTS}); a second Ed-Fi district gets about a tenth`)
    .requiredOption('--seed <s>', 'random seed, a whole number from 0 to 4294967295')
    .requiredOption('--out <dir>', 'output folder: new, empty, or a folder generated before with the same arguments')
    .option('--school-year <y>', 'school year, named by its spring year (2025-26 is 2026)', '2026')
    .option('--through <date>', 'last delivery date to write, YYYY-MM-DD (default: the last instructional day)')
    .option('--messiness <level>', 'none, low, realistic or high: messy layouts and injected defects', 'realistic')
    .option('--quiet', 'print only the summary line')
    .action(async (flags: GenerateFlags) => {
      let opts;
      try {
        opts = parseArgs(flags);
        await checkOutDir(opts);
      } catch (err) {
        if (err instanceof GenerateArgumentError) throw new UsageError(err.message);
        throw err;
      }
      const log = flags.quiet ? undefined : (msg: string) => process.stderr.write(`generate: ${msg}\n`);
      const res = await generate({ ...opts, ...(log ? { log } : {}) });
      if (res.skippedThrough !== null) {
        process.stdout.write(`${opts.out} already holds every delivery through ${res.skippedThrough}; nothing to add.\n`);
      }
      process.stdout.write(
        `Generated ${opts.students} students (seed ${opts.seed}, school year ${opts.schoolYear}, messiness ${opts.messiness}) through ${res.through} into ${opts.out}: ${res.deliveries} delivery nights, ${res.files} files, ${(res.bytes / 1e6).toFixed(1)} MB, ${res.defects} injected defects; peak memory ${res.peakRssMb.join(' + ')} MB; CPU ${res.cpuSeconds.join(' + ')} s.\n`,
      );
    });
}
