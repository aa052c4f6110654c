import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  GoJsonReader, GoJsonSyntaxError, GoJsonTypeError, enrichmentStoreProblem, goCompact, goDecodeUtf8, goField, goFloat64, goFoldName, goQuote, goTrimSpace,
} from '../../../../src/feeds/go-json.js';
import { goParseFloat } from '../../../../src/feeds/epss/go-float.js';

/**
 * Expected values are what Go's standard library wrote (test/fixtures/cvss/govectors.go →
 * go-json-vectors.tsv): encoding/json's float64 and string encoding, json.Encoder's compaction
 * of a json.RawMessage, string decoding, and strconv.ParseFloat.
 */
const VECTORS = readFileSync(path.resolve(import.meta.dirname, '../../../fixtures/cvss/go-json-vectors.tsv'), 'utf8')
  .trimEnd().split('\n').map((l) => l.split('\t') as [string, string, string]);
const of = (kind: string) => VECTORS.filter((v) => v[0] === kind);
const hex = (h: string) => Buffer.from(h, 'hex');
const bitsOf = (f: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(f);
  return b.toString('hex');
};
const fromBits = (h: string) => hex(h).readDoubleBE();

describe('feeds/go-json: Go encoding/json byte for byte', () => {
  it('float64 as json.Marshal writes it (shortest digits, exponent form below 1e-6 and from 1e21, -0)', () => {
    const vs = of('float');
    expect(vs.length).toBeGreaterThan(2000);
    const wrong = vs.filter(([, bits, want]) => goFloat64(fromBits(bits)) !== want);
    expect(wrong).toEqual([]);
    expect(goFloat64(5e-7)).toBe('5e-7');
    expect(goFloat64(-0)).toBe('-0');
    expect(() => goFloat64(NaN)).toThrow(/unsupported value: NaN/);
    expect(() => goFloat64(-Infinity)).toThrow(/-Inf/);
  });

  it('strings as json.Marshal writes them (HTML escaping, \\u2028/\\u2029, short escapes, \\ufffd per invalid byte)', () => {
    const vs = of('quote');
    expect(vs.length).toBeGreaterThan(300);
    const wrong = vs.filter(([, input, want]) => goQuote(hex(input)) !== hex(want).toString('utf8'));
    expect(wrong).toEqual([]);
    expect(goQuote('Apache Log4j2 & <JNDI>')).toBe('"Apache Log4j2 \\u0026 \\u003cJNDI\\u003e"');
  });

  it('json.RawMessage through json.Encoder: compacted, numbers and escapes as written, <>& and U+2028/2029 escaped', () => {
    for (const [, input, want] of of('compact')) expect(goCompact(hex(input))).toBe(hex(want).toString('utf8'));
    expect(goCompact(Buffer.from('{ "baseScore" : 10.0 }'))).toBe('{"baseScore":10.0}');
    expect(() => goCompact(Buffer.from([0x22, 0xff, 0x22]))).toThrow(GoJsonSyntaxError);
  });

  it('decodes string literals as json.Unmarshal does (unpaired surrogates and invalid UTF-8 become U+FFFD)', () => {
    for (const [, input, want] of of('decode')) {
      const r = new GoJsonReader(hex(input));
      if (want === 'err') expect(() => r.string(), input).toThrow(GoJsonSyntaxError);
      else expect(Buffer.from(r.string(), 'utf8').toString('hex'), input).toBe(want);
    }
  });

  it('strconv.ParseFloat(s, 64): accepted syntax, correctly rounded values, range errors', () => {
    const vs = of('parse');
    const got = vs.map(([, input]) => {
      const f = goParseFloat(hex(input).toString('latin1'));
      return f === undefined ? 'err' : bitsOf(f);
    });
    // NaN has many bit patterns; Go's is 7ff8000000000001, compare NaN-ness instead.
    const norm = (b: string) => (b !== 'err' && Number.isNaN(fromBits(b)) ? 'nan' : b);
    expect(got.map(norm)).toEqual(vs.map((v) => norm(v[2])));
  });

  it('Go string helpers: DecodeRune replacement per byte, TrimSpace keeps U+FEFF and trims U+0085', () => {
    expect(goDecodeUtf8(Buffer.from([0x61, 0xe2, 0x82, 0x62]))).toBe('a\uFFFD\uFFFDb');
    expect(goDecodeUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toBe('\uFFFD\uFFFD\uFFFD');
    expect(goTrimSpace('\u0085 x \uFEFF')).toBe('x \uFEFF');
  });
});

describe('feeds/go-json: struct decoding rules', () => {
  it('matches keys exactly first, then by Go ≥ 1.21 case folding', () => {
    expect(goField('cve', ['cve'])).toBe('cve');
    expect(goField('CVE', ['cve'])).toBe('cve');
    expect(goField('cVe', ['cve'])).toBe('cve');
    expect(goField('cvss_data', ['cvssData'])).toBeUndefined();
    // U+017F folds with 's', the Kelvin sign with 'k'.
    expect(goFoldName('ſ')).toBe('S');
    expect(goFoldName('\u212a')).toBe('K');
  });

  it('checks syntax like Go: numbers, literals, escapes, trailing commas', () => {
    const bad = ['{"a":01}', '{"a":1.}', '{"a":-}', '{"a":tru}', '{"a":"\\q"}', '{"a":1,}', '[1,]', '{"a" 1}', '{"a":"x\u0001"}', '{"a":.5}'];
    for (const text of bad) {
      expect(() => new GoJsonReader(Buffer.from(text)).skip(), text).toThrow(GoJsonSyntaxError);
    }
    const r = new GoJsonReader(Buffer.from(' {"a":[1,-0.5e+3,true,false,null,{"b":"\\u00e9"}]} trailing'));
    r.skip();
    expect(r.atEnd()).toBe(false);
  });

  it('typed fields: a string field takes a string or null, an int field an integer literal in int64 range', () => {
    expect(new GoJsonReader(Buffer.from('null')).goString('f')).toBeUndefined();
    expect(() => new GoJsonReader(Buffer.from('5')).goString('f')).toThrow(GoJsonTypeError);
    expect(new GoJsonReader(Buffer.from('-12')).goInt('n')).toBe(-12);
    expect(() => new GoJsonReader(Buffer.from('1.0')).goInt('n')).toThrow(GoJsonTypeError);
    expect(() => new GoJsonReader(Buffer.from('9223372036854775808')).goInt('n')).toThrow(GoJsonTypeError);
  });

  it('refuses what PostgreSQL cannot store: NUL in a tag, \\u0000 in jsonb', () => {
    expect(enrichmentStoreProblem(['CVE-1'], '{"a":"\\u0000"}')).toMatch(/jsonb/);
    expect(enrichmentStoreProblem(['CVE-1'], '{"a":"\\\\u0000"}')).toBeUndefined();
    expect(enrichmentStoreProblem(['CVE\u00001'], '{}')).toMatch(/NUL/);
  });
});
