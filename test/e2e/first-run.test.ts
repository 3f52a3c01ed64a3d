import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, readdir, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_KUBEADM_VERSION } from '../../src/distribution/kubeadm/assets.js';
import { KIAB, kiab, kiabOk, labelledObjects, run, tempDir } from './helpers.js';

/** What a newcomer meets first: the default distribution without its assets, doctor, and completion. */

const OFFLINE = 'e2e-first-offline';
const TAB = 'e2e-first-tab';

interface DoctorJson {
  ready: boolean;
  checks: Array<{ id: string; status: 'ok' | 'warn' | 'fail'; message: string; fix: string | null }>;
}

const CHECKS = ['engine', 'cgroup', 'capabilities', 'kmsg', 'nofile', 'inotify', 'disk', 'br_netfilter', 'overlay', 'iptables', 'ipvs', 'ipv6', 'assets', 'go'];

/** PATH without any folder that holds `go`: a host where Go is not installed. */
function pathWithoutGo(): string {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir && !existsSync(join(dir, 'go')))
    .join(delimiter);
}

describe('the first run', () => {
  describe('plain `kiab up` with no kubeadm assets and no network', () => {
    let env: NodeJS.ProcessEnv;
    before(async () => {
      // An empty cache, and the release site at a closed loopback port: what a machine without network sees.
      env = { ...process.env, KIAB_CACHE_DIR: await tempDir('kiab-empty-cache-'), KIAB_K8S_RELEASE_URL: 'http://127.0.0.1:1' };
      await kiab(['delete', OFFLINE]);
    });
    after(async () => {
      await kiab(['delete', OFFLINE]);
    });

    it('exits 1 naming what is missing and both ways to get it without a network, creating nothing', async () => {
      const result = await kiab(['up', OFFLINE], { env });
      assert.equal(result.code, 1, result.stderr);
      const line = result.stderr.trim().split('\n').pop()!;
      assert.match(
        line,
        new RegExp(
          `^kiab: no kubeadm assets for Kubernetes ${DEFAULT_KUBEADM_VERSION.replace(/\./g, '\\.')} in the cache, and downloading the release failed: cannot download http://127\\.0\\.0\\.1:1/\\S+ \\(ECONNREFUSED\\)`,
        ),
      );
      assert.match(line, /`kiab assets build --k8s kubeadm --k8s-version v\d+\.\d+\.\d+` \(Go is installed\)/);
      assert.match(line, /`kiab assets import FILE`/);
      assert.deepEqual(await labelledObjects(OFFLINE), { containers: [], networks: [], volumes: [] });
      assert.deepEqual(await readdir(env.KIAB_CACHE_DIR!), [], 'not even an empty folder in the cache');
    });

    it('does not offer a build from source where Go is not installed', async () => {
      const result = await kiab(['up', OFFLINE], { env: { ...env, PATH: pathWithoutGo() } });
      assert.equal(result.code, 1, result.stderr);
      const line = result.stderr.trim().split('\n').pop()!;
      assert.match(line, /`kiab assets import FILE`/);
      assert.doesNotMatch(line, /assets build/);
      assert.deepEqual(await labelledObjects(OFFLINE), { containers: [], networks: [], volumes: [] });
    });
  });

  describe('kiab doctor', () => {
    it('reports every check with its status, message and fix, and exits 1 exactly when something blocks up', async () => {
      const result = await kiab(['doctor', '-o', 'json']);
      const report = JSON.parse(result.stdout) as DoctorJson;
      assert.deepEqual(
        report.checks.map((check) => check.id),
        CHECKS,
      );
      for (const check of report.checks) {
        assert.ok(['ok', 'warn', 'fail'].includes(check.status), `${check.id}: ${check.status}`);
        assert.ok(check.message.length > 0, check.id);
        if (check.status !== 'ok') assert.ok(check.fix, `${check.id} says how to fix it`);
      }
      assert.equal(
        report.ready,
        report.checks.every((check) => check.status !== 'fail'),
      );
      assert.equal(result.code, report.ready ? 0 : 1, result.stderr);
      // The engine this suite runs against is a local, working one.
      assert.equal(report.checks[0]!.status, 'ok');
      assert.equal(report.checks.find((check) => check.id === 'kmsg')!.status, 'ok');
    });
  });

  describe('shell completion', () => {
    let bin: string;
    before(async () => {
      await kiab(['delete', TAB]);
      await kiabOk(['up', TAB, '--k8s', 'none', '--workers', '1', '--no-snapshot', '--no-switch']);
      // `kiab` on PATH, as the completion scripts call it.
      bin = await tempDir('kiab-bin-');
      await writeFile(join(bin, 'kiab'), `#!/bin/sh\nexec '${process.execPath}' '${KIAB}' "$@"\n`);
      await chmod(join(bin, 'kiab'), 0o755);
    });
    after(async () => {
      await kiab(['delete', TAB]);
    });

    /** What bash offers for each command line (its last word under the cursor), from one sourced script. */
    async function bashOffers(lines: string[][]): Promise<string[][]> {
      const quoted = (words: string[]): string => words.map((word) => `'${word}'`).join(' ');
      const script = [
        'source <(kiab completion bash)',
        ...lines.map((words) => `COMP_WORDS=(kiab ${quoted(words)}); COMP_CWORD=${words.length}; _kiab; printf '%s\\n' "\${COMPREPLY[@]}" ---`),
      ].join('\n');
      const path = [bin, dirname(process.execPath), process.env.PATH].join(delimiter);
      const result = await run('bash', ['-c', script], { env: { ...process.env, PATH: path } });
      assert.equal(result.code, 0, result.stderr);
      return result.stdout
        .split('---\n')
        .slice(0, lines.length)
        .map((block) => block.split('\n').filter(Boolean));
    }

    it("bash offers a real cluster's name, its machines, and kiab's own commands and choices", async () => {
      const [all, one, machines, short, choices, commands] = await bashOffers([
        ['status', ''],
        ['status', TAB.slice(0, -1)],
        ['exec', `kiab-${TAB}-`],
        ['node', 'stop', '--cluster', TAB, 'w'],
        ['up', '--k8s', ''],
        ['doc'],
      ]);
      assert.ok(all!.includes(TAB), `the cluster among the names: ${all!.join(' ')}`);
      assert.deepEqual(one, [TAB]);
      assert.deepEqual(machines, [`kiab-${TAB}-server-0`, `kiab-${TAB}-worker-0`]);
      assert.deepEqual(short, ['worker-0']);
      assert.deepEqual(choices, ['kubeadm', 'k3s', 'none']);
      assert.deepEqual(commands, ['doctor']);
    });

    it('prints a script for zsh and fish too', async () => {
      for (const shell of ['zsh', 'fish']) assert.match((await kiabOk(['completion', shell])).stdout, /kiab __complete --/);
      assert.equal((await kiab(['completion', 'tcsh'])).code, 2);
    });
  });
});
