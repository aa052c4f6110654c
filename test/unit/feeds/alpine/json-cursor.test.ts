import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonCursor, JsonSyntaxError } from '../../../../src/feeds/alpine/json-cursor.js';

async function file(text: string | Buffer): Promise<string> {
  const p = path.join(await mkdtemp(path.join(tmpdir(), 'json-cursor-')), 'doc.json');
  await writeFile(p, text);
  return p;
}

/** Walks `{key: [values…] | value}` and returns what it read. */
async function walk(p: string): Promise<Record<string, unknown>> {
  const cur = new JsonCursor(p);
  const out: Record<string, unknown> = {};
  try {
    await cur.enterObject();
    for (let k = await cur.nextKey(); k !== undefined; k = await cur.nextKey()) {
      if ((await cur.peekKind()) === 'array') {
        const items: unknown[] = [];
        await cur.enterArray();
        while (await cur.nextElement()) items.push(await cur.readValue());
        out[k] = items;
      } else {
        out[k] = await cur.readValue();
      }
    }
  } finally {
    cur.close();
  }
  return out;
}

describe('JsonCursor', () => {
  it('reads values that straddle 64 KiB chunk boundaries, escapes included, like JSON.parse', async () => {
    const doc = {
      a: Array.from({ length: 3000 }, (_, i) => ({ s: `x\\"\u00e9\u{1F600}${'\\'.repeat(i % 7)}`, n: i * 1.5, t: i % 2 === 0, z: null, e: [], o: {} })),
      'k\u00e9y "q"': 'v',
      b: -1.25e-7,
    };
    expect(await walk(await file(JSON.stringify(doc)))).toEqual(doc);
    expect(await walk(await file(JSON.stringify(doc, null, '\t')))).toEqual(doc);
  });

  it.each([
    ['{"a": [1, 2', 'unexpected end of JSON input'],
    ['{"a": [1,]}', 'invalid JSON value'],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a": 1 "b": 2}', "invalid character '\"' after object value"],
    ['{"a": [1 2]}', "invalid character '2' after array element"],
    ['{"a": tru}', 'invalid JSON value'],
    ['{"a": "x\ny"}', 'invalid character in string literal'],
    ['\ufeff{}', 'invalid character byte 0xef'],
    ['', 'unexpected end of JSON input'],
  ])('%j is a syntax error (%s)', async (text, message) => {
    await expect(walk(await file(text))).rejects.toThrow(JsonSyntaxError);
    await expect(walk(await file(text))).rejects.toThrow(message);
  });

  it('stops after the first complete value, as json.Decoder does', async () => {
    expect(await walk(await file('{"a": 1} trailing [garbage'))).toEqual({ a: 1 });
  });
});
