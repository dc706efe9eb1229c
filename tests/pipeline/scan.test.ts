/**
 * The encoding judgement of a delivered file (pipeline/text.ts scanFile) where a UTF-8 sequence is
 * cut by the 1 MiB read boundary, or by the end of the file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mapPool } from '../../pipeline/raw.ts';
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

describe('mapPool (the raw stage’s file pool)', () => {
  it('keeps the items’ order whatever order the calls finish in', async () => {
    const delays = [30, 5, 20, 1, 10];
    const out = await mapPool(delays, 2, async (ms) => new Promise<number>((r) => setTimeout(() => r(ms * 2), ms)));
    expect(out).toEqual([60, 10, 40, 2, 20]);
  });

  it('after a failure starts nothing new, lets the call in flight finish, then throws the first error', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const err = await mapPool([0, 1, 2, 3, 4, 5], 2, async (i) => {
      started.push(i);
      if (i === 0) throw new Error('file 0 failed');
      await new Promise((r) => setTimeout(r, 30));
      finished.push(i);
      return i;
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('file 0 failed');
    // item 1 was in flight when item 0 failed: it ran to its end before the pool returned
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([1]);
  });
});
