import { createHash } from 'node:crypto';
import type { Distribution, MachineRef } from '../../distribution/index.js';
import {
  addedPortBackends,
  loadBalancerConfig,
  loadBalancerPlan,
  parseShowStat,
  renderHaproxy,
  type Backend,
  type LoadBalancerChecks,
  type LoadBalancerPlan,
  type ServerHealth,
} from '../../loadbalancer/index.js';
import type { AddedPort } from '../../net/added-ports.js';
import type { ClusterNames } from '../../names.js';
import { run, tryRun } from '../../provider/run.js';
import type { ContainerFile, Provider } from '../../provider/types.js';
import type { ClusterContext } from '../context.js';
import { NODE_PORT_RANGE } from '../../net/ports.js';
import { REGISTRY_HTPASSWD_PATH, registryConfig, type RegistryCredentials } from '../../registry/index.js';
import { registryAuthFiles } from './registry-auth.js';
import type { ClusterSpec } from '../../spec/schema.js';
import { familiesOf } from '../../spec/networking.js';
import { ipv6Of } from '../../net/ipv6.js';
import { readAddedPorts } from './observe.js';
import { REGISTRY_CONFIG_PATH } from './topology.js';

export const FORWARDS_PATH = '/etc/kiab/forwards';
export const HAPROXY_CONFIG_PATH = '/etc/kiab/haproxy.cfg';
/** The cluster CA (public), against which the box verifies each server's API before sending it requests. */
export const API_CA_PATH = '/etc/kiab/api-ca.crt';

const LB = '/usr/local/bin/kiab-box-lb';
/**
 * The digest of the routing files the running box last applied, written by kiab once forward and reload
 * succeeded: a refresh that would apply the same files again (a reset with the same machines) is skipped,
 * and one killed between writing the files and applying them is redone, since the digest was not written.
 */
const APPLIED_PATH = '/etc/kiab/applied.sha256';

/**
 * The UDP NodePort range goes to one machine, and so does each added UDP port, from its box port to its
 * target port (PROTOCOL PORTS TARGET lines, applied by kiab-box-forward).
 */
export function forwardsFile(
  cluster: string,
  udpTarget: { ip: string } | undefined,
  addedUdp: ReadonlyArray<{ boxPort: number; targetPort: number; to: Backend }> = [],
): string {
  const lines = [`# Written by kiab for cluster ${cluster}: PROTOCOL PORTS TARGET`];
  if (udpTarget) lines.push(`udp ${NODE_PORT_RANGE.first}:${NODE_PORT_RANGE.last} ${udpTarget.ip}`);
  for (const port of addedUdp) lines.push(`udp ${port.boxPort} ${port.to.ip}:${port.targetPort}`);
  return `${lines.join('\n')}\n`;
}

/** Everything the box needs before its first start: routing, and the registry's configuration when it runs one. */
export function boxFiles(
  spec: ClusterSpec,
  names: ClusterNames,
  distribution: Distribution,
  machines: readonly MachineRef[],
  added: readonly AddedPort[],
  credentials?: RegistryCredentials,
): ContainerFile[] {
  const routing = boxRoutingFiles(names, distribution, machines, { added, families: familiesOf(spec.networking) });
  const files = [...routing, appliedMarker(routing)];
  if (!spec.registry.enabled) return files;
  // A registry that should ask for a login and has none to check is not started open: its config names the file.
  const htpasswd = spec.registry.auth ? REGISTRY_HTPASSWD_PATH : undefined;
  files.push({ path: REGISTRY_CONFIG_PATH, content: registryConfig({ proxyRemoteUrl: spec.registry.proxyRemoteUrl, htpasswd }) });
  if (credentials) files.push(...registryAuthFiles(credentials));
  return files;
}

/** The box's routing files: the load balancer's configuration and the UDP NodePort forward. */
export function boxRoutingFiles(
  names: ClusterNames,
  distribution: Distribution,
  machines: readonly MachineRef[],
  options: {
    apiCertificateAuthority?: string | undefined;
    live?: ReadonlySet<string>;
    added?: readonly AddedPort[];
    /**
     * The cluster's IP families. With IPv6 the box listens on both families; without IPv4 (an IPv6-only cluster)
     * its Services listen on the machines' IPv6 addresses only, so 80, 443, NodePorts and added TCP ports go there.
     */
    families?: { ipv4: boolean; ipv6: boolean };
  } = {},
): ContainerFile[] {
  const { apiCertificateAuthority, live, added = [], families = { ipv4: true, ipv6: false } } = options;
  const checks: LoadBalancerChecks = {
    ...(distribution.health.apiPath && apiCertificateAuthority ? { api: { path: distribution.health.apiPath, caFile: API_CA_PATH } } : {}),
    ...(distribution.health.nodeProxy ? { nodePorts: distribution.health.nodeProxy } : {}),
  };
  const plan = loadBalancerPlan(machines, checks, added);
  // UDP cannot be health-checked by a TCP balancer: it keeps a DNAT to one machine, a running one when known.
  const udpTargetOf = (backends: readonly Backend[]): Backend | undefined => backends.find((machine) => live?.has(machine.name)) ?? backends[0];
  const addedUdp = added.flatMap((port) => {
    const to = port.protocol === 'udp' ? udpTargetOf(addedPortBackends(port.to, plan, machines)) : undefined;
    return to ? [{ boxPort: port.boxPort, targetPort: port.targetPort, to }] : [];
  });
  return [
    ...(apiCertificateAuthority ? [{ path: API_CA_PATH, content: apiCertificateAuthority }] : []),
    {
      path: HAPROXY_CONFIG_PATH,
      content: renderHaproxy(
        loadBalancerConfig(families.ipv4 ? plan : toIpv6Services(plan), { bothFamilies: families.ipv6 }),
        `Written by kiab for cluster ${names.cluster}`,
      ),
    },
    { path: FORWARDS_PATH, content: forwardsFile(names.cluster, udpTargetOf(plan.web), addedUdp) },
  ];
}

/**
 * The plan with the machines behind 80, 443, the NodePorts and added TCP ports reached at their IPv6 twins
 * (written as HAProxy takes an IPv6 address, with or without a port). The API stays on IPv4: the API server
 * listens on both families, and its certificate names the box.
 */
function toIpv6Services(plan: LoadBalancerPlan): LoadBalancerPlan {
  const twin = (machine: Backend): Backend => ({ ...machine, ip: `[${ipv6Of(machine.ip)}]` });
  return { ...plan, web: plan.web.map(twin), added: plan.added.map((port) => ({ ...port, backends: port.backends.map(twin) })) };
}

/**
 * Whether refreshing the box reads from inside the machines: only the CA of a distribution whose API it
 * checks, from a server (bare machines have none). Without it the box can be refreshed while they boot.
 */
export function boxReadsFromMachines(distribution: Distribution): boolean {
  return distribution.health.apiPath !== undefined;
}

/** The CA from the servers, else the one the box already trusts, else none yet (the box then checks by TCP connect). */
async function currentCertificateAuthority(context: ClusterContext, machines: MachineRef[], boxRunning: boolean): Promise<string | undefined> {
  if (!boxReadsFromMachines(context.distribution)) return undefined;
  const fromServers = await context.distribution.apiCertificateAuthority(context.provider, machines).catch(() => undefined);
  if (fromServers) return fromServers;
  if (!boxRunning) return undefined;
  const kept = await tryRun(context.provider, context.names.box, ['cat', API_CA_PATH]);
  return kept.exitCode === 0 && kept.stdout.includes('BEGIN CERTIFICATE') ? kept.stdout : undefined;
}

async function runningMachines(provider: Provider, machines: MachineRef[]): Promise<Set<string>> {
  const states = await Promise.all(machines.map(async (machine) => ({ machine, info: await provider.inspectContainer(machine.name) })));
  return new Set(states.filter(({ info }) => info?.state === 'running').map(({ machine }) => machine.name));
}

/**
 * Points the box's load balancer at the current machines and reloads it without dropping established
 * connections; re-points the UDP forward at a running machine (`allRunning`: `up` is about to start them all).
 * Idempotent; a stopped box gets the files and applies them when it starts.
 */
export async function refreshBox(context: ClusterContext, machines: MachineRef[], options: { allRunning?: boolean } = {}): Promise<void> {
  const { provider, names } = context;
  const box = await provider.inspectContainer(names.box);
  if (!box) return;
  const running = box.state === 'running';
  // Four independent reads, side by side: which machines run, the CA, the added ports and what the box applied last.
  const [live, apiCertificateAuthority, added, applied] = await Promise.all([
    options.allRunning ? new Set(machines.map((machine) => machine.name)) : runningMachines(provider, machines),
    currentCertificateAuthority(context, machines, running),
    readAddedPorts(provider, names.cluster),
    running ? tryRun(provider, names.box, ['cat', APPLIED_PATH]).then((result) => result.stdout) : undefined,
  ]);
  const files = boxRoutingFiles(names, context.distribution, machines, {
    apiCertificateAuthority,
    live,
    added,
    families: familiesOf(context.spec.networking),
  });
  if (!running) {
    // The box applies what it holds when it starts.
    await provider.writeFiles(names.box, [...files, appliedMarker(files)]);
    return;
  }
  const marker = appliedMarker(files);
  if (applied === marker.content) return;
  await provider.writeFiles(names.box, files);
  await run(provider, names.box, ['/usr/local/bin/kiab-box-forward'], { what: 'applying port forwarding' });
  await run(provider, names.box, [LB, 'reload'], { what: 'reloading the load balancer' });
  await provider.writeFiles(names.box, [marker]);
}

/** The file that says which routing files the box applies (see APPLIED_PATH). */
function appliedMarker(files: readonly ContainerFile[]): ContainerFile {
  return { path: APPLIED_PATH, content: `${createHash('sha256').update(JSON.stringify(files)).digest('hex')}\n` };
}

/** Each balanced port's backends as the box's load balancer sees them; empty when the box does not answer. */
export async function loadBalancerHealth(provider: Provider, names: ClusterNames): Promise<ServerHealth[]> {
  const result = await tryRun(provider, names.box, [LB, 'stat']).catch(() => undefined);
  return result?.exitCode === 0 ? parseShowStat(result.stdout) : [];
}
