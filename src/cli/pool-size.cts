// The size of node's thread pool that the command's entry point (main.cts) sets unless the
// environment already sets one; the benchmark records it for its runs (bench/index.ts). Why 16:
// see main.cts.
export const THREAD_POOL_SIZE = '16';
