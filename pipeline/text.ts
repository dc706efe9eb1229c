/**
 * Reading delivered bytes as text: one streaming pass that hashes the file and judges its
 * encoding, then the header line and the delimiter. Nothing here guesses types.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import iconv from 'iconv-lite';

export type Encoding = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be' | 'windows-1252';

export interface FileScan {
  sha256: string;
  bytes: number;
  /** Encoding judged from the BOM and the bytes; undefined when the bytes are not text. */
  encoding: Encoding | undefined;
  /** Why the bytes are not text, when they are not. */
  notText?: string;
}

const HEAD_BYTES = 256 * 1024;

/** Control characters that never occur in a text export (everything below 0x20 but TAB, LF, CR, FF, SUB). */
function isBadControl(b: number): boolean {
  return b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c && b !== 0x1a;
}

/**
 * Bytes at the end of `b` that begin a UTF-8 sequence the buffer does not complete (0-3): a lead
 * byte among the last three whose sequence is longer than what follows it.
 */
export function incompleteUtf8Tail(b: Uint8Array): number {
  for (let k = 1; k <= Math.min(3, b.length); k++) {
    const byte = b[b.length - k] as number;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: look further back
    if (byte < 0xc0) return 0; // ASCII: nothing pending
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
    return need > k ? k : 0;
  }
  return 0;
}

/** Hash the file and judge its encoding in one streaming pass (its head is read by `readHead`). */
export async function scanFile(path: string): Promise<FileScan> {
  const hash = createHash('sha256');
  let utf8Valid = true;
  // bytes of a UTF-8 sequence cut by the chunk boundary, validated with the next chunk
  let carry: Buffer | null = null;
  let bytes = 0;
  let nul = 0;
  let controls = 0;
  const headChunks: Buffer[] = [];
  let headLen = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer;
    hash.update(buf);
    bytes += buf.length;
    if (headLen < HEAD_BYTES) {
      const take = buf.subarray(0, HEAD_BYTES - headLen);
      headChunks.push(take);
      headLen += take.length;
    }
    if (utf8Valid) {
      // validated without decoding (simdutf): a decode of every chunk cost as much as the hash
      const b: Buffer = carry ? Buffer.concat([carry, buf]) : buf;
      const cut = incompleteUtf8Tail(b);
      utf8Valid = isUtf8(b.subarray(0, b.length - cut));
      carry = cut > 0 ? Buffer.from(b.subarray(b.length - cut)) : null;
    }
    // NUL anywhere means binary; other control bytes are counted in the first 256 KiB only
    if (buf.indexOf(0) >= 0) nul++;
    if (bytes - buf.length < HEAD_BYTES) {
      const end = Math.min(buf.length, HEAD_BYTES - (bytes - buf.length));
      for (let i = 0; i < end; i++) {
        const b = buf[i] as number;
        if (b < 0x20 && isBadControl(b)) controls++;
      }
    }
  }
  // a sequence cut by the end of the file is not UTF-8
  if (carry) utf8Valid = false;
  const head = Buffer.concat(headChunks);
  const sha256 = hash.digest('hex');
  if (bytes === 0) return { sha256, bytes, encoding: undefined, notText: 'the file is empty' };
  let encoding: Encoding;
  if (head[0] === 0xff && head[1] === 0xfe) encoding = 'utf-16le';
  else if (head[0] === 0xfe && head[1] === 0xff) encoding = 'utf-16be';
  else if (nul > 0) return { sha256, bytes, encoding: undefined, notText: 'the file holds NUL bytes: binary, not text' };
  else if (controls > Math.max(2, Math.min(bytes, HEAD_BYTES) / 1000))
    return { sha256, bytes, encoding: undefined, notText: `the file holds ${controls} control byte(s): binary, not text` };
  else if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) encoding = utf8Valid ? 'utf-8-bom' : 'windows-1252';
  else encoding = utf8Valid ? 'utf-8' : 'windows-1252';
  return { sha256, bytes, encoding };
}

/**
 * A text file's first bytes (up to 256 KiB) decoded, BOM removed: for the header line and the
 * format. Read when the file is inhaled, not kept by the scan (a whole landing is scanned first).
 */
export async function readHead(path: string, encoding: Encoding): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return decodeHead(buf.subarray(0, bytesRead), encoding);
  } finally {
    await fh.close();
  }
}

function decodeHead(head: Buffer, encoding: Encoding): string {
  switch (encoding) {
    case 'utf-8':
      return head.toString('utf8');
    case 'utf-8-bom':
      return head.subarray(3).toString('utf8');
    case 'utf-16le':
      return iconv.decode(head.subarray(2), 'utf-16le');
    case 'utf-16be':
      return iconv.decode(head.subarray(2), 'utf-16be');
    case 'windows-1252':
      return iconv.decode(head, 'windows-1252');
  }
}

/** Whether DuckDB can read the bytes as they are (UTF-8, with or without BOM). */
export function readableAsIs(encoding: Encoding): boolean {
  return encoding === 'utf-8' || encoding === 'utf-8-bom';
}

/** Convert a non-UTF-8 file to UTF-8 (streaming), BOM removed. */
export async function convertToUtf8(src: string, dest: string, encoding: Encoding): Promise<void> {
  const from = encoding === 'utf-8-bom' ? 'utf-8' : encoding;
  await pipeline(createReadStream(src), iconv.decodeStream(from, { stripBOM: true }), iconv.encodeStream('utf-8'), createWriteStream(dest));
}

export type TextFormat = 'csv' | 'ndjson' | 'xml';

export function detectFormat(head: string): TextFormat {
  const t = head.trimStart();
  if (t.startsWith('<')) return 'xml';
  if (t.startsWith('{')) return 'ndjson';
  return 'csv';
}

/** The first record of a CSV text (quoted newlines respected), without its line ending. */
export function firstRecord(text: string): string {
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') inQuotes = !inQuotes;
    else if (!inQuotes && (c === '\n' || c === '\r')) return text.slice(0, i);
  }
  return text;
}

export const DELIMITERS = [',', '\t', '^', '|', ';'] as const;
export type Delimiter = (typeof DELIMITERS)[number];

/** The delimiter that splits the header line into the most fields (outside quotes). */
export function detectDelimiter(headerLine: string): Delimiter {
  let best: Delimiter = ',';
  let bestCount = -1;
  for (const d of DELIMITERS) {
    let n = 0;
    let inQuotes = false;
    for (const c of headerLine) {
      if (c === '"') inQuotes = !inQuotes;
      else if (!inQuotes && c === d) n++;
    }
    if (n > bestCount) {
      best = d;
      bestCount = n;
    }
  }
  return best;
}

/** Split one CSV record into fields (RFC 4180 quotes, "" as an escaped quote). */
export function splitRecord(line: string, delimiter: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuotes = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (inQuotes) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else inQuotes = false;
      } else cur += c;
    } else if (c === '"') inQuotes = true;
    else if (c === delimiter) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Normalized form of a header name, for matching aliases: lower case, letters and digits only. */
export function normalizeHeader(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}
