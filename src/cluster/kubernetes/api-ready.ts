import type { CoreV1Api, V1EndpointSlice, V1Node, V1Pod } from '@kubernetes/client-node';
import type { Distribution, DistributionContext, MachineRef } from '../../distribution/index.js';
import { KiabError } from '../../errors.js';
import { poll } from '../../wait.js';
import { inotifyHint } from '../../host/inotify.js';
import { kubeClients, type KubeClients } from './kube-objects.js';
import { releaseStaleLeases } from './stale-leases.js';

/*
 * Whether Kubernetes is ready as its API says it (every machine a Ready node, the system pods running, the DNS
 * Service leading to them), and the poll that waits for it. wait-ready.ts runs that wait as a command's step.
 */

/** The cluster DNS Service in kube-system, as kubeadm and k3s both name it. */
const DNS_SERVICE = 'kube-dns';

function isReady(node: V1Node): boolean {
  return node.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;
}

export interface KubernetesNodeInfo {
  name: string;
  ready: boolean;
  kubeletVersion: string | null;
  pods: number;
}

/** Per node: Ready, kubelet version and how many pods run there, from the API. */
export async function kubernetesNodes(kubeconfig: string): Promise<KubernetesNodeInfo[]> {
  const api = (await kubeClients(kubeconfig)).core;
  const [nodes, pods] = await Promise.all([api.listNode(), api.listPodForAllNamespaces()]);
  return nodes.items.map((node) => ({
    name: node.metadata?.name ?? '',
    ready: isReady(node),
    kubeletVersion: node.status?.nodeInfo?.kubeletVersion ?? null,
    pods: pods.items.filter((pod) => pod.spec?.nodeName === node.metadata?.name && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed').length,
  }));
}

/** A time from the API (whole seconds) at or after `since`; always true without `since`. */
function notBefore(time: Date | undefined, since: Date | undefined): boolean {
  if (!since) return true;
  return time !== undefined && new Date(time).getTime() >= Math.floor(since.getTime() / 1000) * 1000;
}

/**
 * What the cluster is still waiting for, from one listing of nodes and kube-system pods; undefined when it is
 * ready. With `since` (machines recreated from a snapshot, whose etcd remembers them Ready), only what the
 * kubelets said since then counts: a node's Ready heartbeat and system containers started after it.
 */
export function kubernetesProblem(
  nodes: V1Node[],
  pods: V1Pod[],
  machines: MachineRef[],
  systemPods: string[],
  since?: Date,
  /** The EndpointSlices of kube-system/kube-dns, when the cluster has that Service (see dnsProblem). */
  dnsSlices?: V1EndpointSlice[],
): string | undefined {
  const notReady = nodesNotReadySince(nodes, machines, since);
  if (notReady.length > 0) return `${notReady.map((machine) => machine.name).join(', ')} not Ready`;
  const running = pods.filter(
    (pod) =>
      pod.status?.phase === 'Running' &&
      (pod.status.containerStatuses?.length ?? 0) > 0 &&
      pod.status.containerStatuses!.every((status) => status.ready && notBefore(status.state?.running?.startedAt, since)),
  );
  const missing = systemPods.filter((component) => !running.some((pod) => (pod.metadata?.name ?? '').startsWith(component)));
  if (missing.length > 0) return `waiting for ${missing.join(', ')} to run`;
  return dnsSlices === undefined ? undefined : dnsProblem(dnsSlices, running);
}

/**
 * What a cluster without a pod network (networking.cni: none) still waits for: every machine a registered node
 * (NotReady until the user's CNI runs) and the system pods that need no pod network running. Undefined when
 * that is so.
 */
export function registrationProblem(nodes: V1Node[], pods: V1Pod[], machines: MachineRef[], hostNetworkPods: string[]): string | undefined {
  const registered = new Set(nodes.map((node) => node.metadata?.name));
  const missing = machines.filter((machine) => !registered.has(machine.name));
  if (missing.length > 0) return `${missing.map((machine) => machine.name).join(', ')} not registered`;
  const running = pods.filter((pod) => pod.status?.phase === 'Running' && (pod.status.containerStatuses ?? []).every((status) => status.ready));
  const waiting = hostNetworkPods.filter((component) => !running.some((pod) => (pod.metadata?.name ?? '').startsWith(component)));
  return waiting.length > 0 ? `waiting for ${waiting.join(', ')} to run` : undefined;
}

/** One line for a cluster without a pod network: what the nodes wait for, and the range each was given (its podCIDR). */
export function awaitingCniLine(nodes: V1Node[]): string {
  const ranges = nodes.map((node) => `${node.metadata?.name ?? '?'} ${node.spec?.podCIDR ?? '(none)'}`);
  return `no pod network (networking.cni: none): the nodes wait for a CNI; pod subnets: ${ranges.join(', ')}`;
}

export async function awaitingCni(kubeconfig: string): Promise<string> {
  return awaitingCniLine((await (await kubeClients(kubeconfig)).core.listNode()).items);
}

/**
 * The cluster DNS Service answers once its endpoints are the DNS pods that run now: a restored cluster first
 * lists the addresses its pods had at the capture, and CoreDNS can be ready while the Service still leads
 * elsewhere. Undefined when every ready endpoint is a running, ready pod and there is at least one.
 */
export function dnsProblem(slices: V1EndpointSlice[], runningPods: V1Pod[]): string | undefined {
  const podIps = new Set(runningPods.flatMap((pod) => (pod.status?.podIPs ?? []).map((entry) => entry.ip).concat(pod.status?.podIP ?? [])));
  const ready = slices.flatMap((slice) => slice.endpoints.filter((endpoint) => endpoint.conditions?.ready !== false).flatMap((endpoint) => endpoint.addresses));
  if (ready.length === 0 || ready.some((address) => !podIps.has(address))) return 'waiting for the DNS Service to lead to the running CoreDNS';
  return undefined;
}

/** Machines whose node is not Ready, or (with `since`) has not said it is since then (see kubernetesProblem). */
export function nodesNotReadySince(nodes: V1Node[], machines: MachineRef[], since?: Date): MachineRef[] {
  const fresh = new Set(
    nodes
      .filter((node) =>
        node.status?.conditions?.some(
          (condition) => condition.type === 'Ready' && condition.status === 'True' && notBefore(condition.lastHeartbeatTime, since),
        ),
      )
      .map((node) => node.metadata?.name),
  );
  return machines.filter((machine) => !fresh.has(machine.name));
}

/**
 * Once the API answers after a restore: releases the leases no one holds any more, and restarts the node
 * agents that have not reported yet (they back off while the API is away). True once done.
 */
async function afterRestore(
  api: KubeClients,
  options: { machines: MachineRef[]; distribution: Distribution; context: DistributionContext },
  since: Date,
): Promise<boolean> {
  if (!(await releaseStaleLeases(api.coordination, since))) return false;
  const restart = options.distribution.restartNodeAgent;
  if (!restart) return true;
  let nodes: V1Node[];
  try {
    nodes = (await api.core.listNode()).items;
  } catch {
    return false;
  }
  // A kubelet that fails to restart is found by the readiness wait that follows, with its log.
  await Promise.all(nodesNotReadySince(nodes, options.machines, since).map((machine) => restart(options.context, machine).catch(() => undefined)));
  return true;
}

/**
 * One look at the cluster: undefined when it is ready, else what it is still waiting for. `withoutPodNetwork`:
 * the pods to wait for when the cluster has no pod network yet (see registrationProblem).
 */
async function readinessProblem(
  api: KubeClients,
  machines: MachineRef[],
  systemPods: string[],
  since?: Date,
  withoutPodNetwork?: string[],
): Promise<string | undefined> {
  try {
    if (withoutPodNetwork) {
      const [nodes, pods] = await Promise.all([api.core.listNode(), api.core.listNamespacedPod({ namespace: 'kube-system' })]);
      return registrationProblem(nodes.items, pods.items, machines, withoutPodNetwork);
    }
    const [nodes, pods, slices] = await Promise.all([
      api.core.listNode(),
      api.core.listNamespacedPod({ namespace: 'kube-system' }),
      api.discovery.listNamespacedEndpointSlice({ namespace: 'kube-system', labelSelector: `kubernetes.io/service-name=${DNS_SERVICE}` }),
    ]);
    // Without a DNS Service (the addon not installed yet), there is nothing to lead to.
    return kubernetesProblem(nodes.items, pods.items, machines, systemPods, since, slices.items.length > 0 ? slices.items : undefined);
  } catch (error) {
    return `the API server did not answer (${(error as Error).message.split('\n')[0]})`;
  }
}

/**
 * Waits until every machine is a Ready node and the core system pods run. At the deadline it names what is
 * missing and shows the distribution's log of the first machine that is not ready, not a bare timeout.
 */
export async function waitForKubernetes(options: {
  kubeconfig: string;
  machines: MachineRef[];
  distribution: Distribution;
  context: DistributionContext;
  progress: (detail: string) => void;
  /** Count only what the kubelets reported since then (see kubernetesProblem). */
  since?: Date;
  /** Healthy looks in a row that make it ready (default 3, half a second apart at most: a pod that crash-loops can look ready for a moment). */
  healthyLooks?: number;
}): Promise<void> {
  const { context } = options;
  const api = await kubeClients(options.kubeconfig);
  let lastProblem = 'the API server did not answer';
  const healthyLooks = options.healthyLooks ?? 3;
  let healthyPolls = 0;
  let restoredDone = options.since === undefined;
  // Nodes without a pod network stay NotReady, and CoreDNS Pending, until the user installs a CNI.
  const withoutPodNetwork = context.spec.networking.cni === 'none' ? (options.distribution.hostNetworkPods ?? []) : undefined;
  await poll(
    async () => {
      if (!restoredDone) restoredDone = await afterRestore(api, options, options.since!);
      const problem = await readinessProblem(api, options.machines, options.distribution.systemPods, options.since, withoutPodNetwork);
      healthyPolls = problem === undefined ? healthyPolls + 1 : 0;
      lastProblem = problem ?? 'checking that the system pods stay up';
      options.progress(lastProblem);
      return healthyPolls >= healthyLooks ? true : undefined;
    },
    {
      // Four times a second: each step of a start (API up, nodes Ready, CoreDNS behind its Service) is seen a
      // quarter of a second after it happens at most, and three healthy looks span the half second that two
      // did at the old pace. A look costs three small listings of a local API.
      interval: 250,
      deadline: context.deadline,
      ...(context.signal ? { signal: context.signal } : {}),
      timeout: async () => {
        const culprit = await firstNotReady(api.core, options.machines);
        const log = culprit ? await options.distribution.diagnose(context, culprit).catch(() => '') : '';
        return new KiabError(
          `Kubernetes was not ready at the deadline: ${lastProblem}${culprit ? `; last lines of ${culprit.name}'s log: ${log.split('\n').slice(-8).join(' | ')}` : ''}`,
          {
            hint: inotifyHint(log) ?? 'see the full log with `kiab exec NODE -- journalctl -u kubelet`, or raise --wait',
          },
        );
      },
    },
  );
}

async function firstNotReady(api: CoreV1Api, machines: MachineRef[]): Promise<MachineRef | undefined> {
  try {
    const nodes = await api.listNode();
    const ready = new Set(nodes.items.filter(isReady).map((node) => node.metadata?.name));
    return machines.find((machine) => !ready.has(machine.name)) ?? machines[0];
  } catch {
    return machines.find((machine) => machine.role === 'server');
  }
}
