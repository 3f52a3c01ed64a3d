import assert from 'node:assert/strict';
import { kiab, tempDir } from './helpers.js';

/**
 * The conformance specs every CI run passes (kubeadm.test.ts runs them on its cluster): fast ones that
 * together cover network, node, apps, api-machinery, storage and cli, and each defect the first full run
 * found (marked). Names as the suite prints them, without their tags.
 */
export const CI_SPECS = [
  // network: services, DNS, pod-to-pod, and a port the Service does not define refused (service-range REJECT)
  '[sig-network] Services should serve endpoints on same port and different protocols',
  '[sig-network] Services should serve a basic endpoint from pods',
  '[sig-network] DNS should provide DNS for the cluster',
  '[sig-network] Networking Granular Checks: Pods should function for intra-pod communication: http',
  // node: env vars named like data-1 (the busybox image's sh), host IP, prestop hooks
  '[sig-node] ConfigMap should be consumable via the environment',
  '[sig-node] Downward API should provide host IP as an env var',
  '[sig-node] PreStop should call prestop when killing a pod',
  // apps: privileged Job pods (every device allowed in the machines), deployments, replica sets
  '[sig-apps] Job should allow to use the pod failure policy on exit code to fail the job early',
  '[sig-apps] Deployment deployment should support proportional scaling',
  '[sig-apps] ReplicaSet should serve a basic image on each replica with a public image',
  // api-machinery: the API server reaching a webhook pod, CRDs
  '[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should be able to deny pod and configmap creation',
  '[sig-api-machinery] CustomResourcePublishOpenAPI [Privileged:ClusterAdmin] works for CRD without validation schema',
  // storage
  '[sig-storage] EmptyDir volumes should support (root,0644,tmpfs)',
  '[sig-storage] Projected secret should be consumable from pods in volume with mappings',
  // cli: kubectl on the host against the published API port, the httpd image
  '[sig-cli] Kubectl client Kubectl version should check is all data is printed',
  '[sig-cli] Kubectl client Kubectl run pod should create a pod from an image when restart is Never',
];

/**
 * The subset's specs whose traffic a kube-proxy mode carries: the network ones (Services, DNS, pod to pod) and the
 * webhook, which the API server calls at its Service's cluster IP.
 */
export const CI_PROXY_SPECS = CI_SPECS.filter((name) => name.startsWith('[sig-network] ') || name.startsWith('[sig-api-machinery] AdmissionWebhook '));

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One Go regular expression selecting exactly `specs`: each name, then tags such as [LinuxOnly] up to [Conformance]. */
export const focusOn = (specs: string[]): string => specs.map((name) => `${escape(name)}( \\[\\w+\\])* \\[Conformance\\]`).join('|');

/** The focus of the whole CI subset. */
export const CI_FOCUS = focusOn(CI_SPECS);

/** What `kiab conformance -o json` prints (and writes to summary.json). */
export interface ConformanceJson {
  passed: number;
  failed: number;
  skipped: number;
  reportDir: string;
  junit: string[];
  failures: Array<{ spec: string; state: string; message: string }>;
}

/**
 * `kiab conformance` with the CI subset (or some of its specs) on a cluster, asserted to pass every spec of it;
 * the summary, the report folder and kiab's progress output are returned for further checks.
 */
export async function passesCiSubset(
  cluster: string,
  env: NodeJS.ProcessEnv,
  specs: string[] = CI_SPECS,
): Promise<{ summary: ConformanceJson; reports: string; stderr: string }> {
  const reports = await tempDir('kiab-conformance-');
  const args = ['conformance', cluster, '--focus', focusOn(specs), '--parallel', '3', '--report-dir', reports, '-o', 'json'];
  const result = await kiab(args, { env, timeoutMs: 20 * 60_000 });
  const summary = JSON.parse(result.stdout) as ConformanceJson;
  assert.deepEqual(summary.failures, [], result.stderr);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual([summary.passed, summary.failed, summary.skipped], [specs.length, 0, 0]);
  return { summary, reports, stderr: result.stderr };
}
