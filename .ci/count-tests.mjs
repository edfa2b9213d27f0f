// Sums every workspace package's vitest JSON report into CI's closing line "N passed, N failed, N skipped".
// A package with a test target but no report counts as one failure: its runner crashed before reporting.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const workspaceDirs = ['packages', 'tools'].flatMap((parent) =>
  existsSync(parent) ? readdirSync(parent).map((name) => join(parent, name)) : [],
);
let passed = 0;
let failed = 0;
let skipped = 0;
for (const dir of workspaceDirs) {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest) || !JSON.parse(readFileSync(manifest, 'utf8')).scripts?.test) continue;
  const report = join(dir, 'test-results', 'vitest.json');
  if (!existsSync(report)) {
    console.error(`count-tests: ${dir} has a test script but wrote no ${report}`);
    failed += 1;
    continue;
  }
  const results = JSON.parse(readFileSync(report, 'utf8'));
  passed += results.numPassedTests;
  failed += results.numFailedTests;
  skipped += results.numPendingTests + (results.numTodoTests ?? 0);
  // A suite that failed to load has no tests to count: make it visible as a failure.
  if (!results.success && results.numFailedTests === 0) failed += 1;
  console.error(`count-tests: ${dir}: ${results.numPassedTests} passed, ${results.numFailedTests} failed`);
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 ? 1 : 0;
