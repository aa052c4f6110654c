import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FileCheck, type FileScan } from '../../../src/bundle/file-check.js';

function scan(data: Buffer, fields: number, chunk: number, slow = false): FileScan {
  const check = new FileCheck(fields, slow);
  for (let i = 0; i < data.length; i += chunk) {
    check.update(data.subarray(i, i + chunk));
    if (check.firstProblem) break;
  }
  return check.finish();
}

const good = Buffer.from('"hash","name","x"\n"\\x01","CVE-1 ""quoted"", é ✓ 𝄞","a,b\nc"\n"\\x02","",\n');

describe('FileCheck', () => {
  it('a well-formed CSV: records, header, sha256, no problem, whatever the chunking', () => {
    for (const chunk of [1, 2, 3, 5, 64, 1 << 16]) {
      const r = scan(good, 3, chunk);
      expect(r).toEqual({ sha256: createHash('sha256').update(good).digest('hex'), size: good.length, records: 3, header: '"hash","name","x"\n', problem: undefined });
    }
  });

  const damaged: [string, Buffer, FileScan['problem']][] = [
    ['NUL', Buffer.from('"a","b"\n"x\0","y"\n'), { record: 2, what: 'a NUL byte' }],
    ['lone continuation byte', Buffer.concat([Buffer.from('"a","b"\n"x'), Buffer.from([0x80]), Buffer.from('","y"\n')]), { record: 2, what: 'invalid UTF-8' }],
    ['overlong', Buffer.concat([Buffer.from('"a","b"\n"x'), Buffer.from([0xc0, 0xaf]), Buffer.from('","y"\n')]), { record: 2, what: 'invalid UTF-8' }],
    ['surrogate', Buffer.concat([Buffer.from('"a","b"\n"x'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('","y"\n')]), { record: 2, what: 'invalid UTF-8' }],
    ['truncated sequence at the end', Buffer.concat([Buffer.from('"a","b"\n"x","y'), Buffer.from([0xe2, 0x9c])]), { record: 2, what: 'an unterminated quoted field' }],
    ['stray quote', Buffer.from('"a","b"\n"x"y,"z"\n'), { record: 2, what: 'a stray quote inside a quoted field' }],
    ['quote in an unquoted field', Buffer.from('"a","b"\nx"y,"z"\n'), { record: 2, what: 'a quote inside an unquoted field' }],
    ['field count', Buffer.from('"a","b"\n"x"\n'), { record: 2, what: '1 fields, expected 2' }],
    ['end-of-data marker', Buffer.from('"a","b"\n\\.\n"x","y"\n'), { record: 2, what: 'an unquoted \\. line (COPY would stop reading there)' }],
    ['unterminated quote', Buffer.from('"a","b"\n"x,y\n'), { record: 2, what: 'an unterminated quoted field' }],
  ];
  it.each(damaged)('%s: found at the same record by the fast path and the byte walk, whatever the chunking', (_name, data, problem) => {
    for (const chunk of [1, 2, 3, 4, 7, 1 << 16]) {
      expect(scan(data, 2, chunk).problem, `chunk ${chunk}`).toEqual(problem);
      expect(scan(data, 2, chunk, true).problem, `chunk ${chunk} slow`).toEqual(problem);
    }
  });

  it('random byte soup: the fast path agrees with the byte walk (problem, records)', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const alphabet = [0x22, 0x2c, 0x0a, 0x61, 0x5c, 0x2e, 0x00, 0xc3, 0xa9, 0xe2, 0x9c, 0x93, 0xf0, 0x9d, 0x84, 0x9e, 0x80, 0xff];
    for (let n = 0; n < 400; n++) {
      const len = 1 + Math.floor(rnd() * 80);
      const bytes = Buffer.from(Array.from({ length: len }, () => (rnd() < 0.6 ? 0x61 : alphabet[Math.floor(rnd() * alphabet.length)])));
      const fields = 1 + Math.floor(rnd() * 3);
      const slow = scan(bytes, fields, bytes.length, true);
      for (const chunk of [1, 3, 5, bytes.length]) {
        const fast = scan(bytes, fields, chunk);
        expect({ problem: fast.problem, records: fast.problem ? 0 : fast.records }, `${bytes.toString('hex')} fields ${fields} chunk ${chunk}`)
          .toEqual({ problem: slow.problem, records: slow.problem ? 0 : slow.records });
      }
    }
  });
});
