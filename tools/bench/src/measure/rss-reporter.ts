/**
 * Loaded into a measured Node process with `--import` (see {@link rssReporterNodeOptions}): at exit it writes the
 * process's peak resident set size (`process.resourceUsage().maxRSS`, KiB) to the file named by
 * `GITLAB_FARGATE_BENCH_RSS_FILE`. The kernel keeps that high-water mark, so no sampling can miss a peak, and it
 * needs no `/usr/bin/time` on the machine.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.GITLAB_FARGATE_BENCH_RSS_FILE;
if (file) {
  // Children of the measured process must not overwrite its figure.
  delete process.env.GITLAB_FARGATE_BENCH_RSS_FILE;
  process.on('exit', () => {
    writeFileSync(file, `${process.resourceUsage().maxRSS}\n`);
  });
}
