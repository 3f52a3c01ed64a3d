import assert from 'node:assert/strict';
import { eventually, hostPort, run, type Run, type StatusJson } from './helpers.js';

/**
 * The addons' acceptance checks ("a kiab cluster runs an ordinary app manifest unchanged"), shared by the
 * suites of every distribution that has them. They drive the cluster as a user does: kubectl on the host,
 * curl against the box and the published ports, kiab for snapshots.
 */
export interface AddonCluster {
  name: string;
  status: StatusJson;
  /** An image with /busybox in it, pushed to the cluster's registry. */
  busybox: string;
  kubectl: (...args: string[]) => Promise<string>;
  /** kubectl with input on stdin. */
  kubectlInput: (input: string, ...args: string[]) => Promise<string>;
  kiab: (args: string[]) => Promise<Run>;
}

export interface AddonStatusJson {
  addons?: Array<{ name: string; component: string; ready: boolean | null; problem: string | null }>;
}

export const HELLO = 'hello through the ingress';
const list = (...items: unknown[]): string => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });

/** A busybox httpd Deployment serving `body` at /NAME/, with its Service on port 80. */
function webApp(cluster: AddonCluster, name: string, body: string): unknown[] {
  const labels = { app: name };
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name,
                image: cluster.busybox,
                command: [
                  '/busybox',
                  'sh',
                  '-c',
                  `/busybox mkdir -p /www/${name} && echo '${body}' > /www/${name}/index.html && exec /busybox httpd -f -p 8080 -h /www`,
                ],
                ports: [{ containerPort: 8080 }],
              },
            ],
          },
        },
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] } },
  ];
}

async function curl(...args: string[]): Promise<string> {
  const result = await run('curl', ['-sS', '--fail', '--max-time', '5', ...args]);
  if (result.code !== 0) throw new Error(`curl ${args.join(' ')}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/** `status -o json` lists the four addons, each ready. */
export async function checkStatus(cluster: AddonCluster): Promise<void> {
  const seen = JSON.parse((await cluster.kiab(['status', cluster.name, '-o', 'json'])).stdout) as AddonStatusJson;
  assert.deepEqual(
    seen.addons?.map((addon) => [addon.name, addon.ready]),
    [
      ['ingress', true],
      ['storage', true],
      ['loadbalancer', true],
      ['metrics', true],
    ],
  );
}

/** The `hello` app behind an Ingress with no class, at /hello/. */
export async function deployHello(cluster: AddonCluster): Promise<void> {
  const ingress = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'hello' },
    spec: { rules: [{ http: { paths: [{ path: '/hello', pathType: 'Prefix', backend: { service: { name: 'hello', port: { number: 80 } } } }] } }] },
  };
  await cluster.kubectlInput(list(...webApp(cluster, 'hello', HELLO), ingress), 'apply', '-f', '-');
  await cluster.kubectl('wait', '--for=condition=Available', 'deployment/hello', '--timeout=180s');
}

export async function curlHello(url: string, ...options: string[]): Promise<string> {
  return eventually(() => curl(...options, url), 60_000, 1000);
}

/** An Ingress with no class answers on the box's 80 and 443 and on the published loopback ports. */
export async function checkIngress(cluster: AddonCluster): Promise<void> {
  await deployHello(cluster);
  const box = cluster.status.address!;
  const urls = [`http://${box}/hello/`, `http://127.0.0.1:${hostPort(cluster.status, 'http')}/hello/`];
  for (const url of urls) assert.equal(await curlHello(url), HELLO, url);
  // The default certificate is Traefik's own, so this one check does not verify it (curl -k, as the issue says).
  assert.equal(await curlHello(`https://${box}/hello/`, '-k'), HELLO);
  assert.equal(await curlHello(`https://127.0.0.1:${hostPort(cluster.status, 'https')}/hello/`, '-k'), HELLO);
}

export const ROUTED = 'hello through the gateway';

/**
 * An HTTPRoute attached to kiab's Gateway (traefik/traefik) answers on the box's port 80 and the published
 * loopback port: the app behind it has no Ingress, so only the Gateway API provider can serve it. The route
 * is Accepted with its references resolved, and the Gateway reports the box's address.
 */
export async function checkGateway(cluster: AddonCluster): Promise<void> {
  const route = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'routed' },
    spec: {
      parentRefs: [{ name: 'traefik', namespace: 'traefik' }],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/routed/' } }], backendRefs: [{ name: 'routed', port: 80 }] }],
    },
  };
  await cluster.kubectlInput(list(...webApp(cluster, 'routed', ROUTED), route), 'apply', '-f', '-');
  await cluster.kubectl('wait', '--for=condition=Available', 'deployment/routed', '--timeout=180s');
  const box = cluster.status.address!;
  for (const url of [`http://${box}/routed/`, `http://127.0.0.1:${hostPort(cluster.status, 'http')}/routed/`]) assert.equal(await curlHello(url), ROUTED, url);
  const conditions = JSON.parse(await cluster.kubectl('get', 'httproute', 'routed', '-o', 'jsonpath={.status.parents[0].conditions}')) as Array<{
    type: string;
    status: string;
  }>;
  assert.deepEqual(
    conditions
      .filter((condition) => ['Accepted', 'ResolvedRefs'].includes(condition.type))
      .map((condition) => [condition.type, condition.status])
      .sort(),
    [
      ['Accepted', 'True'],
      ['ResolvedRefs', 'True'],
    ],
  );
  assert.equal(await cluster.kubectl('get', 'gateway', '-n', 'traefik', 'traefik', '-o', 'jsonpath={.status.addresses[0].value}'), box);
}

/** A Pod that runs `script` with the claim `claim` mounted at /data, to completion; returns its log. */
export async function withClaim(cluster: AddonCluster, pod: string, claim: string, script: string, node?: string): Promise<string> {
  await cluster.kubectlInput(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: pod },
      spec: {
        restartPolicy: 'Never',
        // Through the scheduler (not nodeName), which tells the provisioner where a new volume must live.
        ...(node ? { nodeSelector: { 'kubernetes.io/hostname': node } } : {}),
        containers: [{ name: 'job', image: cluster.busybox, command: ['/busybox', 'sh', '-c', script], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }],
      },
    }),
    'apply',
    '-f',
    '-',
  );
  await eventually(
    async () => {
      const phase = await cluster.kubectl('get', 'pod', pod, '-o', 'jsonpath={.status.phase}');
      if (phase !== 'Succeeded') throw new Error(`${pod} is ${phase}`);
    },
    180_000,
    1000,
  );
  const log = await cluster.kubectl('logs', pod);
  await cluster.kubectl('delete', 'pod', pod, '--wait=true');
  return log;
}

export async function makeClaim(cluster: AddonCluster, claim: string): Promise<void> {
  await cluster.kubectlInput(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: claim },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } },
    }),
    'apply',
    '-f',
    '-',
  );
}

/** The snapshot checkStorage saves with the claim's file in it, for checkStorageRestored. */
export const STORAGE_SNAPSHOT = 'pvc';

/**
 * A claim without a storage class binds; a file one pod writes, its replacement reads. The snapshot
 * STORAGE_SNAPSHOT is saved then, and the file changed after it: a restore of that snapshot (in place or onto
 * nothing) must bring it back as it was, which checkStorageRestored checks.
 */
export async function checkStorage(cluster: AddonCluster): Promise<void> {
  await makeClaim(cluster, 'notes');
  assert.equal(await withClaim(cluster, 'writer', 'notes', 'echo first > /data/note && cat /data/note'), 'first');
  assert.equal(await cluster.kubectl('get', 'pvc', 'notes', '-o', 'jsonpath={.status.phase}'), 'Bound');
  assert.equal(await cluster.kubectl('get', 'pvc', 'notes', '-o', 'jsonpath={.spec.storageClassName}'), 'local-path');
  assert.equal(await withClaim(cluster, 'reader', 'notes', 'cat /data/note'), 'first');

  const saved = await cluster.kiab(['snapshot', 'save', cluster.name, STORAGE_SNAPSHOT]);
  assert.equal(saved.code, 0, saved.stderr);
  assert.equal(await withClaim(cluster, 'overwriter', 'notes', 'echo second > /data/note && cat /data/note'), 'second');
}

/** After a restore of STORAGE_SNAPSHOT: the claim's file is as it was when the snapshot was saved. */
export async function checkStorageRestored(cluster: AddonCluster): Promise<void> {
  assert.equal(await withClaim(cluster, 'after-restore', 'notes', 'cat /data/note'), 'first');
}

/**
 * A LoadBalancer Service gets an external address that answers from the host: one of kiab's pool (.200-.250
 * of the cluster network) when `pool`, a node's own with k3s's servicelb. Its port is not 80, which the
 * ingress holds on every node with servicelb.
 */
export async function checkLoadBalancer(cluster: AddonCluster, pool: boolean): Promise<void> {
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'public' },
    spec: { type: 'LoadBalancer', selector: { app: 'hello' }, ports: [{ port: 8081, targetPort: 8080 }] },
  };
  await cluster.kubectlInput(list(service), 'apply', '-f', '-');
  const ip = await eventually(
    async () => {
      const address = await cluster.kubectl('get', 'service', 'public', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}');
      if (!address) throw new Error('no external IP yet');
      return address;
    },
    60_000,
    1000,
  );
  const prefix = cluster.status.address!.split('.').slice(0, 3).join('.');
  const host = Number(ip.split('.')[3]);
  assert.ok(ip.startsWith(`${prefix}.`), `${ip} is on the cluster network`);
  if (pool) assert.ok(host >= 200 && host <= 250, `${ip} is in the pool`);
  assert.equal(await curlHello(`http://${ip}:8081/hello/`), HELLO);
}

/** `kubectl top` gives numbers for every node and for pods. */
export async function checkMetrics(cluster: AddonCluster, nodes: string[]): Promise<void> {
  const top = await eventually(
    async () => {
      const output = await cluster.kubectl('top', 'nodes', '--no-headers');
      for (const node of nodes) assert.match(output, new RegExp(`^${node}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%`, 'm'), output);
      return output;
    },
    120_000,
    2000,
  );
  assert.ok(top);
  const pods = await eventually(() => cluster.kubectl('top', 'pods', '-A', '--no-headers'), 60_000, 2000);
  assert.match(pods, /^kube-system\s+\S+\s+\d+m\s+\d+Mi/m);
}
