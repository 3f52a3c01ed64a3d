import { isIP } from 'node:net';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { engineRefSchema } from './engines.js';

/** A Kubernetes label key: an optional DNS-subdomain prefix and a name of up to 63 characters. */
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

const labelKey = z.string().regex(LABEL_KEY, 'must be a label key such as app or example.com/tier');

export const NODE_ROLES = ['server', 'worker'] as const;
export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
/** How mounts below a mount point travel between host and machine (kind's names, the engine's rprivate/rslave/rshared). */
export const MOUNT_PROPAGATIONS = ['None', 'HostToContainer', 'Bidirectional'] as const;

const absolutePath = z.string().refine((path) => path.startsWith('/'), 'must be an absolute path');

export const mountSchema = z
  .object({
    hostPath: absolutePath.describe('Folder or file on the host; it must exist when up runs'),
    machinePath: absolutePath.describe('Where it appears inside the machine (hostPath pods on that node see it there)'),
    readOnly: z.boolean().default(false).describe('Mount it read-only'),
    propagation: z.enum(MOUNT_PROPAGATIONS).default('None').describe('Mount propagation: None, HostToContainer or Bidirectional'),
  })
  .strict();

export const portMappingSchema = z
  .object({
    hostPort: z.number().int().min(1).max(65535).describe('Port on the host'),
    machinePort: z.number().int().min(1).max(65535).describe('Port on the machine, such as a NodePort (30000-32767)'),
    listenAddress: z
      .string()
      .refine((address) => isIP(address) === 4, 'must be an IPv4 address such as 127.0.0.1 or 0.0.0.0')
      .default('127.0.0.1')
      .describe('Host address to listen on (default 127.0.0.1; 0.0.0.0 exposes the port on every address of the host)'),
    protocol: z.enum(['TCP', 'UDP']).default('TCP').describe('TCP or UDP'),
  })
  .strict();

export const taintSchema = z
  .object({
    key: labelKey.describe('Taint key, such as dedicated'),
    value: z.string().regex(LABEL_VALUE, 'must be a label value: up to 63 letters, digits, "-", "_" or "."').optional().describe('Taint value (optional)'),
    effect: z.enum(TAINT_EFFECTS).describe('NoSchedule, PreferNoSchedule or NoExecute'),
  })
  .strict();

export const nodeSchema = z
  .object({
    role: z.enum(NODE_ROLES).describe('server (control plane) or worker'),
    engine: engineRefSchema.optional(),
    labels: z
      .record(labelKey, z.string().regex(LABEL_VALUE, 'must be a label value: up to 63 letters, digits, "-", "_" or "."'))
      .default({})
      .describe('Labels on the node; changed on the live node by up'),
    taints: z.array(taintSchema).default([]).describe('Taints on the node; changed on the live node by up'),
    mounts: z.array(mountSchema).default([]).describe('Host folders mounted into the machine (fixed once the machine is made)'),
    portMappings: z.array(portMappingSchema).default([]).describe('Host ports forwarded straight to this machine (fixed once the machine is made)'),
    kubeadmConfigPatches: z
      .array(z.string())
      .default([])
      .describe("kubeadm only: YAML merge patches of this node's kubeadm documents (InitConfiguration, JoinConfiguration, ...)"),
    kubernetesVersion: z
      .string()
      .regex(/^v?1\.\d+(\.\d+)?$/, 'must be a Kubernetes version such as 1.36 or v1.36.3')
      .optional()
      .describe(
        "kubeadm only: this worker's kubelet, kube-proxy and kubectl release, up to three minors older than the cluster's (a server runs the cluster's); fixed once the machine is made, and `kiab upgrade` brings it to the cluster's",
      ),
  })
  .strict();

export const json6902PatchSchema = z
  .object({
    group: z.string().describe('API group of the kubeadm document, such as kubeadm.k8s.io'),
    version: z.string().describe('API version, such as v1beta4'),
    kind: z.string().min(1).describe('Kind, such as ClusterConfiguration'),
    patch: z.string().min(1).describe('RFC 6902 operations as YAML or JSON'),
  })
  .strict();

/** Cluster-wide knobs for the Kubernetes components (kubeadm), in kind's words where kind has one. */
export const shapeFields = {
  featureGates: z
    .record(z.string().regex(/^[A-Za-z0-9]+$/, 'must be a feature gate name such as InPlacePodVerticalScaling'), z.boolean())
    .optional()
    .describe('Feature gates for every component that takes them (API server, controller manager, scheduler, kubelet, kube-proxy)'),
  runtimeConfig: z.record(z.string().min(1), z.string()).optional().describe('API server --runtime-config entries, such as api/alpha: "true"'),
  kubeadmConfigPatches: z.array(z.string()).optional().describe("kubeadm only: YAML merge patches of every machine's kubeadm documents, matched by kind"),
  kubeadmConfigPatchesJSON6902: z.array(json6902PatchSchema).optional().describe('kubeadm only: RFC 6902 patches of the kubeadm documents'),
  containerdConfigPatches: z
    .array(
      z.string().superRefine((text, context) => {
        try {
          parseToml(text);
        } catch (error) {
          context.addIssue({ code: 'custom', message: `invalid TOML: ${(error as Error).message.split('\n')[0]}`, input: text });
        }
      }),
    )
    .optional()
    .describe("TOML merged into every machine's containerd configuration"),
  registries: z
    .object({
      mirrors: z
        .record(z.string().min(1), z.array(z.url()).min(1))
        .default({})
        .describe('Registry name to endpoint URLs tried before it, as containerd hosts.toml (the box registry is http://kiab-NAME-box:5000)'),
    })
    .strict()
    .optional()
    .describe('How machines reach other registries'),
  apiServer: z
    .object({ certSANs: z.array(z.string().min(1)).default([]).describe("Extra names and addresses in the API server's certificate") })
    .strict()
    .optional()
    .describe('The Kubernetes API server'),
};

export type NodeSpec = z.output<typeof nodeSchema>;
export type MountSpec = z.output<typeof mountSchema>;
export type PortMappingSpec = z.output<typeof portMappingSchema>;
export type TaintSpec = z.output<typeof taintSchema>;

/** The shape `nodes` gives the machine of this role and index (the index-th entry of its role), if any. */
export function nodeOf(spec: { nodes: NodeSpec[] }, role: (typeof NODE_ROLES)[number], index: number): NodeSpec | undefined {
  return spec.nodes.filter((node) => node.role === role)[index];
}
