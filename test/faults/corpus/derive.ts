import { createGzip, crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import tar from 'tar-stream';

/**
 * How the corpus derives bad inputs from real files: cut them short, put a NUL byte or invalid
 * UTF-8 into a value, blow a value up, wrap a real entry into a hostile archive (path traversal,
 * symlink, bomb). No feed data is invented: every archive entry and every value that gets damaged
 * comes from a real fixture file.
 */

/** The first `fraction` of the bytes. */
export const truncate = (b: Buffer, fraction = 0.5): Buffer => b.subarray(0, Math.floor(b.length * fraction));

/** Replaces the first occurrence of `needle` (latin1) with `by`. */
export function replaceOnce(b: Buffer, needle: string | RegExp, by: (match: string) => Buffer | string): Buffer {
  const text = b.toString('latin1');
  const m = typeof needle === 'string' ? { index: text.indexOf(needle), 0: needle } : needle.exec(text);
  if (!m || m.index < 0) throw new Error(`corpus: ${String(needle)} not found`);
  const rep = by(m[0]);
  return Buffer.concat([b.subarray(0, m.index), typeof rep === 'string' ? Buffer.from(rep, 'latin1') : rep, b.subarray(m.index + m[0].length)]);
}

/** Inserts bytes right after the first occurrence of `after`. */
export function insertAfter(b: Buffer, after: string | RegExp, bytes: Buffer): Buffer {
  return replaceOnce(b, after, (m) => Buffer.concat([Buffer.from(m, 'latin1'), bytes]));
}

export const NUL = Buffer.from([0]);
/** A lone continuation byte and an overlong encoding: invalid UTF-8. */
export const BAD_UTF8 = Buffer.from([0x80, 0xc0, 0xaf]);
/** A JSON-escaped NUL character (valid JSON, not storable in PostgreSQL). */
export const JSON_NUL = Buffer.from('\\u0000');

/** A plain or gzipped tar built with tar-stream. */
export async function makeTar(entries: (Partial<tar.Header> & { name: string })[], bodies: (Buffer | null)[], gzip = true): Promise<Buffer> {
  const pack = tar.pack();
  entries.forEach((h, i) => {
    const body = bodies[i];
    if (body) pack.entry(h, body);
    else pack.entry(h).end(undefined);
  });
  pack.finalize();
  const chunks: Buffer[] = [];
  const stream = gzip ? (pack as unknown as Readable).pipe(createGzip()) : (pack as unknown as Readable);
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A gzipped tar with one entry of `size` zero bytes (streamed: never held in memory). */
export async function tarGzBomb(name: string, size: number): Promise<Buffer> {
  const pack = tar.pack();
  const entry = pack.entry({ name, size });
  const out: Buffer[] = [];
  const gz = (pack as unknown as Readable).pipe(createGzip({ level: 9 }));
  const done = (async () => {
    for await (const c of gz) out.push(c as Buffer);
  })();
  const zeros = Buffer.alloc(1 << 20);
  for (let sent = 0; sent < size; sent += zeros.length) {
    if (!entry.write(zeros.subarray(0, Math.min(zeros.length, size - sent)))) await new Promise<void>((r) => entry.once('drain', () => r()));
  }
  entry.end(undefined);
  pack.finalize();
  await done;
  return Buffer.concat(out);
}

export interface ZipEntry {
  name: string;
  data: Buffer;
  /** Declare this uncompressed size instead of the real one (a lying header). */
  declaredSize?: number;
}

/** A minimal zip writer (deflate), enough to wrap real entries into hostile archives. */
export function makeZip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const comp = deflateRawSync(e.data);
    const crc = crc32(e.data);
    const size = e.declaredSize ?? e.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(comp.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0x0800, 8);
    cd.writeUInt16LE(8, 10);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(comp.length, 20);
    cd.writeUInt32LE(size, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42);
    locals.push(local, name, comp);
    central.push(cd, name);
    offset += local.length + name.length + comp.length;
  }
  const cdBuf = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdBuf.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cdBuf, end]);
}

/** Entries of a zip file (stored or deflated), via yauzl. */
export async function readZipEntries(file: string): Promise<{ name: string; data: Buffer }[]> {
  const yauzl = (await import('yauzl')).default;
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const out: { name: string; data: Buffer }[] = [];
      zip.on('entry', (e: { fileName: string }) => {
        if (e.fileName.endsWith('/')) return zip.readEntry();
        zip.openReadStream(e as never, (err2, s) => {
          if (err2 || !s) return reject(err2);
          const chunks: Buffer[] = [];
          s.on('data', (c: Buffer) => chunks.push(c));
          s.on('end', () => {
            out.push({ name: e.fileName, data: Buffer.concat(chunks) });
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(out));
      zip.readEntry();
    });
  });
}

export const gzip = (b: Buffer): Buffer => gzipSync(b);
