// Loaded into a server under test (node --expose-gc --import …/heap-probe.mjs): on SIGUSR2
// it collects garbage twice and writes its memory use, as JSON, to BENCH_HEAP_FILE. Only
// the benchmark loads it; it adds nothing to the server's work otherwise.
import { writeFileSync } from "node:fs";

const file = process.env.BENCH_HEAP_FILE;
if (file && typeof globalThis.gc === "function") {
  process.on("SIGUSR2", () => {
    globalThis.gc();
    globalThis.gc();
    const m = process.memoryUsage();
    writeFileSync(
      file,
      JSON.stringify({
        heap_used: m.heapUsed,
        external: m.external,
        array_buffers: m.arrayBuffers,
        rss: m.rss,
        at: Date.now(),
      }),
    );
  });
}
