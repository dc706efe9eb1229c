/**
 * Malformed requests to a running `edlake serve` (a separate process on a loopback port) get clean
 * 4xx answers: no 5xx, no stack trace or file path in the body, and the server keeps serving.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.ts';
import { writeSnapshot } from '../../src/catalog/index.ts';
import { buildNight, TABLES } from '../catalog/fixture.ts';
import { serve, token, type Served } from './lib.ts';

describe('malformed requests', () => {
  let dir: string;
  let server: Served;
  let bearer: string;
  let url: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edlake-malformed-'));
    const lake = path.join(dir, 'lake');
    const db = await Db.open(':memory:');
    await buildNight(db, 1);
    await writeSnapshot({
      lake, db, tables: TABLES, runId: 'run-1', dataThrough: '2026-03-01', sourceFiles: [], dataTests: null,
      modelVersions: {}, dictionary: null, timezone: 'America/Los_Angeles',
    });
    db.close();
    server = await serve(lake);
    bearer = await token('data_analyst');
    url = `http://127.0.0.1:${server.port}/graphql`;
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const clean = async (res: Response, allowed: number[]) => {
    const text = await res.text();
    expect(allowed, `${res.status}: ${text.slice(0, 300)}`).toContain(res.status);
    expect(text).not.toMatch(/\n\s+at |node_modules|\/work\/|\.ts:\d+/);
    return text;
  };
  const post = (body: string | Blob, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...headers }, body });

  it('broken JSON', async () => {
    await clean(await post('{"query": "{ snapshots { id } }"'), [400]);
    await clean(await post('not json at all'), [400]);
    await clean(await post(''), [400]);
  });

  it('JSON of the wrong shape', async () => {
    await clean(await post('[1, 2, 3]'), [400]);
    await clean(await post('{"query": 42}'), [400]);
    // A query that is not GraphQL: 400 for a client that accepts the GraphQL-over-HTTP media type
    // (a plain application/json client gets 200 with the parse error, as that specification says).
    const t = await clean(await post('{"query": "{ snapshots { id } "}', { accept: 'application/graphql-response+json' }), [400]);
    expect(t).toContain('GRAPHQL_PARSE_FAILED');
    await clean(await post('{"query": "{ snapshots { id } }", "variables": "nope"}'), [400]);
  });

  it('a huge body', async () => {
    const huge = JSON.stringify({ query: '{ snapshots { id } }', variables: { pad: 'x'.repeat(8 * 2 ** 20) } });
    await clean(await post(huge), [400, 413]);
    const longQuery = JSON.stringify({ query: `{ ${'snapshots { id } '.repeat(200_000)} }` });
    await clean(await post(longQuery), [400, 413]);
  });

  // graphql-yoga also accepts application/x-www-form-urlencoded and text/plain bodies (GraphQL over
  // HTTP "simple requests"); they still need the bearer token, which a cross-site form cannot send.
  it('the wrong content type', async () => {
    await clean(await post(new Blob([new Uint8Array([0xff, 0xfe, 0x00, 0x01])]), { 'content-type': 'application/octet-stream' }), [400, 403, 415]);
    await clean(await post('<query/>', { 'content-type': 'application/xml' }), [400, 403, 415]);
    await clean(await post('{"query": "{ snapshots { id } }"}', { 'content-type': 'image/png' }), [400, 403, 415]);
  });

  it('a request cut off in the middle by a client that goes away, and a wrong method', async () => {
    // Announces 1,000 bytes, sends 10 and disconnects: the server must not hang or fall over.
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(server.port, '127.0.0.1', () => {
        s.write(`POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer ${bearer}\r\nContent-Length: 1000\r\n\r\n{"query":`);
        setTimeout(() => s.destroy(), 200);
      });
      s.on('error', reject);
      s.on('close', () => resolve());
    });
    await clean(await fetch(url, { method: 'PUT', headers: { authorization: `Bearer ${bearer}` }, body: '{}' }), [400, 404, 405]);
  });

  it('keeps serving well-formed requests afterwards', async () => {
    const res = await post(JSON.stringify({ query: '{ snapshots { id } }' }));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { snapshots: Array<{ id: string }> } }).data.snapshots.map((s) => s.id)).toEqual(['1']);
    expect(server.child.exitCode).toBeNull();
  });
});
