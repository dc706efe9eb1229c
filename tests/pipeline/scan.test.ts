/**
 * The encoding judgement of a delivered file (pipeline/text.ts scanFile) where a UTF-8 sequence is
 * cut by the 1 MiB read boundary, or by the end of the file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkQueue } from '../../pipeline/raw.ts';
import { incompleteUtf8Tail, scanFile } from '../../pipeline/text.ts';
import { removeDir, sha256File, tempDir } from './helpers.ts';

const dir = tempDir('scan');
afterAll(() => removeDir(dir));
const CHUNK = 1 << 20;

function file(name: string, bytes: Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** `a,b\n` lines up to `at` bytes, then `tail`. */
function padded(at: number, tail: Buffer): Buffer {
  const pad = Buffer.alloc(at, 'x');
  for (let i = 9; i < at; i += 10) pad[i] = 0x0a;
  return Buffer.concat([Buffer.from('a,b\n'), pad.subarray(4), tail]);
}

describe('scanFile', () => {
  // "é" is C3 A9, "€" is E2 82 AC, "😀" is F0 9F 98 80
  for (const [name, ch] of [
    ['2-byte', 'é'],
    ['3-byte', '€'],
    ['4-byte', '😀'],
  ] as const) {
    it(`reads a ${name} character cut by the read boundary as UTF-8`, async () => {
      const bytes = Buffer.from(ch, 'utf8');
      for (let cut = 1; cut < bytes.length; cut++) {
        const p = file(`${name}-${cut}.csv`, padded(CHUNK - cut, Buffer.concat([bytes, Buffer.from('\nend\n')])));
        const s = await scanFile(p);
        expect(s.encoding).toBe('utf-8');
        expect(s.sha256).toBe(sha256File(p));
        expect(s.bytes).toBe(CHUNK + bytes.length - cut + 5);
      }
    });
  }

  it('reads a byte that is not UTF-8 after the first chunk as Windows-1252', async () => {
    // 0xE9 is "é" in Windows-1252, alone it is no UTF-8 sequence
    const s = await scanFile(file('cp1252.csv', padded(CHUNK + 5000, Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x0a]))));
    expect(s.encoding).toBe('windows-1252');
  });

  it('reads a sequence cut by the end of the file as Windows-1252', async () => {
    const s = await scanFile(file('truncated.csv', Buffer.concat([Buffer.from('a,b\n1,'), Buffer.from([0xe2, 0x82])])));
    expect(s.encoding).toBe('windows-1252');
  });

  it('counts the pending bytes of a cut sequence', () => {
    expect(incompleteUtf8Tail(Buffer.from('abc'))).toBe(0);
    expect(incompleteUtf8Tail(Buffer.from([0x61, 0xc3]))).toBe(1);
    expect(incompleteUtf8Tail(Buffer.from([0x61, 0xc3, 0xa9]))).toBe(0);
    expect(incompleteUtf8Tail(Buffer.from([0xe2, 0x82]))).toBe(2);
    expect(incompleteUtf8Tail(Buffer.from([0xf0, 0x9f, 0x98]))).toBe(3);
    expect(incompleteUtf8Tail(Buffer.from([0xf0, 0x9f, 0x98, 0x80]))).toBe(0);
  });
});

describe('WorkQueue (files handed from the hashing loop to the inhaling connections)', () => {
  it('hands items out in the order they were pushed, waits for the next, and ends when closed', async () => {
    const q = new WorkQueue<number>();
    const got: Array<number | undefined> = [];
    const consumer = (async () => {
      for (let i = await q.pull(); i !== undefined; i = await q.pull()) got.push(i);
      got.push(undefined);
    })();
    q.push(3);
    q.push(1);
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual([3, 1]); // the consumer now waits
    q.push(2);
    q.close();
    await consumer;
    expect(got).toEqual([3, 1, 2, undefined]);
  });

  it('after a failure hands out nothing more, wakes the waiting consumers and keeps the first error', async () => {
    const q = new WorkQueue<number>();
    const waiting = q.pull();
    q.fail(new Error('file 0 failed'));
    q.fail(new Error('file 1 failed'));
    expect(await waiting).toBeUndefined();
    q.push(4);
    expect(await q.pull()).toBeUndefined();
    expect(q.failed).toBe(true);
    expect((q.error?.value as Error).message).toBe('file 0 failed');
  });
});
