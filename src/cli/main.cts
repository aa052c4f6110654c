#!/usr/bin/env node
// The command's entry point (package.json "bin", the image's ENTRYPOINT). It is CommonJS on
// purpose: it runs before node starts libuv's thread pool, so the pool size it sets takes effect.
// An ES module entry is too late for that: node's ESM loader reads the module through the pool,
// which starts it with its default of 4 threads.
//
// Why 16: a keyed refresh reads its changed rows from their places in the bundle's files, thousands
// of small positioned reads on that pool. With the files not in the page cache (as after copying a
// bundle in), 89 k rows of an 8.8 GB file took 3.6-4.6 s on 16 threads and 5.3-13.5 s on 4 (README
// "Performance"). A value already in the environment is kept.
import { THREAD_POOL_SIZE } from './pool-size.cjs';

process.env.UV_THREADPOOL_SIZE ??= THREAD_POOL_SIZE;
void import('./index.js');
