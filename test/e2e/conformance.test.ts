import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kiab, type Run, tempDir } from './helpers.js';

// The suite itself runs against the kubeadm suite's cluster (kubeadm.test.ts), which CI makes anyway;
// this file holds what needs no Kubernetes: the refusals.
const CLUSTER = 'e2e-conformance';

function assertOneLine(result: Run, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, `exit code; stderr: ${result.stderr}`);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got: ${result.stderr}`);
  assert.match(lines[0]!, pattern);
}

describe('kiab conformance refuses what it cannot test', () => {
  let cwd: string;
  before(async () => {
    cwd = await tempDir('kiab-conformance-');
    await kiab(['delete', CLUSTER]);
    const up = await kiab(['up', CLUSTER, '--k8s', 'none']);
    assert.equal(up.code, 0, up.stderr);
  });
  after(async () => {
    await kiab(['delete', CLUSTER]);
  });

  it('a cluster without Kubernetes (--k8s none): exit 2, one line, no report folder', async () => {
    const dir = join(cwd, 'reports');
    assertOneLine(await kiab(['conformance', CLUSTER, '--report-dir', dir]), 2, new RegExp(`cluster ${CLUSTER} runs no Kubernetes \\(--k8s none\\)`));
    assert.deepEqual(await readdir(cwd), []);
  });

  it('a cluster that does not exist: exit 1, one line naming it', async () => {
    assertOneLine(await kiab(['conformance', 'e2e-conformance-nothing']), 1, /cluster e2e-conformance-nothing does not exist/);
  });

  it('bad flags: exit 2, one line naming the flag', async () => {
    assertOneLine(await kiab(['conformance', CLUSTER, '--parallel', '0']), 2, /--parallel: must be between 1 and 32/);
    assertOneLine(await kiab(['conformance', CLUSTER, '--timeout', 'soon']), 2, /--timeout: "soon" is not a duration/);
    assertOneLine(await kiab(['conformance', CLUSTER, '--focus', '']), 2, /--focus: must not be empty/);
  });
});
