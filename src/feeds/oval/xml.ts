import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { SaxesParser } from 'saxes';
import unbzip2 from 'unbzip2-stream';
import { createGunzip } from 'node:zlib';
import { TextDecoder } from 'node:util';

/**
 * Streaming XML for OVAL documents, with the decoding rules of Go's encoding/xml that
 * claircore's updaters see (spec clair-updaters.md §2.5.4): character data is not trimmed,
 * the predefined entities, character references and CDATA are decoded, `\r\n` and lone `\r`
 * become `\n`, names are matched by their local part (prefixes are dropped), and reading
 * stops when the root element closes (Go's Decode never looks past it). Events are produced
 * one input chunk at a time, so memory is bounded by the chunk size whatever the document size.
 */
export type XmlEvent =
  | { type: 'open'; name: string; attrs: Readonly<Record<string, string>> }
  | { type: 'text'; text: string }
  | { type: 'close'; name: string };

/** A malformed document; `line`/`column` are 1-based positions in the decompressed text. */
export class XmlSyntaxError extends Error {
  constructor(message: string, readonly line: number, readonly column: number) {
    super(message);
  }
}

export type XmlCompression = 'bzip2' | 'gzip' | 'none';

/** Compression by magic bytes (`BZh`, gzip), like claircore's zreader would see it. */
export async function sniffCompression(file: string): Promise<XmlCompression> {
  const fh = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(3), 0, 3, 0);
    const b = buffer.subarray(0, bytesRead);
    if (b.length >= 3 && b.toString('latin1') === 'BZh') return 'bzip2';
    if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
    return 'none';
  } finally {
    await fh.close();
  }
}

/** A compressed stream that is not of the expected kind, corrupt, or cut short. */
export class DecompressionError extends Error {
  constructor(readonly compression: Exclude<XmlCompression, 'none'>, cause: Error) {
    super(`corrupt or truncated ${compression} stream: ${cause.message}`, { cause });
  }
}

/** The decompressed byte stream of a mirror file. */
export function openDecompressed(file: string, compression: XmlCompression): Readable {
  const raw = createReadStream(file, { highWaterMark: 64 * 1024 });
  if (compression === 'none') return raw;
  const decompress: NodeJS.ReadWriteStream = compression === 'bzip2' ? unbzip2() : createGunzip();
  // unbzip2-stream is a classic stream: hand its output to a PassThrough (async-iterable, with backpressure).
  const out = new PassThrough();
  const fail = (err: Error) => out.destroy(err);
  raw.on('error', fail);
  decompress.on('error', (err: Error) => fail(new DecompressionError(compression, err)));
  out.on('close', () => raw.destroy());
  raw.pipe(decompress).pipe(out);
  return out;
}

function localName(name: string): string {
  const i = name.indexOf(':');
  return i === -1 ? name : name.slice(i + 1);
}

/** Charsets Go's xmlutil.CharsetReader handles that TextDecoder can decode. */
function decoderFor(label: string): TextDecoder {
  const l = label.toLowerCase();
  if (l === 'utf-8' || l === 'utf8' || l === 'us-ascii' || l === 'ascii') return new TextDecoder('utf-8', { fatal: true });
  if (l === 'iso-8859-1' || l === 'latin1' || l === 'latin-1' || l === 'windows-1252') return new TextDecoder('windows-1252', { fatal: true });
  throw new XmlSyntaxError(`unsupported document encoding ${JSON.stringify(label)}`, 1, 1);
}

/** Reads the XML declaration's encoding (default UTF-8) from the first bytes. */
function declaredEncoding(head: Buffer): string {
  const text = head.toString('latin1', 0, Math.min(head.length, 200));
  const m = /^(?:\uFEFF|\xEF\xBB\xBF)?<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(text);
  return m ? m[1] : 'utf-8';
}

/**
 * Yields the events of one document. Throws XmlSyntaxError on malformed XML (including
 * invalid UTF-8 and a document that ends before its root element closes).
 */
export async function* xmlEvents(input: AsyncIterable<Buffer | string>): AsyncGenerator<XmlEvent> {
  const parser = new SaxesParser({ xmlns: false, position: true });
  let pending: XmlEvent[] = [];
  let depth = 0;
  let done = false;
  let failure: Error | undefined;
  parser.on('opentag', (tag) => {
    if (done) return;
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(tag.attributes as Record<string, string>)) attrs[localName(k)] = v;
    depth++;
    pending.push({ type: 'open', name: localName(tag.name), attrs });
  });
  parser.on('closetag', (tag) => {
    if (done) return;
    depth--;
    pending.push({ type: 'close', name: localName(tag.name) });
    if (depth === 0) done = true;
  });
  parser.on('text', (text) => {
    if (!done && depth > 0) pending.push({ type: 'text', text });
  });
  parser.on('cdata', (text) => {
    if (!done && depth > 0) pending.push({ type: 'text', text });
  });
  parser.on('error', (err) => {
    if (!done) failure ??= err;
  });
  const fail = (message: string): XmlSyntaxError => {
    // saxes prefixes its messages with the position the error was found at (column 0-based);
    // after a chunk, the parser itself is already past it.
    const at = /^(\d+):(\d+): /.exec(message);
    return at
      ? new XmlSyntaxError(message.slice(at[0].length), Number(at[1]), Number(at[2]) + 1)
      : new XmlSyntaxError(message, parser.line, parser.column + 1);
  };
  let decoder: TextDecoder | undefined;
  for await (const chunk of input) {
    let text: string;
    if (typeof chunk === 'string') {
      text = chunk;
    } else {
      decoder ??= decoderFor(declaredEncoding(chunk));
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        throw fail('invalid byte sequence for the document encoding');
      }
    }
    try {
      parser.write(text);
    } catch (err) {
      if (!done) failure ??= err as Error;
    }
    if (failure) throw fail(failure.message);
    const out = pending;
    pending = [];
    yield* out;
    if (done) return;
  }
  if (decoder) {
    try {
      parser.write(decoder.decode());
    } catch (err) {
      if (!done) failure ??= err as Error;
    }
  }
  if (failure) throw fail(failure.message);
  yield* pending;
  if (!done) throw fail(depth === 0 && pending.length === 0 ? 'no root element' : 'unexpected end of document');
}
