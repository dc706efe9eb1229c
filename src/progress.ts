/**
 * Progress of a long run, for any stage of the pipeline.
 *
 * On a terminal: one status line rewritten in place (stage, item, rows, n/total, elapsed), and
 * finished stages left above it. Not on a terminal (logs, CI, a scheduler's child): plain,
 * timestamped lines, one per event, throttled so that a fast loop does not flood the log.
 *
 *   const p = createProgress();            // picks TTY or plain from the stream
 *   p.stage('models', 42);                 // a stage with 42 items
 *   p.item('dim_students', { rows: 1200 }); // an item done (or in progress)
 *   p.info('3 files rejected');
 *   p.done('models');                      // closes the stage with its duration
 */

export interface ProgressStream {
  write(s: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface Progress {
  stage(name: string, total?: number): void;
  /** An item of the current stage (a model, a file, a table), with the rows it produced. */
  item(name: string, detail?: { rows?: number; done?: boolean }): void;
  info(message: string): void;
  done(summary?: string): void;
  /** Close the status line (call at the end, also on failure). */
  end(): void;
}

export interface ProgressOptions {
  stream?: ProgressStream;
  /** Force the mode; by default a TTY stream gets the live line. */
  tty?: boolean;
  /** Minimum ms between two plain lines for items (stage starts/ends and infos are never throttled). */
  throttleMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

function fmtRows(n: number): string {
  return n.toLocaleString('en-US');
}

function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function createProgress(opts: ProgressOptions = {}): Progress {
  const stream: ProgressStream = opts.stream ?? process.stderr;
  const tty = opts.tty ?? Boolean(stream.isTTY);
  const now = opts.now ?? (() => performance.now());
  const throttle = opts.throttleMs ?? 1000;
  let stageName = '';
  let stageStart = now();
  let total: number | undefined;
  let count = 0;
  let rows = 0;
  let lastLine = -Infinity;
  let statusShown = false;

  const stamp = () => new Date().toISOString();
  const plain = (msg: string) => {
    stream.write(`${stamp()} ${msg}\n`);
  };
  const clearStatus = () => {
    if (tty && statusShown) {
      stream.write('\r\x1b[2K');
      statusShown = false;
    }
  };
  const drawStatus = (itemName: string) => {
    const width = stream.columns ?? 100;
    const pos = total !== undefined ? `${count}/${total}` : `${count}`;
    let line = `▸ ${stageName} ${pos}  ${itemName}  ${fmtRows(rows)} rows  ${fmtMs(now() - stageStart)}`;
    if (line.length > width - 1) line = line.slice(0, Math.max(10, width - 2));
    stream.write(`\r\x1b[2K${line}`);
    statusShown = true;
  };

  return {
    stage(name, t) {
      clearStatus();
      stageName = name;
      total = t;
      count = 0;
      rows = 0;
      stageStart = now();
      if (tty) drawStatus('');
      else plain(`stage ${name} started${t !== undefined ? ` (${t} items)` : ''}`);
    },
    item(name, detail = {}) {
      if (detail.done !== false) count++;
      if (detail.rows !== undefined) rows += detail.rows;
      if (tty) {
        drawStatus(name);
        return;
      }
      const t = now();
      const last = total !== undefined && count === total;
      if (t - lastLine >= throttle || last) {
        lastLine = t;
        const pos = total !== undefined ? ` ${count}/${total}` : ` ${count}`;
        plain(`stage ${stageName}${pos} ${name}${detail.rows !== undefined ? ` rows=${detail.rows}` : ''}`);
      }
    },
    info(message) {
      clearStatus();
      plain(message);
      if (tty && stageName) drawStatus('');
    },
    done(summary) {
      clearStatus();
      const d = fmtMs(now() - stageStart);
      const line = `stage ${stageName} done in ${d}: ${count} items, ${fmtRows(rows)} rows${summary ? `; ${summary}` : ''}`;
      if (tty) stream.write(`✓ ${line}\n`);
      else plain(line);
      stageName = '';
    },
    end() {
      clearStatus();
    },
  };
}

/** A reporter that says nothing (library calls without a terminal audience). */
export const silentProgress: Progress = {
  stage() {},
  item() {},
  info() {},
  done() {},
  end() {},
};
