/** `bytes` cut into pieces of `size` bytes (the last one shorter), as a stream may deliver them. */
export function chunksOf(bytes: Buffer, size: number): Buffer[] {
  return Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
}
