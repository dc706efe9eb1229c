/**
 * Ed-Fi XML interchanges → NDJSON records, streaming (saxes): each child element of the
 * interchange root is one record. An element with only text becomes a string; with children an
 * object; a child name that repeats becomes an array. Values stay text as delivered.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { SaxesParser } from 'saxes';

type JsonNode = string | { [k: string]: JsonNode | JsonNode[] };

interface Frame {
  name: string;
  attrs: Record<string, string>;
  children: Map<string, JsonNode[]>;
  text: string;
}

function localName(qname: string): string {
  const i = qname.indexOf(':');
  return i < 0 ? qname : qname.slice(i + 1);
}

function finish(f: Frame): JsonNode {
  const attrNames = Object.keys(f.attrs);
  if (f.children.size === 0 && attrNames.length === 0) return f.text.trim();
  const o: { [k: string]: JsonNode | JsonNode[] } = {};
  // attributes as "@name" (Ed-Fi XML uses id/ref to link records within an interchange)
  for (const a of attrNames) o[`@${a}`] = f.attrs[a] as string;
  for (const [k, vs] of f.children) o[k] = vs.length === 1 ? (vs[0] as JsonNode) : vs;
  if (f.children.size === 0 && f.text.trim() !== '') o['#text'] = f.text.trim();
  return o;
}

export interface XmlToNdjsonResult {
  root: string;
  records: number;
  recordTypes: Record<string, number>;
}

/** Convert an interchange to NDJSON lines `{"t": <element>, "r": <record>}`; throws on malformed XML. */
export async function xmlToNdjson(src: string, dest: string): Promise<XmlToNdjsonResult> {
  const out = createWriteStream(dest, { encoding: 'utf8' });
  const parser = new SaxesParser({ xmlns: false, position: true });
  const stack: Frame[] = [];
  let root = '';
  let records = 0;
  const recordTypes: Record<string, number> = {};
  let pending: string[] = [];
  let failure: Error | undefined;
  parser.on('error', (e) => {
    failure ??= e;
  });
  parser.on('opentag', (tag) => {
    const name = localName(tag.name);
    if (stack.length === 0 && root === '') root = name;
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(tag.attributes)) {
      if (!k.startsWith('xmlns') && !k.includes(':')) attrs[k] = String(v);
    }
    stack.push({ name, attrs: stack.length === 0 ? {} : attrs, children: new Map(), text: '' });
  });
  parser.on('text', (t) => {
    const top = stack[stack.length - 1];
    if (top && stack.length >= 3) top.text += t;
  });
  parser.on('cdata', (t) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  });
  parser.on('closetag', () => {
    const f = stack.pop();
    if (!f) return;
    if (stack.length === 1) {
      records++;
      recordTypes[f.name] = (recordTypes[f.name] ?? 0) + 1;
      pending.push(JSON.stringify({ t: f.name, r: finish(f) }));
      return;
    }
    const parent = stack[stack.length - 1];
    if (parent && stack.length >= 2) {
      const list = parent.children.get(f.name);
      const node = finish(f);
      if (list) list.push(node);
      else parent.children.set(f.name, [node]);
    }
  });
  const input = createReadStream(src, { encoding: 'utf8', highWaterMark: 1 << 20 });
  for await (const chunk of input) {
    parser.write(chunk as string);
    if (failure) break;
    if (pending.length > 0) {
      if (!out.write(`${pending.join('\n')}\n`)) await once(out, 'drain');
      pending = [];
    }
  }
  if (!failure) parser.close();
  if (pending.length > 0) out.write(`${pending.join('\n')}\n`);
  out.end();
  await once(out, 'finish');
  if (failure) throw new Error(`malformed XML: ${failure.message}`);
  if (root === '') throw new Error('no XML root element');
  return { root, records, recordTypes };
}

/** The root element of an XML text head, namespace prefix removed. */
export function xmlRootName(head: string): string | undefined {
  const m = /<(?![?!])([A-Za-z_][\w.:-]*)/.exec(head);
  return m ? localName(m[1] as string) : undefined;
}
