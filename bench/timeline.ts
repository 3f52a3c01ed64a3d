// Where a kiab command spends its time: its own phases (the `--timings` lines on stderr) and, for a kubeadm
// cluster, the moments Kubernetes itself records (pods started and Ready, nodes registered and Ready).

/**
 * `✓ step (1.2s)` and, with --timings, `  · phase (0.4s)` lines (printed before their step's line), in order,
 * as [name, seconds]: a phase is named `step › phase`, a step that recurs `step (2)`.
 */
export function parseTimings(stderr: string): Array<[string, number]> {
  const phases: Array<[string, number]> = [];
  const seen = new Map<string, number>();
  let pending: Array<[string, number]> = [];
  for (const line of stderr.split('\n')) {
    const match = /^( {2}· |✓ )(.*) \((\d+(?:\.\d+)?)s\)$/.exec(line.trimEnd());
    if (!match) continue;
    const name = normalise(match[2]!);
    if (match[1] !== '✓ ') {
      pending.push([name, Number(match[3])]);
      continue;
    }
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    const step = count > 1 ? `${name} (${count})` : name;
    phases.push([step, Number(match[3])], ...pending.map(([phase, seconds]): [string, number] => [`${step} › ${phase}`, seconds]));
    pending = [];
  }
  return phases;
}

/** Phase names without what changes between runs: machine and cluster names, counts in API errors. */
function normalise(name: string): string {
  return name
    .replace(/^(network|box) kiab-\S+/, '$1')
    .replace(/kiab-[a-z0-9-]+?-(server|worker|box)(-\d+)?/g, (_match, role: string, index: string | undefined) => `${role}${index ?? ''}`)
    .replace(/^the API server did not answer.*/, 'the API server did not answer');
}

/** Sums repeated phases (a phase can recur, e.g. the API not answering twice) into one figure each. */
export function phaseTotals(phases: Array<[string, number]>): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const [name, seconds] of phases) totals[name] = Math.round(((totals[name] ?? 0) + seconds) * 10) / 10;
  return totals;
}

interface Condition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}
interface KubeObject {
  kind?: string;
  metadata: { name: string; namespace?: string; creationTimestamp?: string };
  status?: { conditions?: Condition[]; containerStatuses?: Array<{ state?: { running?: { startedAt?: string } } }> };
}

/**
 * Seconds from `start` (epoch ms) to what the API records: each node registered and Ready, each control-plane
 * pod's container started and the pod Ready, CoreDNS Ready. Whole seconds (the API's resolution).
 */
export function kubernetesTimeline(objects: KubeObject[], start: number): Record<string, number> {
  const since = (time: string | undefined): number | undefined => (time ? Math.round((Date.parse(time) - start) / 100) / 10 : undefined);
  const ready = (object: KubeObject): string | undefined =>
    object.status?.conditions?.find((condition) => condition.type === 'Ready' && condition.status === 'True')?.lastTransitionTime;
  const timeline: Record<string, number | undefined> = {};
  for (const object of objects) {
    const name = normalise(object.metadata.name);
    const component = /^(etcd|kube-apiserver|kube-controller-manager|kube-scheduler|coredns)\b/.exec(name)?.[1];
    if (object.kind === 'Node') {
      timeline[`node ${name} registered`] = since(object.metadata.creationTimestamp);
      timeline[`node ${name} Ready`] = since(ready(object));
    } else if (component) {
      // Two CoreDNS replicas (or a component on several servers): the second is named (2), and so on.
      let key = component;
      for (let count = 2; `${key} started` in timeline; count += 1) key = `${component} (${count})`;
      timeline[`${key} started`] = since(object.status?.containerStatuses?.[0]?.state?.running?.startedAt);
      timeline[`${key} Ready`] = since(ready(object));
    }
  }
  return Object.fromEntries(
    Object.entries(timeline)
      // Before the start: what a restored etcd remembers from the capture.
      .filter((entry): entry is [string, number] => entry[1] !== undefined && entry[1] >= 0)
      .sort((a, b) => a[1] - b[1]),
  );
}
