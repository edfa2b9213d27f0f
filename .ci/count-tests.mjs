// Sums every workspace package's vitest JSON report into CI's closing line "N passed, N failed, N skipped", and
// fails the run on any skipped (or todo) test that .ci/allowed-skips.txt does not list with a reason.
// A package with a test target but no report counts as one failure: its runner crashed before reporting.
// Run from the repository root (.ci/run does); the tests in count-tests.test.mjs run it on made-up workspaces.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const ALLOWED_SKIPS = join('.ci', 'allowed-skips.txt');
/** `FILE :: FULL TEST NAME # REASON`: the file relative to the repository root, the name as vitest reports it. */
const ENTRY = /^(\S+) :: (.+?) # (.*\S.*)$/;

/** Reads the allow-list; a malformed line is a problem, reported with where it is and how to write it. */
function readAllowedSkips(problems) {
  const allowed = new Map();
  if (!existsSync(ALLOWED_SKIPS)) return allowed;
  readFileSync(ALLOWED_SKIPS, 'utf8')
    .split('\n')
    .forEach((raw, index) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const match = ENTRY.exec(line);
      if (match === null) {
        problems.push(`${ALLOWED_SKIPS}:${index + 1}: expected "FILE :: FULL TEST NAME # REASON", found "${line}"`);
        return;
      }
      allowed.set(`${match[1]} :: ${match[2]}`, { line: index + 1, used: false });
    });
  return allowed;
}

/** Each skipped or todo test of one vitest JSON report, as `FILE :: FULL TEST NAME`. */
function skippedTests(results) {
  return (results.testResults ?? []).flatMap((file) =>
    (file.assertionResults ?? [])
      .filter((test) => test.status !== 'passed' && test.status !== 'failed')
      .map((test) => `${relative(process.cwd(), file.name)} :: ${test.fullName}`),
  );
}

/**
 * Each failed test of one vitest JSON report, as `FILE :: FULL TEST NAME: first line of its failure`: CI's log keeps
 * only its tail, so the names must come out here, next to the closing line, not only in the runner's output above.
 */
function failedTests(results) {
  return (results.testResults ?? []).flatMap((file) => {
    const where = relative(process.cwd(), file.name);
    const tests = (file.assertionResults ?? []).filter((test) => test.status === 'failed');
    // A file that failed to load has no failed tests, only its own message.
    if (tests.length === 0 && file.status === 'failed') return [`${where}: ${firstLine(file.message)}`];
    return tests.map((test) => `${where} :: ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`);
  });
}

/** The first non-empty line of a failure message, without colour codes, at most 300 characters. */
function firstLine(message) {
  // eslint-disable-next-line no-control-regex
  const plain = String(message ?? '(no message)').replace(/\u001b\[[0-9;]*m/g, '');
  const line = plain.split('\n').find((text) => text.trim() !== '') ?? '(no message)';
  return line.trim().slice(0, 300);
}

function packagesWithTests() {
  const dirs = ['packages', 'tools'].flatMap((parent) => (existsSync(parent) ? readdirSync(parent).map((name) => join(parent, name)) : []));
  return dirs.filter((dir) => {
    const manifest = join(dir, 'package.json');
    return existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).scripts?.test !== undefined;
  });
}

const problems = [];
const failures = [];
const allowed = readAllowedSkips(problems);
let passed = 0;
let failed = 0;
let skipped = 0;
for (const dir of packagesWithTests()) {
  const report = join(dir, 'test-results', 'vitest.json');
  if (!existsSync(report)) {
    console.error(`count-tests: ${dir} has a test script but wrote no ${report}`);
    failures.push(`${dir}: wrote no ${report} (its test runner crashed before reporting)`);
    failed += 1;
    continue;
  }
  const results = JSON.parse(readFileSync(report, 'utf8'));
  passed += results.numPassedTests;
  failed += results.numFailedTests;
  // A suite that failed to load has no tests to count: make it visible as a failure.
  if (!results.success && results.numFailedTests === 0) failed += 1;
  for (const test of skippedTests(results)) {
    const entry = allowed.get(test);
    if (entry === undefined) {
      problems.push(`skipped, and not in ${ALLOWED_SKIPS}: ${test}`);
      failed += 1; // counted as what it is for CI: a failure
    } else {
      entry.used = true;
      skipped += 1;
    }
  }
  console.error(`count-tests: ${dir}: ${results.numPassedTests} passed, ${results.numFailedTests} failed`);
  failures.push(...failedTests(results));
}
for (const failure of failures) console.error(`count-tests: FAILED ${failure}`);
for (const [test, entry] of allowed) {
  if (!entry.used) problems.push(`${ALLOWED_SKIPS}:${entry.line}: allows a skip that did not happen (remove the line): ${test}`);
}
for (const problem of problems) console.error(`count-tests: ${problem}`);
if (problems.length > 0) {
  console.error(`count-tests: a skip hides a test that CI cannot vouch for: make it run, or list it in ${ALLOWED_SKIPS} with the reason`);
}
// A wrong allow-list line is one failure too, so the closing line never reads green when the run is not.
failed += problems.filter((problem) => problem.startsWith(ALLOWED_SKIPS)).length;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 ? 1 : 0;
