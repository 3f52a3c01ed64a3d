import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { docker, KIAB, kiab, labelledObjects, makeBusyboxImage, run, tempDir } from './helpers.js';

/**
 * The README's five-minute tour, as a newcomer types it: the commands are read from README.md itself (the
 * fenced block after the `<!-- tour: ... -->` marker), so a wrong command on the front page fails here. The
 * cluster is bare machines (`--k8s none`): the commands that need Kubernetes are reported as skipped, all
 * others run in one bash session (the tour's variables carry from line to line) and must exit 0.
 */
const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const CLUSTER = 'e2e-tour';
/** The image the tour pushes, which it assumes the reader has ("any image of yours"). */
const USER_IMAGE = 'app:1';

/** The commands of the block that follows the tour marker. */
function tourCommands(readme: string): string[] {
  const lines = readme.split('\n');
  const marker = lines.findIndex((line) => line.startsWith('<!-- tour:'));
  assert.ok(marker >= 0, 'README.md has no <!-- tour: ... --> marker');
  assert.match(lines[marker + 1] ?? '', /^```(sh|bash)$/, 'the tour marker must stand right before a ```sh block');
  const end = lines.findIndex((line, index) => index > marker + 1 && line.startsWith('```'));
  assert.ok(end > marker, 'the tour block is not closed');
  return lines
    .slice(marker + 2, end)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** Why a command cannot run on bare machines, or undefined when it can. */
function needsKubernetes(command: string): string | undefined {
  if (/^kubectl\b/.test(command)) return 'kubectl needs Kubernetes';
  if (/^curl\b/.test(command)) return 'the Ingress it reaches needs Kubernetes';
  return undefined;
}

/** The tour's command as this test runs it: its own cluster name, and bare machines for `kiab up`. */
function adapt(command: string): string {
  const named = command.replace(/\bdev\b/g, CLUSTER);
  if (!/^kiab up\b/.test(named)) return named;
  const comment = named.search(/\s#\s/);
  return comment === -1 ? `${named} --k8s none` : `${named.slice(0, comment)} --k8s none${named.slice(comment)}`;
}

describe("the README's tour on bare machines", () => {
  let createdImage = false;
  let registry = '';

  after(async () => {
    await kiab(['delete', CLUSTER]);
    if (registry) await run('docker', ['rmi', `${registry}/app:1`]);
    if (createdImage) await run('docker', ['rmi', USER_IMAGE]);
  });

  it('runs every command that applies to bare machines, and leaves nothing behind', async (t) => {
    const commands = tourCommands(await readFile(README, 'utf8'));
    // The tour is what the front page promises: these steps must be in it.
    for (const step of [/^kiab up dev\b/, /^kiab status dev\b/, /^docker push /, /^kubectl /, /^kiab reset dev\b/, /^kiab delete dev\b/])
      assert.ok(
        commands.some((command) => step.test(command)),
        `the README's tour has no command matching ${step}`,
      );

    await kiab(['delete', CLUSTER]);
    if ((await run('docker', ['image', 'inspect', USER_IMAGE])).code !== 0) {
      await makeBusyboxImage(USER_IMAGE);
      createdImage = true;
    }

    // `kiab` on PATH, as after `npm install -g .`.
    const bin = await tempDir('tour-bin-');
    await writeFile(join(bin, 'kiab'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(KIAB)} "$@"\n`);
    await chmod(join(bin, 'kiab'), 0o755);

    // The registry's name is reported however the script ends, so `after` can remove the tag it pushed.
    const script = ['set -o pipefail', `trap 'printf "\\n__REGISTRY %s\\n" "\${REGISTRY:-}"' EXIT`];
    const ran: string[] = [];
    for (const command of commands) {
      const reason = needsKubernetes(command);
      if (reason) {
        t.diagnostic(`skipped on bare machines (${reason}): ${command}`);
        continue;
      }
      const adapted = adapt(command);
      ran.push(adapted);
      script.push(
        `printf '\\n__STEP %s\\n' ${ran.length - 1}`,
        adapted,
        `rc=$?; if [ "$rc" -ne 0 ]; then printf '\\n__FAILED %s %s\\n' ${ran.length - 1} "$rc"; exit 1; fi`,
      );
    }

    const result = await run('bash', ['-c', script.join('\n')], { env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` }, timeoutMs: 600_000 });
    registry = /^__REGISTRY (\S*)$/m.exec(result.stdout)?.[1] ?? '';
    const failed = /^__FAILED (\d+) (\d+)$/m.exec(result.stdout);
    if (failed) assert.fail(`the tour's command \`${ran[Number(failed[1])]}\` exited ${failed[2]}:\n${result.stderr.trim()}`);
    assert.equal(result.code, 0, result.stderr);
    for (const command of ran) t.diagnostic(`ran: ${command}`);
    assert.match(registry, /^localhost:\d+$/, 'the tour sets REGISTRY to the box registry');

    // The tour ends with `kiab delete`: nothing of the cluster is left.
    assert.deepEqual(await labelledObjects(CLUSTER), { containers: [], networks: [], volumes: [] });
    assert.equal(await docker(['images', '-q', '--filter', `label=dev.kiab.cluster=${CLUSTER}`]), '', 'snapshot images left behind');
  });
});
