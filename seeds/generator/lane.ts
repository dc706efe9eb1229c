/**
 * Child-process entry of generator lane 1 (see generate.ts, decision 0102): receives the
 * options from the parent, writes its lane's deliveries, sends back defects and counts.
 */
import { buildWorld, runLane, type GenerateOptions } from './generate.ts';

interface LaneRequest {
  opts: GenerateOptions;
  /** -Infinity arrives as null through IPC (JSON) */
  afterDay: number | null;
  throughDay: number;
  verbose: boolean;
}

process.once('message', (m: unknown) => {
  const req = m as LaneRequest;
  const log = req.verbose ? (msg: string) => process.stderr.write(`generate: ${msg}\n`) : () => {};
  const afterDay = req.afterDay === null ? -Infinity : req.afterDay;
  runLane(buildWorld(req.opts), req.opts.messiness, 1, afterDay, req.throughDay, log).then(
    (res) => {
      process.send?.(res, () => process.exit(0));
    },
    (err: unknown) => {
      process.stderr.write(`generate lane 1: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
});
