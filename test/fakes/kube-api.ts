import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * A Kubernetes API in memory, over TLS on loopback, answering only what kiab's readiness wait, its restore
 * and its registry publication ask: nodes, kube-system pods, the DNS Service's EndpointSlices, kube-system
 * leases and kube-public ConfigMaps. For unit tests of the step that brings a cluster to ready; the real
 * API is what the end-to-end suites use.
 */

export interface FakeNode {
  name: string;
  /** When its kubelet last said Ready; undefined: not Ready. */
  readySince?: Date;
  /** The version its running kubelet reports. */
  kubeletVersion?: string;
}

export interface FakeLease {
  name: string;
  holder: string;
  renewed: Date;
  resourceVersion: string;
}

export interface FakeKubeApi {
  /** `server` and `caData` go into a kubeconfig that trusts this API. */
  server: string;
  caData: string;
  nodes: FakeNode[];
  /** kube-system pods: name, and when its one container started; undefined: not running. */
  pods: Array<{ name: string; startedAt?: Date }>;
  leases: FakeLease[];
  configMaps: Map<string, Record<string, string>>;
  /** Each request as METHOD PATH (without the query). */
  requests: string[];
  /** Runs before an answer to a listing of nodes: a test changes the cluster as time goes by. */
  onListNodes?: (looks: number) => void;
  kubeconfig(): string;
  close(): Promise<void>;
}

async function selfSignedLoopback(): Promise<{ key: string; cert: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'kiab-fake-api-'));
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=fake-kube-api',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'cert.pem'),
  ]);
  return { key: await readFile(join(dir, 'key.pem'), 'utf8'), cert: await readFile(join(dir, 'cert.pem'), 'utf8') };
}

const list = (kind: string, items: unknown[]) => ({ kind, apiVersion: 'v1', metadata: { resourceVersion: '1' }, items });

export async function startFakeKubeApi(): Promise<FakeKubeApi> {
  const { key, cert } = await selfSignedLoopback();
  let nodeLooks = 0;
  const api: Omit<FakeKubeApi, 'server' | 'close'> = {
    caData: Buffer.from(cert).toString('base64'),
    nodes: [],
    pods: [],
    leases: [],
    configMaps: new Map(),
    requests: [],
    kubeconfig: () => '',
  };
  const answer = (response: ServerResponse, status: number, body: unknown): void => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const notFound = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 };
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '').split('?')[0]!;
    api.requests.push(`${request.method} ${path}`);
    let body = '';
    for await (const chunk of request) body += String(chunk);
    const leaseAt = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/kube-system\/leases\/([^/]+)$/.exec(path);
    const configMapAt = /^\/api\/v1\/namespaces\/kube-public\/configmaps\/([^/]+)$/.exec(path);
    if (request.method === 'GET' && path === '/api/v1/nodes') {
      nodeLooks += 1;
      api.onListNodes?.(nodeLooks);
      return answer(
        response,
        200,
        list(
          'NodeList',
          api.nodes.map((node) => ({
            metadata: { name: node.name },
            status: {
              ...(node.kubeletVersion ? { nodeInfo: { kubeletVersion: node.kubeletVersion } } : {}),
              conditions: [
                node.readySince
                  ? { type: 'Ready', status: 'True', lastHeartbeatTime: node.readySince.toISOString() }
                  : { type: 'Ready', status: 'False', lastHeartbeatTime: new Date().toISOString() },
              ],
            },
          })),
        ),
      );
    }
    if (request.method === 'GET' && (path === '/api/v1/namespaces/kube-system/pods' || path === '/api/v1/pods'))
      return answer(
        response,
        200,
        list(
          'PodList',
          api.pods.map((pod) => ({
            metadata: { name: pod.name, namespace: 'kube-system' },
            status: pod.startedAt
              ? { phase: 'Running', containerStatuses: [{ name: 'main', ready: true, state: { running: { startedAt: pod.startedAt.toISOString() } } }] }
              : { phase: 'Pending' },
          })),
        ),
      );
    if (request.method === 'GET' && path === '/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices')
      return answer(response, 200, { ...list('EndpointSliceList', []), apiVersion: 'discovery.k8s.io/v1' });
    if (request.method === 'GET' && path === '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases')
      return answer(response, 200, {
        ...list(
          'LeaseList',
          api.leases.map((lease) => ({
            metadata: { name: lease.name, namespace: 'kube-system', resourceVersion: lease.resourceVersion },
            spec: { holderIdentity: lease.holder, renewTime: lease.renewed.toISOString() },
          })),
        ),
        apiVersion: 'coordination.k8s.io/v1',
      });
    if (request.method === 'DELETE' && leaseAt) {
      const at = api.leases.findIndex((lease) => lease.name === leaseAt[1]);
      if (at < 0) return answer(response, 404, notFound);
      api.leases.splice(at, 1);
      return answer(response, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
    }
    if (request.method === 'PUT' && configMapAt) {
      if (!api.configMaps.has(configMapAt[1]!)) return answer(response, 404, notFound);
      api.configMaps.set(configMapAt[1]!, (JSON.parse(body) as { data: Record<string, string> }).data);
      return answer(response, 200, JSON.parse(body));
    }
    if (request.method === 'POST' && path === '/api/v1/namespaces/kube-public/configmaps') {
      const created = JSON.parse(body) as { metadata: { name: string }; data: Record<string, string> };
      api.configMaps.set(created.metadata.name, created.data);
      return answer(response, 201, created);
    }
    answer(response, 404, notFound);
  };
  const server: Server = createServer({ key, cert }, (request, response) => {
    handle(request, response).catch((error: unknown) => answer(response, 500, { message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const url = `https://127.0.0.1:${port}`;
  return Object.assign(api, {
    server: url,
    kubeconfig: () =>
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: fake`,
        '  cluster:',
        `    server: ${url}`,
        `    certificate-authority-data: ${api.caData}`,
        'users:',
        '- name: admin',
        '  user:',
        '    token: fake-token',
        'contexts:',
        '- name: fake',
        '  context: {cluster: fake, user: admin}',
        'current-context: fake',
        '',
      ].join('\n'),
    close: () =>
      new Promise<void>((resolve) => {
        // The client keeps its connections alive: they would hold the server, and the test process, open.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
