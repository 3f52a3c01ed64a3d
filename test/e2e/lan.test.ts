// test-lane: cluster — it brings up a Kubernetes cluster: see scripts/test-lanes.ts
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { defaultNodeImage } from '../../src/images/index.js';
import { docker, hostPort, kiab, kiabOk, labelledObjects, makeBusyboxImage, run, tempDir, type StatusJson } from './helpers.js';
import { kubeadmSkip } from './kubeadm-cache.js';

/*
 * The box as a host on a LAN, with a link of this host's own making as the LAN: a dummy link, or an empty
 * bridge where the kernel has no dummy driver. Other hosts of that LAN are containers on the cluster's
 * macvlan network (a client) and a macvlan link in this host's namespace (a host that holds an address).
 */

const CLUSTER = 'pt-lan';
const LINK = `kiablan${process.pid % 10000}`;
const HOLDER = `${LINK}h`;

async function ip(args: string[]): Promise<void> {
  const result = await run('ip', args);
  if (result.code !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr.trim()}`);
}

/** A link of its own for the test; a kernel without the dummy driver gets a bridge with no ports, which sends nowhere either. */
async function makeLink(): Promise<void> {
  const dummy = await run('ip', ['link', 'add', LINK, 'type', 'dummy']);
  if (dummy.code !== 0) await ip(['link', 'add', LINK, 'type', 'bridge']);
  await ip(['link', 'set', LINK, 'up']);
}

/** A /24 among 192.168.240-254 that neither this host's routes nor the engine's networks use: 192.168.250 when free. */
async function freePrefix(): Promise<string> {
  const routes = (await run('ip', ['-4', 'route', 'show'])).stdout;
  const networks = await docker(['network', 'ls', '-q']);
  const subnets = networks ? await docker(['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{end}}', ...networks.split('\n')]) : '';
  for (const third of [250, 251, 252, 253, 254, ...Array.from({ length: 10 }, (_, index) => 240 + index)]) {
    const prefix = `192.168.${third}`;
    if (!routes.includes(`${prefix}.`) && !subnets.includes(`${prefix}.`)) return prefix;
  }
  throw new Error('no free /24 in 192.168.240-254 for the test LAN');
}

/** Runs a command in a throwaway host of the LAN (kiab's machine image, which has curl) at `address`. */
async function fromLanHost(address: string, command: string[], mounts: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('docker', [
    'run',
    '--rm',
    '--network',
    `kiab-${CLUSTER}.lan`,
    '--ip',
    address,
    ...mounts.flatMap((mount) => ['-v', mount]),
    '--entrypoint',
    command[0]!,
    defaultNodeImage(),
    ...command.slice(1),
  ]);
}

async function nothingOf(cluster: string): Promise<void> {
  assert.deepEqual(await labelledObjects(cluster), { containers: [], networks: [], volumes: [] });
}

describe('the box as a host on a LAN (macvlan on a link of the host)', { skip: kubeadmSkip }, () => {
  let prefix: string;
  let address: string;
  const lanFlags = (): string[] => ['--lan-parent', LINK, '--lan-address', `${address}/24`];
  const upFlags = ['--k8s', 'kubeadm', '--workers', '0', '--no-addons', '--no-snapshot', '--no-switch', '--wait', '8m'];

  before(async () => {
    await kiab(['delete', CLUSTER]);
    await makeLink();
    prefix = await freePrefix();
    address = `${prefix}.10`;
  });

  after(async () => {
    await kiab(['delete', CLUSTER]);
    await run('ip', ['link', 'del', HOLDER]);
    await run('ip', ['link', 'del', LINK]);
  });

  it('a link the host lacks is refused, exit 2, naming --lan-parent, with nothing made', async () => {
    const result = await kiab(['up', CLUSTER, ...upFlags, '--lan-parent', 'kiabnosuch0', '--lan-address', `${address}/24`]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--lan-parent: the engine's host has no network link "kiabnosuch0"/);
    await nothingOf(CLUSTER);
  });

  it('an address a host of the LAN answers for (ARP) is refused, exit 2, naming --lan-address, with nothing made', async () => {
    await ip(['link', 'add', HOLDER, 'link', LINK, 'type', 'macvlan', 'mode', 'bridge']);
    await ip(['addr', 'add', `${address}/24`, 'dev', HOLDER]);
    await ip(['link', 'set', HOLDER, 'up']);
    try {
      const result = await kiab(['up', CLUSTER, ...upFlags, ...lanFlags()]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`--lan-address: ${address.replace(/\./g, '\\.')} is already in use on the LAN of ${LINK}`));
      await nothingOf(CLUSTER);
    } finally {
      await ip(['link', 'del', HOLDER]);
    }
  });

  it('a host of the LAN reaches the registry on :5000 and the API on :6443 at the box address, TLS verified with the cluster CA', async () => {
    const made = await kiabOk(['up', CLUSTER, ...upFlags, ...lanFlags()]);
    assert.match(
      made.stderr,
      new RegExp(`kiab: reachable from the LAN of ${LINK} at ${address.replace(/\./g, '\\.')}: API :6443, .*registry \\(no auth\\) :5000`),
    );
    const status = JSON.parse((await kiabOk(['status', CLUSTER, '-o', 'json'])).stdout) as StatusJson & { lan?: { address: string; joined: boolean } };
    assert.deepEqual({ address: status.lan?.address, joined: status.lan?.joined }, { address, joined: true });

    // An image pushed from this host through the loopback port is listed by the registry at the LAN address.
    const image = `localhost:${hostPort(status, 'registry')}/lan-e2e:1`;
    await makeBusyboxImage(image);
    await docker(['push', image]);
    const client = `${prefix}.20`;
    const tags = await fromLanHost(client, ['curl', '-sS', '--max-time', '10', `http://${address}:5000/v2/lan-e2e/tags/list`]);
    assert.equal(tags.code, 0, tags.stderr);
    assert.deepEqual(JSON.parse(tags.stdout), { name: 'lan-e2e', tags: ['1'] });

    const kubeconfig = parse((await kiabOk(['kubeconfig', CLUSTER, '--api-address', 'lan'])).stdout) as {
      clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>;
    };
    const { server, 'certificate-authority-data': caData } = kubeconfig.clusters[0]!.cluster;
    assert.equal(server, `https://${address}:6443`);
    const dir = await tempDir('lan-ca-');
    await writeFile(join(dir, 'ca.crt'), Buffer.from(caData, 'base64'));
    const version = await fromLanHost(client, ['curl', '-sS', '--max-time', '10', '--cacert', '/kiab/ca.crt', `${server}/version`], [`${dir}:/kiab:ro`]);
    assert.equal(version.code, 0, version.stderr);
    assert.match((JSON.parse(version.stdout) as { gitVersion: string }).gitVersion, /^v1\./);
    // Without the cluster CA the same request fails its TLS check: the one above was verified.
    const unverified = await fromLanHost(client, ['curl', '-sS', '--max-time', '10', `${server}/version`]);
    assert.equal(unverified.code, 60, unverified.stderr);
  });

  it('delete removes the macvlan network and leaves the link alone', async () => {
    await kiabOk(['delete', CLUSTER]);
    const networks = await docker(['network', 'ls', '--format', '{{.Name}}']);
    assert.ok(!networks.split('\n').includes(`kiab-${CLUSTER}.lan`), networks);
    await nothingOf(CLUSTER);
    const link = await run('ip', ['-o', 'link', 'show', LINK]);
    assert.equal(link.code, 0, link.stderr);
    assert.match(link.stdout, /state (UP|UNKNOWN)/);
  });
});
