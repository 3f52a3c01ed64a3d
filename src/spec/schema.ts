import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { inLanPrefix, lanAddressProblem, parseLanAddress } from '../net/lan.js';
import { nodeSchema, shapeFields } from './shape.js';
import { boxSchema, engineReferenceIssues, enginesSchema } from './engines.js';
import { givenRanges, IPV6_POD_SUBNET, IPV6_SERVICE_SUBNET, networkingSchema, rangeConflicts } from './networking.js';

/** DNS-1123 label, short enough that `kiab-NAME-worker-NN` and its volumes stay valid names. */
const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const MAX_CLUSTER_NAME = 32;

export const clusterNameSchema = z
  .string()
  .max(MAX_CLUSTER_NAME, `must be at most ${MAX_CLUSTER_NAME} characters`)
  .regex(CLUSTER_NAME, 'must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit');

export const DISTRIBUTIONS = ['kubeadm', 'k3s', 'none'] as const;
export type DistributionName = (typeof DISTRIBUTIONS)[number];

/** What a cluster runs beyond Kubernetes itself, each an upstream component (see src/addons/). */
export const ADDONS = ['ingress', 'storage', 'loadbalancer', 'metrics'] as const;
export type AddonName = (typeof ADDONS)[number];

export { KUBE_PROXY_MODES, type KubeProxyMode } from './networking.js';

const hostPort = z.number().int().min(1).max(65535);

/** Longer than anything a local cluster needs; beyond it a typo (`5h` for `5m`) would hang a script for hours. */
export const MAX_WAIT = '2h';

const durationSchema = z
  .string()
  .refine((text) => parseDuration(text) !== undefined, 'must be a duration such as 90s, 5m or 1h30m')
  .refine((text) => (parseDuration(text) ?? 0) <= parseDuration(MAX_WAIT)!, `must be at most ${MAX_WAIT}`);

const subnetSchema = z
  .string()
  .regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/, 'must be an IPv4 /24 such as 172.28.5.0/24')
  .refine(
    (cidr) =>
      cidr
        .split('/')[0]!
        .split('.')
        .every((octet) => Number(octet) <= 255),
    'has an octet above 255',
  );

/** A Linux link name: at most 15 characters, none of them a slash or a space. */
const INTERFACE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;

export const lanSchema = z
  .object({
    parent: z
      .string({ error: 'is needed: the host link the box joins the LAN through, such as eth0' })
      .regex(INTERFACE_NAME, 'must be the name of a network link of the host, such as eth0 (at most 15 characters)')
      .describe("The link of the engine's host that carries the LAN, such as eth0; kiab leaves it as it is"),
    address: z
      .string({ error: "is needed: the box's address on the LAN with its prefix length, such as 192.168.1.240/24" })
      .superRefine((text, context) => {
        const problem = lanAddressProblem(text);
        if (problem) context.addIssue({ code: 'custom', message: problem });
      })
      .describe("The box's address on the LAN with its prefix length, such as 192.168.1.240/24; refused when a host of the LAN answers for it"),
    gateway: z
      .string()
      .refine(isIPv4, 'must be an IPv4 address such as 192.168.1.1')
      .optional()
      .describe("The LAN's router (default: the first address of the prefix)"),
  })
  .strict()
  .superRefine((lan, context) => {
    if (lan.gateway === undefined || lanAddressProblem(lan.address)) return;
    const parsed = parseLanAddress(lan.address, lan.gateway);
    if (!inLanPrefix(parsed, lan.gateway)) context.addIssue({ code: 'custom', path: ['gateway'], message: `must lie in ${parsed.cidr}` });
    else if (lan.gateway === parsed.address) context.addIssue({ code: 'custom', path: ['gateway'], message: "must not be the box's own address" });
  });

export const portsSchema = z
  .object({
    api: hostPort.optional().describe('Host port on 127.0.0.1 for the Kubernetes API (default: a free port)'),
    http: hostPort.optional().describe('Host port on 127.0.0.1 for port 80, balanced over the workers'),
    https: hostPort.optional().describe('Host port on 127.0.0.1 for port 443, balanced over the workers'),
    registry: hostPort.optional().describe('Host port on 127.0.0.1 for the registry; images are pushed as localhost:PORT/NAME'),
    address: z
      .string()
      .refine(isIPv4, 'must be an IPv4 address such as 127.0.0.1, 192.168.1.20 or 0.0.0.0')
      .optional()
      .describe('Host address the box publishes every port on, instead of 127.0.0.1 (0.0.0.0: every address of the host)'),
  })
  .strict();

export const clusterSpecSchema = z
  .object({
    $schema: z.string().optional().describe('URL or path of the JSON schema, for editors; kiab ignores it'),
    name: clusterNameSchema.default('kiab').describe('Cluster name; objects are called kiab-NAME-*'),
    servers: z.number().int().min(1).max(9).optional().describe('Number of server (control-plane) machines (default: the servers `nodes` lists, at least 1)'),
    workers: z.number().int().min(0).max(50).optional().describe('Number of worker machines (default: the workers `nodes` lists; 1 without `nodes`)'),
    nodes: z
      .array(nodeSchema)
      .optional()
      .describe(
        'Machines with a shape of their own: the first servers and the first workers, in this order; `servers` and `workers` may ask for more, never fewer',
      ),
    distribution: z
      .enum(DISTRIBUTIONS)
      .default('kubeadm')
      .describe('What runs on the machines: kubeadm (upstream Kubernetes, the default), k3s, or none (bare machines)'),
    kubernetesVersion: z
      .string()
      .regex(/^v?\d+\.\d+(\.\d+(\+k3s\d+)?)?$/, 'must be a release such as v1.37.2, a minor such as 1.36 (its newest patch kiab knows), or v1.36.4+k3s1 (k3s)')
      .optional()
      .describe(
        'Kubernetes version: a release (v1.37.2), or a minor (1.36) for the newest patch of it kiab knows; k3s takes its own (v1.36.4+k3s1). Default: the newest kiab knows',
      ),
    addons: z
      .array(z.enum(ADDONS, { error: (issue) => `"${String(issue.input)}" is not an addon; choose from ${ADDONS.join(', ')}` }))
      .optional()
      .describe('Addons to run: ingress, storage, loadbalancer, metrics (default: all four with Kubernetes, none with distribution none; [] for none)'),
    wait: durationSchema.default('5m').describe('How long up waits for machines (and Kubernetes) to be ready'),
    ports: portsSchema.default({}).describe('Fixed host ports on 127.0.0.1 for what the box publishes (default: free ports chosen at up)'),
    registry: z
      .object({
        enabled: z.boolean().default(true).describe('Run the registry in the box'),
        proxyRemoteUrl: z.url().optional().describe('Make the registry a pull-through cache of this upstream registry'),
        auth: z
          .boolean()
          .default(false)
          .describe(
            'Ask for a login (htpasswd, user kiab, a generated password shown once by up and saved where docker login keeps it); the machines pull with it',
          ),
      })
      .strict()
      .default({ enabled: true, auth: false })
      .describe('The OCI registry in the box'),
    network: z
      .object({
        subnet: subnetSchema.optional().describe('The cluster network, an IPv4 /24 (default: a free one)'),
        lan: lanSchema
          .optional()
          .describe(
            'The box as a host on a LAN: it joins a macvlan network on a link of the host and answers there for the API (6443), 80, 443, the NodePorts and the registry (5000)',
          ),
      })
      .strict()
      .default({})
      .describe("The cluster's private network"),
    networking: networkingSchema
      .default({ kubeProxyMode: 'iptables', cni: 'kiab', ipFamily: 'ipv4' })
      .describe("The cluster's Kubernetes networking (pod network, Services)"),
    images: z
      .object({
        node: z.string().min(1).optional().describe("Machine image (default: kiab's own, built when missing)"),
        box: z.string().min(1).optional().describe("Box image (default: kiab's own, built when missing)"),
      })
      .strict()
      .default({})
      .describe('Images for the machines and the box'),
    ...shapeFields,
    engines: enginesSchema.optional(),
    box: boxSchema.optional(),
  })
  .strict()
  .superRefine((spec, context) => {
    for (const issue of engineReferenceIssues(spec)) context.addIssue({ code: 'custom', ...issue });
    // k3s brings its own kube-proxy settings and bare machines run none: only kubeadm's is kiab's to choose.
    if (spec.distribution !== 'kubeadm' && spec.networking.kubeProxyMode !== 'iptables')
      context.addIssue({
        code: 'custom',
        path: ['networking', 'kubeProxyMode'],
        message: `only kubeadm clusters choose the kube-proxy mode (this one is ${spec.distribution})`,
      });
    if (spec.distribution !== 'kubeadm' && spec.networking.cni !== 'kiab')
      context.addIssue({
        code: 'custom',
        path: ['networking', 'cni'],
        message: `only kubeadm clusters leave out their pod network (this one is ${spec.distribution})`,
      });
    if (spec.distribution !== 'kubeadm' && spec.networking.ipFamily !== 'ipv4')
      context.addIssue({
        code: 'custom',
        path: ['networking', 'ipFamily'],
        message: `only kubeadm clusters run IPv6 (this one is ${spec.distribution})`,
      });
    // An IPv6-only cluster has no IPv4 range to choose; a dual one's given ranges are its IPv4 half.
    if (spec.networking.ipFamily === 'ipv6')
      for (const { field } of givenRanges(spec.networking))
        context.addIssue({
          code: 'custom',
          path: field.split('.'),
          message: `is an IPv4 range, and this cluster is IPv6 only (networking.ipFamily: ipv6): its ranges are ${IPV6_POD_SUBNET} and ${IPV6_SERVICE_SUBNET}; leave it out`,
        });
    // k3s has ranges of its own (10.42/16, 10.43/16) and bare machines none.
    for (const { field } of givenRanges(spec.networking))
      if (spec.distribution !== 'kubeadm')
        context.addIssue({
          code: 'custom',
          path: field.split('.'),
          message: `only kubeadm clusters choose their pod and service ranges (this one is ${spec.distribution})`,
        });
    if (spec.distribution === 'kubeadm')
      for (const problem of rangeConflicts(spec.networking, spec.network.subnet)) context.addIssue({ code: 'custom', ...problem });
  })
  .transform((spec, context) => {
    const nodes = spec.nodes ?? [];
    const listed = (role: 'server' | 'worker'): number => nodes.filter((node) => node.role === role).length;
    const servers = spec.servers ?? Math.max(1, listed('server'));
    const workers = spec.workers ?? (spec.nodes === undefined ? 1 : listed('worker'));
    for (const [role, count, field] of [
      ['server', servers, 'servers'],
      ['worker', workers, 'workers'],
    ] as const) {
      if (count < listed(role))
        context.addIssue({
          code: 'custom',
          path: [field],
          message: `is ${count}, but nodes lists ${listed(role)} ${role}s: raise it or leave it out`,
          input: count,
        });
    }
    return { ...spec, servers, workers, nodes };
  });

/** What a user may write in kiab.yaml or pass as flags, before defaults. */
export type ClusterSpecInput = z.input<typeof clusterSpecSchema>;
/** The one validated spec that flows from the cli down through every layer. */
export type ClusterSpec = z.output<typeof clusterSpecSchema>;
export type PortsSpec = z.output<typeof portsSchema>;
export type { MountSpec, NodeSpec, PortMappingSpec, TaintSpec } from './shape.js';
export type LanSpec = z.output<typeof lanSchema>;
export type { EngineSpec } from './engines.js';
