import { copyFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { defaultNodeImage } from '../../src/images/index.js';
import { docker, eventually, kiab, run, tempDir } from './helpers.js';

/**
 * Stand-in engines for tests of several hosts on one machine: containers made from kiab's machine image (whose
 * entrypoint makes the cgroup tree writable, which nested containers need) plus this host's dockerd, each
 * answering on tcp://ADDRESS:2375 without TLS. They are removed, with their volumes and image, by `remove`.
 */
export interface StandInEngine {
  container: string;
  address: string;
  host: string;
}

/** Labels every object the harness makes, so that a run killed half-way is cleaned by the next. */
const HARNESS_LABEL = 'dev.kiab.e2e=engines';

/** The host's dockerd and its companions, and the libraries dockerd needs that the machine image lacks. */
async function engineFiles(): Promise<string[]> {
  const which = async (name: string): Promise<string> => {
    const found = await run('sh', ['-c', `command -v ${name}`]);
    if (found.code !== 0) throw new Error(`${name} is not on PATH: the stand-in engines need the host's dockerd`);
    return found.stdout.trim();
  };
  const binaries = await Promise.all(['dockerd', 'docker-proxy', 'docker-init', 'docker'].map(which));
  const ldd = await run('ldd', [binaries[0]!]);
  const libraries = [...ldd.stdout.matchAll(/=> (\S*(libdevmapper|libgcrypt|libgpg-error)\S*)/g)].map((match) => match[1]!);
  return [...binaries, ...libraries];
}

async function engineImage(): Promise<string> {
  const node = defaultNodeImage();
  if ((await run('docker', ['image', 'inspect', node])).code !== 0) {
    // kiab builds its machine image on the first up; bare machines make it without Kubernetes assets.
    const made = await kiab(['up', 'e2e-eng-image', '--k8s', 'none', '--workers', '0', '--no-snapshot']);
    await kiab(['delete', 'e2e-eng-image']);
    if (made.code !== 0) throw new Error(`kiab up to build the machine image: ${made.stderr}`);
  }
  const context = await tempDir('kiab-engine-image-');
  const files = await engineFiles();
  await Promise.all(files.map((file) => copyFile(file, join(context, basename(file)))));
  // Each file where it is on this host: the machine image is Debian too, its folders are the same.
  await writeFile(
    join(context, 'Dockerfile'),
    [`FROM ${node}`, `LABEL ${HARNESS_LABEL}`, ...files.map((file) => `COPY ${basename(file)} ${dirname(file)}/`)].join('\n'),
  );
  const tag = `e2e-eng/engine:${node.split(':')[1]}`;
  await docker(['build', '-q', '-t', tag, context]);
  return tag;
}

/** Removes every container and image the harness ever made here, a killed run's included. */
export async function removeStandInEngines(): Promise<void> {
  const containers = (await docker(['ps', '-aq', '--filter', `label=${HARNESS_LABEL}`])).split('\n').filter(Boolean);
  if (containers.length) await docker(['rm', '-f', '-v', ...containers]);
  const images = (await docker(['images', '-q', '--filter', `label=${HARNESS_LABEL}`])).split('\n').filter(Boolean);
  if (images.length) await run('docker', ['rmi', '-f', ...new Set(images)]);
}

/** Starts `count` stand-in engines named PREFIX-0, PREFIX-1...; resolves once each answers on TCP. */
export async function startStandInEngines(prefix: string, count: number): Promise<StandInEngine[]> {
  const image = await engineImage();
  const engines: StandInEngine[] = [];
  for (let index = 0; index < count; index += 1) {
    const container = `${prefix}-${index}`;
    // A machine's own flags (see src/provider/docker/container-config.ts); the engine's data on a volume of its own.
    await docker([
      'run',
      '-d',
      '--name',
      container,
      '--hostname',
      container,
      '--label',
      HARNESS_LABEL,
      '--cap-add',
      'ALL',
      '--cap-drop',
      'SYS_RESOURCE',
      '--security-opt',
      'seccomp=unconfined',
      '--security-opt',
      'apparmor=unconfined',
      '--cgroupns',
      'private',
      '--device',
      '/dev/kmsg',
      '--device-cgroup-rule',
      'a *:* rwm',
      '--tmpfs',
      '/run',
      '--tmpfs',
      '/tmp',
      '-v',
      '/var/lib/docker',
      image,
      'dockerd',
      '-H',
      'tcp://0.0.0.0:2375',
      '-H',
      'unix:///var/run/docker.sock',
      '--tls=false',
    ]);
    const address = await docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', container]);
    engines.push({ container, address, host: `tcp://${address}:2375` });
  }
  // dockerd delays a TCP listener without TLS on purpose (up to 15 s).
  await Promise.all(engines.map((engine) => eventually(() => docker(['-H', engine.host, 'info', '--format', '{{.ServerVersion}}']), 90_000, 500)));
  return engines;
}

/** The docker CLI on one stand-in engine. */
export function dockerOn(engine: StandInEngine, args: string[]): Promise<string> {
  return docker(['-H', engine.host, ...args]);
}
