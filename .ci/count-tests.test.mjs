// Tests of count-tests.mjs on made-up workspaces (node:test, no dependencies: .ci/run runs it before npm ci).
// Each report mirrors the fields of vitest 4's JSON reporter that count-tests reads.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('count-tests.mjs', import.meta.url));
const FILE = 'packages/a/src/a.test.ts';

let root;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'count-tests-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A package with a test script whose vitest report holds `tests` ([status, full name, failure message?]) of one file. */
function workspacePackage(name, tests, { report = true } = {}) {
  const dir = join(root, 'packages', name);
  mkdirSync(join(dir, 'test-results'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, scripts: { test: 'vitest run' } }));
  if (!report) return;
  const count = (status) => tests.filter(([s]) => s === status).length;
  writeFileSync(
    join(dir, 'test-results', 'vitest.json'),
    JSON.stringify({
      numPassedTests: count('passed'),
      numFailedTests: count('failed'),
      numPendingTests: count('skipped'),
      numTodoTests: count('todo'),
      success: count('failed') === 0,
      testResults: [
        {
          name: join(dir, 'src', `${name}.test.ts`),
          assertionResults: tests.map(([status, fullName, failure]) => ({
            status,
            fullName,
            failureMessages: failure === undefined ? [] : [failure],
          })),
        },
      ],
    }),
  );
}

function allowList(...lines) {
  mkdirSync(join(root, '.ci'), { recursive: true });
  writeFileSync(join(root, '.ci', 'allowed-skips.txt'), ['# comment', '', ...lines].join('\n'));
}

function countTests() {
  const run = spawnSync(process.execPath, [SCRIPT], { cwd: root, encoding: 'utf8' });
  return { code: run.status, line: run.stdout.trim(), stderr: run.stderr };
}

describe('count-tests', () => {
  it('passes a run without skips, summing every package', () => {
    workspacePackage('a', [['passed', 'x one'], ['passed', 'x two']]);
    workspacePackage('b', [['passed', 'y']]);
    const run = countTests();
    assert.equal(run.code, 0);
    assert.equal(run.line, '3 passed, 0 failed, 0 skipped');
  });

  it('fails on a skipped or todo test that the allow-list does not name, and says which', () => {
    workspacePackage('a', [['passed', 'x one'], ['skipped', 'x needs a tool'], ['todo', 'x later']]);
    const run = countTests();
    assert.equal(run.code, 1);
    assert.equal(run.line, '1 passed, 2 failed, 0 skipped');
    assert.match(run.stderr, new RegExp(`skipped, and not in .ci/allowed-skips.txt: ${FILE} :: x needs a tool`));
    assert.match(run.stderr, new RegExp(`skipped, and not in .ci/allowed-skips.txt: ${FILE} :: x later`));
  });

  it('accepts a skip listed with its reason', () => {
    workspacePackage('a', [['passed', 'x one'], ['skipped', 'x needs a tool']]);
    allowList(`${FILE} :: x needs a tool # the tool has no Linux build`);
    const run = countTests();
    assert.equal(run.code, 0);
    assert.equal(run.line, '1 passed, 0 failed, 1 skipped');
  });

  it('does not let an entry for one file allow the same test name in another', () => {
    workspacePackage('a', [['skipped', 'same name']]);
    allowList('packages/other/src/other.test.ts :: same name # elsewhere');
    const run = countTests();
    assert.equal(run.code, 1);
    assert.match(run.stderr, /skipped, and not in .*: packages\/a\/src\/a\.test\.ts :: same name/);
  });

  it('refuses an entry without a reason, naming its line', () => {
    workspacePackage('a', [['skipped', 'x needs a tool']]);
    allowList(`${FILE} :: x needs a tool`);
    const run = countTests();
    assert.equal(run.code, 1);
    assert.match(run.stderr, /\.ci\/allowed-skips\.txt:3: expected "FILE :: FULL TEST NAME # REASON"/);
    assert.equal(run.line, '0 passed, 2 failed, 0 skipped');
  });

  it('fails on an entry whose test was not skipped, so the list cannot go stale', () => {
    workspacePackage('a', [['passed', 'x needs a tool']]);
    allowList(`${FILE} :: x needs a tool # was missing once`);
    const run = countTests();
    assert.equal(run.code, 1);
    assert.match(run.stderr, /allowed-skips\.txt:3: allows a skip that did not happen \(remove the line\)/);
    assert.equal(run.line, '1 passed, 1 failed, 0 skipped');
  });

  it('names each failed test next to the closing line, with the first line of its failure', () => {
    workspacePackage('a', [['passed', 'x one'], ['failed', 'x two', '\u001b[31mAssertionError: expected 1 to be 2\u001b[39m\n    at a.test.ts:3:4']]);
    const run = countTests();
    assert.equal(run.code, 1);
    assert.equal(run.line, '1 passed, 1 failed, 0 skipped');
    assert.match(run.stderr, /count-tests: FAILED packages\/a\/src\/a\.test\.ts :: x two: AssertionError: expected 1 to be 2\n/);
  });

  it('names a test file that failed to load, with its message', () => {
    workspacePackage('a', [['passed', 'x one']]);
    const report = join(root, 'packages', 'a', 'test-results', 'vitest.json');
    const file = { name: join(root, FILE), status: 'failed', message: 'Error: Cannot find module ./gone.js', assertionResults: [] };
    writeFileSync(report, JSON.stringify({ numPassedTests: 1, numFailedTests: 0, success: false, testResults: [file] }));
    const run = countTests();
    assert.equal(run.code, 1);
    assert.match(run.stderr, /count-tests: FAILED packages\/a\/src\/a\.test\.ts: Error: Cannot find module \.\/gone\.js\n/);
  });

  it('counts a package with a test script but no report, and a suite that failed to load, as failures', () => {
    workspacePackage('a', [], { report: false });
    workspacePackage('b', [['passed', 'y']]);
    const report = join(root, 'packages', 'b', 'test-results', 'vitest.json');
    writeFileSync(report, JSON.stringify({ numPassedTests: 1, numFailedTests: 0, success: false, testResults: [] }));
    const run = countTests();
    assert.equal(run.code, 1);
    assert.equal(run.line, '1 passed, 2 failed, 0 skipped');
    assert.match(run.stderr, /count-tests: FAILED packages\/a: wrote no packages\/a\/test-results\/vitest\.json/);
  });
});
