#!/usr/bin/env node
/**
 * The `edlake` command-line program. Each command lives in `src/cli/<command>.ts`
 * and registers itself here; this file only assembles them.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from './config.ts';
import { UsageError } from './cli/errors.ts';
import { registerGenerate } from './cli/generate.ts';
import { registerPipeline } from './cli/pipeline.ts';
import { registerSnapshots } from './cli/snapshots.ts';
import { registerModel } from './cli/model.ts';
import { registerServe } from './cli/serve.ts';
import { registerToken } from './cli/token.ts';
import { registerDemo } from './cli/demo.ts';
import { registerConfig } from './cli/config.ts';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('edlake')
    .description('edlake: an education data platform. Pipeline (raw → refined → published) and GraphQL API over district data.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  // Commands register here, one line each (see src/cli/*.ts).
  registerGenerate(program);
  registerPipeline(program);
  registerModel(program);
  registerServe(program);
  registerToken(program);
  registerDemo(program);
  registerConfig(program);
  registerSnapshots(program); // keep last: attaches `runs` and `schedule` to `pipeline` when registered above
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit with code 0; usage errors already printed their message.
      return err.exitCode;
    }
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`edlake: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`edlake: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
