// test-lane: cluster — it brings up a Kubernetes cluster (or compiles or moves its assets): see scripts/test-lanes.ts
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exposedAddresses } from '../../src/net/ports.js';
import { parse } from 'yaml';
import { docker, hostPort, kiab, kiabOk, run, type StatusJson } from './helpers.js';
import { kubeadmSkip } from './kubeadm-cache.js';

/**
 * An address of this host's other than loopback: the engine's bridge (docker0) when there is one, which is
 * the host's own address and sends nothing beyond it.
 */
async function hostAddress(): Promise<string> {
  const found = (await run('ip', ['-4', '-o', 'addr', 'show'])).stdout
    .split('\n')
    .map((line) => /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\//.exec(line))
    .flatMap((match) => (match ? [{ device: match[1]!, address: match[2]! }] : []))
    .filter((entry) => !entry.address.startsWith('127.'));
  const chosen = found.find((entry) => entry.device === 'docker0') ?? found[0];
  if (!chosen) throw new Error('this host has no IPv4 address besides loopback');
  return chosen.address;
}

async function freeHostPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function httpStatus(host: string, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port, path, timeout: 5000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    req.once('error', reject);
    req.once('timeout', () => req.destroy(new Error(`no answer from ${host}:${port}`)));
    req.end();
  });
}

describe('up --listen-address publishes the box beyond loopback', () => {
  const CLUSTER = 'pt-listen';
  let status: StatusJson;
  let stderr: string;
  let address: string;

  before(async () => {
    await kiab(['delete', CLUSTER]);
    address = await hostAddress();
    const result = await kiabOk(['up', CLUSTER, '--k8s', 'none', '--servers', '1', '--workers', '0', '--listen-address', '0.0.0.0', '-o', 'json']);
    status = JSON.parse(result.stdout) as StatusJson;
    stderr = result.stderr;
  });

  after(async () => {
    await kiab(['delete', CLUSTER]);
  });

  it("the registry answers on the host's own non-loopback address, and the engine publishes on 0.0.0.0", async () => {
    const registry = hostPort(status, 'registry');
    assert.equal(await httpStatus(address, registry, '/v2/'), 200);
    assert.equal(await docker(['port', `kiab-${CLUSTER}-box`, '5000/tcp']), `0.0.0.0:${registry}`);
    assert.equal(status.ports.find((port) => port.name === 'registry')?.host, `0.0.0.0:${registry}`);
  });

  it('says in one line what other machines can now reach', () => {
    const lines = stderr.split('\n').filter((line) => line.startsWith('kiab: reachable from other machines'));
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0]!, new RegExp(`API :${hostPort(status, 'api')}, .*registry \\(no auth\\) :${hostPort(status, 'registry')}`));
  });

  it("an added port takes the cluster's address unless --listen says otherwise", async () => {
    const [wide, narrow] = [await freeHostPort(), await freeHostPort()];
    const added = await kiabOk(['port', 'add', CLUSTER, `${wide}:30991`, '-o', 'json']);
    assert.equal((JSON.parse(added.stdout) as Array<{ host: string }>)[0]!.host, `0.0.0.0:${wide}`);
    assert.match(added.stderr, new RegExp(`kiab: port 0\\.0\\.0\\.0:${wide}/tcp is reachable from other machines`));
    const local = await kiabOk(['port', 'add', CLUSTER, `${narrow}:30991`, '--listen', '127.0.0.1', '-o', 'json']);
    assert.equal((JSON.parse(local.stdout) as Array<{ host: string }>)[0]!.host, `127.0.0.1:${narrow}`);
    assert.doesNotMatch(local.stderr, /reachable/);
    assert.equal(await docker(['port', `kiab-${CLUSTER}-port-${narrow}-tcp`]), `20001/tcp -> 127.0.0.1:${narrow}`);
  });

  it('a listen address cannot be changed by up, exit 2', async () => {
    const result = await kiab(['up', CLUSTER, '--listen-address', '127.0.0.1']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--listen-address: cluster pt-listen was made with 0\.0\.0\.0/);
  });
});

if (kubeadmSkip) it("the API's certificate names the host's address when published beyond loopback", { skip: kubeadmSkip }, () => undefined);
else
  describe("the API's certificate names the host's address when published beyond loopback", () => {
    const CLUSTER = 'pt-listen-kubeadm';

    before(async () => {
      await kiab(['delete', CLUSTER]);
    });
    after(async () => {
      await kiab(['delete', CLUSTER]);
    });

    it('kubeconfig --server-address gives a kubeconfig whose TLS check against that address passes with the cluster CA', async () => {
      // One of the addresses the host has as up sees them (the engine's bridge may have none while it carries nothing).
      const candidates = exposedAddresses('0.0.0.0');
      const preferred = await hostAddress();
      const address = candidates.includes(preferred) ? preferred : candidates[0]!;
      await kiabOk(['up', CLUSTER, '--k8s', 'kubeadm', '--workers', '0', '--no-addons', '--no-snapshot', '--listen-address', '0.0.0.0', '--wait', '8m']);
      const kubeconfig = parse((await kiabOk(['kubeconfig', CLUSTER, '--server-address', address])).stdout) as {
        clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>;
      };
      const { server, 'certificate-authority-data': caData } = kubeconfig.clusters[0]!.cluster;
      const url = new URL(server);
      assert.equal(url.hostname, address);
      // Verified against the cluster CA, the address checked against the certificate's names: any HTTP status will do.
      const statusCode = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest({ host: address, port: Number(url.port), path: '/readyz', ca: Buffer.from(caData, 'base64'), timeout: 10_000 }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        req.once('error', reject);
        req.end();
      });
      assert.ok(statusCode > 0);
    });
  });
