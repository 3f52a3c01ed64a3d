import { stringify } from 'yaml';
import type { RegistryCredentials, RegistryEndpoints } from '../../registry/index.js';
import type { MachineRef } from '../types.js';

export const K3S_CONFIG_PATH = '/etc/rancher/k3s/config.yaml';
export const K3S_REGISTRIES_PATH = '/etc/rancher/k3s/registries.yaml';
/** The token lives in an environment file of mode 0600, never in config.yaml or on a command line. */
export const K3S_ENV_PATH = '/etc/rancher/k3s/k3s.env';
export const K3S_ROLE_PATH = '/etc/kiab/k3s-role.env';
export const K3S_KUBECONFIG_PATH = '/etc/rancher/k3s/k3s.yaml';
export const K3S_TOKEN_PATH = '/var/lib/rancher/k3s/server/token';
/** The CA that signs the servers' API certificates (public). */
export const K3S_SERVER_CA_PATH = '/var/lib/rancher/k3s/server/tls/server-ca.crt';

export interface K3sFacts {
  boxHostname: string;
  boxIp: string;
  /** Further names for the API certificate: the host's addresses when the box publishes beyond loopback. */
  externalAddresses: string[];
  /** Embedded etcd for an HA control plane when there is more than one server. */
  highAvailability: boolean;
  untaintServers: boolean;
  /** Bundled addons to leave out (k3s's names: traefik, servicelb, local-storage, metrics-server). */
  disable: string[];
}

/** What every machine runs with on hosts such as this one (no CAP_SYS_RESOURCE, maybe cgroup v1). */
function common(machine: MachineRef): Record<string, unknown> {
  return {
    'node-name': machine.name,
    'node-ip': machine.ip,
    // Kubernetes 1.35+ refuses cgroup v1 hosts unless told; harmless on cgroup v2.
    'kubelet-arg': ['fail-cgroupv1=false'],
    // nf_conntrack_max cannot be written from a machine's network namespace.
    'kube-proxy-arg': ['conntrack-max-per-core=0'],
  };
}

/** Who a machine joins: the first server initialises; other servers join it; agents go through the box. */
export interface JoinPlan {
  role: 'server' | 'agent';
  initialises: boolean;
  server?: string;
}

export function joinPlan(machine: MachineRef, first: MachineRef, facts: K3sFacts): JoinPlan {
  if (machine.role === 'worker') return { role: 'agent', initialises: false, server: `https://${facts.boxHostname}:6443` };
  if (machine.name === first.name) return { role: 'server', initialises: true };
  return { role: 'server', initialises: false, server: `https://${first.ip}:6443` };
}

export function k3sConfig(machine: MachineRef, plan: JoinPlan, facts: K3sFacts): string {
  const config: Record<string, unknown> = { ...common(machine) };
  if (plan.server) config.server = plan.server;
  if (plan.role === 'server') {
    config['tls-san'] = [facts.boxIp, facts.boxHostname, 'localhost', '127.0.0.1', ...facts.externalAddresses];
    config['write-kubeconfig-mode'] = '0600';
    if (plan.initialises && facts.highAvailability) config['cluster-init'] = true;
    if (!facts.untaintServers) config['node-taint'] = ['node-role.kubernetes.io/control-plane:NoSchedule'];
    if (facts.disable.length > 0) config.disable = facts.disable;
  }
  return stringify(config);
}

/** Maps the host-side registry name (and the box's own) to the box registry over plain HTTP. */
export function k3sRegistries(endpoints: RegistryEndpoints | undefined, credentials?: RegistryCredentials): string {
  if (!endpoints) return stringify({ mirrors: {} });
  const endpoint = (): string[] => [`http://${endpoints.fromClusterNetwork}`];
  // Separate arrays: a shared one would be written as a YAML anchor and alias.
  const mirrors = { [endpoints.fromMachines]: { endpoint: endpoint() }, [endpoints.fromClusterNetwork]: { endpoint: endpoint() } };
  if (!credentials) return stringify({ mirrors });
  return stringify({ mirrors, configs: { [endpoints.fromClusterNetwork]: { auth: { username: credentials.username, password: credentials.password } } } });
}
