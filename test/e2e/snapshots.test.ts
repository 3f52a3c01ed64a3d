import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertInterrupts, docker, kiab, kiabJson, kiabOk, labelledObjects, makeBusyboxImage, startKiab, type StatusJson, tempDir } from './helpers.js';

const CLUSTER = 'e2e-snap';
const IMAGE = 'kiab-e2e/busybox:snap';
const machine = (role: string, index: number): string => `kiab-${CLUSTER}-${role}-${index}`;
/** A stand-in ctr whose import runs `importer` (never reading its input, or failing); every other ctr call is the real one. */
const ctrStandIn = (importer: string): string =>
  `mv /usr/bin/ctr /usr/bin/ctr.real && printf '%s\\n' '#!/bin/sh' 'case "$*" in *import*) ${importer} ;; esac' 'exec /usr/bin/ctr.real "$@"' > /usr/bin/ctr && chmod +x /usr/bin/ctr`;
// pkill -x, not -f: a pattern would match the shell running this line too, and kill it before the mv.
const restoreCtr = 'pkill -x sleep; mv /usr/bin/ctr.real /usr/bin/ctr';

/** Runs a busybox applet from the loaded image in a machine's containerd. */
const runLoadedImage = (node: string, container: string, ...applet: string[]) =>
  kiab(['exec', node, '--', 'ctr', '-n', 'k8s.io', 'run', '--rm', `docker.io/${IMAGE}`, container, '/busybox', ...applet]);

interface SnapshotJson {
  cluster: string;
  name: string;
  machines: string[];
}

async function snapshotImages(): Promise<string[]> {
  return (
    await docker(['images', '--filter', `label=dev.kiab.snapshot`, '--filter', `label=dev.kiab.cluster=${CLUSTER}`, '--format', '{{.Repository}}:{{.Tag}}'])
  )
    .split('\n')
    .filter(Boolean);
}

async function fileExists(node: string, path: string): Promise<boolean> {
  return (await kiab(['exec', node, '--', 'test', '-e', path])).code === 0;
}

async function imageInMachine(node: string): Promise<boolean> {
  const list = await kiabOk(['exec', node, '--', 'ctr', '-n', 'k8s.io', 'images', 'ls', '-q']);
  return list.stdout.includes(IMAGE.split(':')[0]!);
}

describe('snapshots and image load', () => {
  let initial: StatusJson;

  before(async () => {
    await kiab(['delete', CLUSTER]);
    await makeBusyboxImage(IMAGE);
    initial = await kiabJson<StatusJson>(['up', CLUSTER, '--k8s', 'none', '--workers', '2']);
  });

  after(async () => {
    await kiab(['delete', CLUSTER]);
  });

  it('up takes the clean snapshot of every machine', async () => {
    const snapshots = await kiabJson<SnapshotJson[]>(['snapshot', 'list', CLUSTER]);
    assert.deepEqual(
      snapshots.map((snapshot) => [snapshot.name, snapshot.machines.length]),
      [['clean', 3]],
    );
    assert.equal((await snapshotImages()).length, 3);
  });

  it('image load streams an image into every machine, and a container runs from it', async () => {
    const result = await kiabJson<{ nodes: Array<{ node: string; loaded: boolean }>; bytes: number }>(['image', 'load', IMAGE, '--cluster', CLUSTER]);
    assert.deepEqual(
      result.nodes.map((node) => [node.node, node.loaded]),
      [
        [machine('server', 0), true],
        [machine('worker', 0), true],
        [machine('worker', 1), true],
      ],
    );
    assert.ok(result.bytes > 500_000, `streamed ${result.bytes} bytes`);
    for (const node of [machine('server', 0), machine('worker', 0), machine('worker', 1)]) {
      const ran = await runLoadedImage(node, 'e2e-load', 'echo', `ran-on-${node}`);
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(ran.stdout.trim(), `ran-on-${node}`);
    }
  });

  it('image load --archive loads a tarball into selected nodes only', async () => {
    const archive = join(await tempDir('kiab-archive-'), 'busybox.tar');
    await docker(['save', '-o', archive, IMAGE]);
    await kiabOk(['exec', machine('worker', 1), '--', 'ctr', '-n', 'k8s.io', 'images', 'rm', `docker.io/${IMAGE}`]);
    await kiabOk(['exec', machine('server', 0), '--', 'ctr', '-n', 'k8s.io', 'images', 'rm', `docker.io/${IMAGE}`]);
    const result = await kiabJson<{ nodes: Array<{ node: string }> }>(['image', 'load', '--archive', archive, '--cluster', CLUSTER, '--nodes', 'worker-1']);
    assert.deepEqual(
      result.nodes.map((node) => node.node),
      [machine('worker', 1)],
    );
    assert.equal(await imageInMachine(machine('worker', 1)), true);
    assert.equal(await imageInMachine(machine('server', 0)), false);

    const directory = await kiab(['image', 'load', '--archive', tmpdir(), '--cluster', CLUSTER]);
    assert.equal(directory.code, 2, directory.stderr);
    assert.match(directory.stderr.trim(), /^kiab: --archive: \S+ is not a file$/);
  });

  it('a machine whose import fails or stalls holds back no other machine, and each result is reported', async () => {
    const stalling = machine('worker', 0);
    const failing = machine('worker', 1);
    await kiabOk(['exec', machine('server', 0), '--', 'ctr', '-n', 'k8s.io', 'images', 'rm', `docker.io/${IMAGE}`]);
    await kiabOk(['exec', stalling, '--', 'sh', '-c', ctrStandIn('exec sleep 300')]);
    await kiabOk(['exec', failing, '--', 'sh', '-c', ctrStandIn('echo "import refused on purpose" >&2; exit 3')]);
    try {
      const result = await kiab(['image', 'load', IMAGE, '--cluster', CLUSTER], { env: { ...process.env, KIAB_IMAGE_LOAD_STALL_SECONDS: '3' } });
      assert.equal(result.code, 1, result.stderr);
      const line = result.stderr.trim().split('\n').pop() ?? '';
      assert.match(line, new RegExp(`${stalling} failed \\(took no data for 3s and was stopped\\)`));
      assert.match(line, new RegExp(`${failing} failed \\(.*import refused on purpose`));
      assert.match(line, /loaded into 1 of 3 machines/);
      assert.equal(await imageInMachine(machine('server', 0)), true, 'the healthy machine got the image');
    } finally {
      for (const node of [stalling, failing]) await kiab(['exec', node, '--', 'sh', '-c', restoreCtr]);
    }
  });

  it('Ctrl-C during image load stops it at once with exit 130, also while a machine holds it up', async () => {
    const stalling = machine('worker', 0);
    await kiabOk(['exec', stalling, '--', 'sh', '-c', ctrStandIn('exec sleep 300')]);
    try {
      const running = startKiab(['image', 'load', IMAGE, '--cluster', CLUSTER]);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await assertInterrupts(running);
    } finally {
      await kiab(['exec', stalling, '--', 'sh', '-c', restoreCtr]);
    }
  });

  it('a named snapshot keeps loaded images; restoring it imports nothing again', async () => {
    await kiabOk(['snapshot', 'save', CLUSTER, 'loaded']);
    const duplicate = await kiab(['snapshot', 'save', CLUSTER, 'loaded']);
    assert.equal(duplicate.code, 2, duplicate.stderr);
    await kiabOk(['reset', CLUSTER]);
    assert.equal(await imageInMachine(machine('worker', 0)), false, 'clean has no loaded image');
    await kiabOk(['snapshot', 'restore', CLUSTER, 'loaded']);
    assert.equal(await imageInMachine(machine('worker', 0)), true, 'restored without a new import');
    const ran = await runLoadedImage(machine('worker', 0), 'e2e-restored', 'true');
    assert.equal(ran.code, 0, ran.stderr);
  });

  it('reset removes files written since (root filesystem and volume) and machines added since, keeping names and addresses', async () => {
    await kiabOk(['exec', machine('worker', 0), '--', 'sh', '-c', 'echo x > /root/after-snapshot && echo y > /var/lib/containerd/after-snapshot']);
    await kiabOk(['node', 'add', '--cluster', CLUSTER]);
    const restored = await kiabJson<StatusJson>(['reset', CLUSTER]);
    assert.equal(restored.state, 'running');
    assert.deepEqual(
      restored.nodes.map((node) => [node.name, node.ip]),
      initial.nodes.map((node) => [node.name, node.ip]),
    );
    assert.equal(await fileExists(machine('worker', 0), '/root/after-snapshot'), false);
    assert.equal(await fileExists(machine('worker', 0), '/var/lib/containerd/after-snapshot'), false);
    assert.equal((await kiabOk(['exec', machine('worker', 0), '--', 'hostname'])).stdout.trim(), machine('worker', 0));
    assert.ok(!(await labelledObjects(CLUSTER)).containers.includes(machine('worker', 2)), 'the machine added after the snapshot is gone');
    for (const node of restored.nodes) assert.match(node.system ?? '', /running|degraded/);
  });

  it('snapshot rm removes its images and volumes', async () => {
    await kiabOk(['snapshot', 'rm', CLUSTER, 'loaded']);
    const names = (await kiabJson<SnapshotJson[]>(['snapshot', 'list', CLUSTER])).map((snapshot) => snapshot.name);
    assert.deepEqual(names, ['clean']);
    const volumes = await docker(['volume', 'ls', '--filter', 'label=dev.kiab.snapshot=loaded', '--format', '{{.Name}}']);
    assert.equal(volumes, '');
  });

  it('snapshots survive delete only with --keep-snapshots, and restore brings the whole cluster back', async () => {
    await kiabOk(['delete', CLUSTER, '--keep-snapshots']);
    const left = await labelledObjects(CLUSTER);
    assert.deepEqual(left.containers, []);
    assert.deepEqual(left.networks, []);
    assert.equal((await snapshotImages()).length, 3);
    const back = await kiabJson<StatusJson>(['snapshot', 'restore', CLUSTER, 'clean']);
    assert.equal(back.state, 'running');
    assert.deepEqual(
      back.nodes.map((node) => node.ip),
      initial.nodes.map((node) => node.ip),
    );
    await kiabOk(['delete', CLUSTER]);
    assert.deepEqual(await snapshotImages(), []);
    assert.deepEqual(await labelledObjects(CLUSTER), { containers: [], networks: [], volumes: [] });
  });
});
