import { distributionFor } from '../distribution/index.js';
import { KiabError, throwIfAborted } from '../errors.js';
import { LABEL, clusterLabels, encodeJsonLabel } from '../labels.js';
import { gatewayAddress, parseSubnet, pickFreeSubnet, type Subnet } from '../net/addresses.js';
import { planHostPorts, type HostPorts } from '../net/ports.js';
import type { Provider } from '../provider/types.js';
import { parseDuration } from '../spec/duration.js';
import type { ClusterSpec } from '../spec/schema.js';
import { kiabVersion } from '../version.js';
import { distributionContext, observedSubnet, type ClusterContext } from './context.js';
import { ensureImages } from './images.js';
import { withClusterLock } from './lock.js';
import { ensureMachinesRunning, refreshForwards, waitForMachines } from './machines.js';
import { clusterNames, type ClusterNames } from './names.js';
import { claimedHostPorts, observeCluster, type ObservedCluster } from './observe.js';
import { runStep, type Reporter } from './reporter.js';
import { clusterStatus, type ClusterStatus } from './status.js';
import { boxContainerSpec, boxFiles, boxImageOf, desiredMachines, nodeImageOf, withNames } from './topology.js';

export interface UpOptions {
  provider: Provider;
  spec: ClusterSpec;
  reporter: Reporter;
  signal?: AbortSignal;
}

/**
 * An existing cluster keeps what it was made with (network, ports, images, distribution); `up` only adds
 * machines the spec asks for beyond what exists, and never removes any.
 */
function effectiveSpec(requested: ClusterSpec, observed: ObservedCluster): ClusterSpec {
  const stored = observed.spec;
  if (!stored) return requested;
  return { ...stored, servers: Math.max(stored.servers, requested.servers), workers: Math.max(stored.workers, requested.workers), wait: requested.wait };
}

async function planPorts(provider: Provider, spec: ClusterSpec, observed: ObservedCluster): Promise<HostPorts> {
  if (observed.ports) return observed.ports;
  const plan = await planHostPorts(spec.ports, await claimedHostPorts(provider, spec.name));
  if ('ports' in plan) return plan.ports;
  const { name, port, reason, by } = plan.conflict;
  const why = reason === 'in-use' ? 'is already in use on 127.0.0.1' : reason === 'claimed' ? `belongs to cluster ${by}` : 'is given twice';
  throw new KiabError(`ports.${name}: host port ${port} ${why}`, { hint: `choose another port for ports.${name} in kiab.yaml, or leave it out to get a free one` });
}

/** Creates the cluster network, retrying with the next free /24 when a concurrent `up` took the same one. */
async function ensureNetwork(provider: Provider, spec: ClusterSpec, names: ClusterNames, observed: ObservedCluster, ports: HostPorts): Promise<Subnet> {
  const known = observedSubnet(observed);
  if (observed.network && known) return known;
  const labels = { ...clusterLabels(names.cluster, 'network', kiabVersion), [LABEL.spec]: encodeJsonLabel(spec), [LABEL.ports]: encodeJsonLabel(ports) };
  for (let attempt = 0; ; attempt += 1) {
    const cidr = known?.cidr ?? spec.network.subnet ?? pickFreeSubnet(await provider.subnetsInUse());
    if (!cidr) throw new KiabError('no free /24 left in 172.28.0.0/14 for a cluster network', { hint: 'set network.subnet in kiab.yaml' });
    const subnet = parseSubnet(cidr);
    try {
      await provider.createNetwork({ name: names.network, subnet: cidr, gateway: gatewayAddress(subnet), labels });
      return subnet;
    } catch (error) {
      const message = (error as Error).message;
      const raced = /overlap|already exists/i.test(message);
      if (!raced || attempt >= 5 || known || spec.network.subnet) {
        throw new KiabError(`cannot create network ${names.network} (${cidr}): ${message.split('\n')[0]}`, { hint: spec.network.subnet ? 'choose another network.subnet' : undefined, cause: error });
      }
    }
  }
}

export async function up(options: UpOptions): Promise<ClusterStatus> {
  const { provider, reporter, signal } = options;
  await provider.ping();
  return withClusterLock(
    options.spec.name,
    async () => {
      const names = clusterNames(options.spec.name);
      const observed = await observeCluster(provider, names.cluster);
      const spec = effectiveSpec(options.spec, observed);
      const deadline = Date.now() + (parseDuration(spec.wait) ?? 300_000);
      const distribution = distributionFor(spec.distribution);
      // Everything that can refuse the request does so before the first object is created.
      await distribution.preflight(spec);
      const ports = await planPorts(provider, spec, observed);
      throwIfAborted(signal);

      await runStep(reporter, 'images', () => ensureImages(provider, reporter, { node: nodeImageOf(spec), box: boxImageOf(spec) }));
      throwIfAborted(signal);
      const subnet = await runStep(reporter, `network ${names.network}`, () => ensureNetwork(provider, spec, names, observed, ports));
      const context: ClusterContext = { provider, spec, names, subnet, ports, distribution, ...(signal ? { signal } : {}) };
      const machines = withNames(desiredMachines(spec, observed, subnet), names);
      throwIfAborted(signal);

      await runStep(reporter, `box ${names.box}`, async () => {
        if (!observed.box) {
          await provider.createContainer(boxContainerSpec(spec, names, subnet, ports));
          await provider.writeFiles(names.box, boxFiles(spec, names, machines));
          await provider.startContainer(names.box);
        } else {
          if (observed.box.state !== 'running') await provider.startContainer(names.box);
          await refreshForwards(context, machines);
        }
      });
      throwIfAborted(signal);

      const existing = new Map(observed.machines.map((machine) => [machine.container.name, machine.container]));
      const started = await runStep(reporter, `machines (${machines.length})`, (progress) => ensureMachinesRunning(context, machines, existing, (detail) => progress.update(detail)));
      await runStep(reporter, 'boot', (progress) => waitForMachines(context, machines, started, deadline, (detail) => progress.update(detail)));
      throwIfAborted(signal);

      if (distribution.name !== 'none') {
        await runStep(reporter, `install ${distribution.name}`, (progress) => distribution.install(distributionContext(context, machines, (detail) => progress.update(detail))));
      }
      return clusterStatus(provider, names.cluster);
    },
    { onWait: (pid) => reporter.warn(`waiting for another kiab command on cluster ${options.spec.name} (pid ${pid})`) },
  );
}
