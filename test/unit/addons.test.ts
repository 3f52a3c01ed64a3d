import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { dumpYaml, type V1DaemonSet, type V1Deployment } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { addonManifests, ADDONS, COMPONENTS, imagesFor, definitionsIn, requestedAddons, type AddonSettings } from '../../src/addons/index.js';
import { wantedAddons } from '../../src/cluster/kubernetes/addons.js';
import { distributionFor } from '../../src/distribution/index.js';
import { k3sDisabled } from '../../src/distribution/k3s/addons.js';
import { UsageError } from '../../src/errors.js';
import { parseSpec } from '../../src/spec/load.js';

const settings: AddonSettings = {
  subnetPrefix: '172.28.4',
  boxIp: '172.28.4.2',
  hasWorkers: true,
  metricsTls: { caPem: 'CA', certPem: 'CERT', keyPem: 'KEY' },
  metallbDefinitions: [],
  gatewayDefinitions: [],
};

const byKind = <T>(objects: Array<{ kind?: string }>, kind: string): T[] => objects.filter((object) => object.kind === kind) as T[];

describe('addons', () => {
  it('are all four by default, in a fixed order, and none when the spec lists none', () => {
    assert.deepEqual(requestedAddons(parseSpec({})), [...ADDONS]);
    assert.deepEqual(requestedAddons(parseSpec({ flags: { addons: ['metrics', 'storage', 'metrics'] } })), ['storage', 'metrics']);
    assert.deepEqual(requestedAddons(parseSpec({ flags: { addons: [] } })), []);
  });

  it('bare machines run none by default and refuse them when asked', () => {
    const none = distributionFor('none');
    assert.deepEqual(wantedAddons(parseSpec({ flags: { distribution: 'none' } }), none), []);
    assert.deepEqual(wantedAddons(parseSpec({ flags: { distribution: 'none', addons: [] } }), none), []);
    assert.throws(
      () => wantedAddons(parseSpec({ flags: { distribution: 'none', addons: ['storage'] } }), none),
      (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.match(error.message, /^--addons: /);
        return true;
      },
    );
  });

  it('k3s brings all four itself and leaves out those not asked for', () => {
    const k3s = distributionFor('k3s');
    assert.deepEqual(Object.keys(k3s.bundledAddons).sort(), [...ADDONS].sort());
    assert.deepEqual(distributionFor('kubeadm').bundledAddons, {});
    assert.deepEqual(k3sDisabled(parseSpec({})), []);
    assert.deepEqual(k3sDisabled(parseSpec({ flags: { addons: ['ingress'] } })), ['local-storage', 'servicelb', 'metrics-server']);
  });

  it('use only the images of the asset set, never pulled', () => {
    const images = new Set<string>(Object.values(COMPONENTS).map((component) => component.image));
    for (const manifest of addonManifests(ADDONS, settings)) {
      const text = JSON.stringify(manifest.objects);
      for (const [, image] of text.matchAll(/"image":"([^"]+)"/g)) assert.ok(images.has(image!), `${manifest.name} uses ${image} from outside the set`);
      for (const workload of [...byKind<V1Deployment>(manifest.objects, 'Deployment'), ...byKind<V1DaemonSet>(manifest.objects, 'DaemonSet')])
        for (const container of workload.spec!.template.spec!.containers) assert.equal(container.imagePullPolicy, 'IfNotPresent');
    }
    // local-path's helper pods, defined inside its ConfigMap, use the set's busybox too.
    assert.match(JSON.stringify(addonManifests(['storage'], settings)[0]!.objects), /docker\.io\/library\/busybox:1\.37\.0/);
  });

  it('give machines only the images of the parts that can run there', () => {
    assert.deepEqual(imagesFor(ADDONS, 'worker', true).sort(), ['busybox', 'metallb-speaker', 'traefik']);
    assert.deepEqual(imagesFor(ADDONS, 'server', true).sort(), [
      'busybox',
      'local-path-provisioner',
      'metallb-controller',
      'metallb-speaker',
      'metrics-server',
    ]);
    assert.ok(imagesFor(ADDONS, 'server', false).includes('traefik'), 'without workers, ingress runs on the servers');
    assert.deepEqual(imagesFor(['metrics'], 'worker', true), [], 'a worker runs no part of metrics-server');
  });

  it('ingress takes ports 80 and 443 of the workers, or of the servers when there are none, and is the default class', () => {
    const [withWorkers] = addonManifests(['ingress'], settings);
    const daemonSet = byKind<V1DaemonSet>(withWorkers!.objects, 'DaemonSet')[0]!;
    const ports = daemonSet.spec!.template.spec!.containers[0]!.ports!.filter((port) => port.hostPort).map((port) => port.hostPort);
    assert.deepEqual(ports, [80, 443]);
    assert.match(JSON.stringify(daemonSet.spec!.template.spec!.affinity), /node-role.kubernetes.io\/control-plane","operator":"DoesNotExist/);
    const [serversOnly] = addonManifests(['ingress'], { ...settings, hasWorkers: false });
    const alone = byKind<V1DaemonSet>(serversOnly!.objects, 'DaemonSet')[0]!.spec!.template.spec!;
    assert.equal(alone.affinity, undefined);
    assert.ok(alone.tolerations?.some((toleration) => toleration.key === 'node-role.kubernetes.io/control-plane'));
    const ingressClass = byKind<{ metadata: { annotations: Record<string, string> } }>(withWorkers!.objects, 'IngressClass')[0]!;
    assert.equal(ingressClass.metadata.annotations['ingressclass.kubernetes.io/is-default-class'], 'true');
  });

  it("ingress serves Gateway API routes: its Gateway's listener is Traefik's web entry point, behind hostPort 80, open to every namespace", () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'httproutes.gateway.networking.k8s.io' },
      spec: { group: 'gateway.networking.k8s.io', names: { kind: 'HTTPRoute', plural: 'httproutes' }, scope: 'Namespaced', versions: [] },
    };
    const [ingress] = addonManifests(['ingress'], { ...settings, gatewayDefinitions: [crd] });
    assert.deepEqual(ingress!.definitions, [crd]);
    const daemonSet = byKind<V1DaemonSet>(ingress!.objects, 'DaemonSet')[0]!;
    const container = daemonSet.spec!.template.spec!.containers[0]!;
    const web = container.ports!.find((port) => port.hostPort === 80)!;
    assert.ok(container.args!.includes(`--entryPoints.web.address=:${web.containerPort}/tcp`));
    assert.ok(container.args!.includes('--providers.kubernetesgateway=true'));
    const gateway = byKind<{
      metadata: { name: string; namespace: string };
      spec: { gatewayClassName: string; listeners: Array<{ port: number; allowedRoutes: unknown }> };
    }>(ingress!.objects, 'Gateway')[0]!;
    assert.deepEqual(
      gateway.spec.listeners.map((listener) => [listener.port, listener.allowedRoutes]),
      [[web.containerPort, { namespaces: { from: 'All' } }]],
    );
    const gatewayClass = byKind<{ metadata: { name: string }; spec: { controllerName: string } }>(ingress!.objects, 'GatewayClass')[0]!;
    assert.equal(gatewayClass.metadata.name, gateway.spec.gatewayClassName);
    assert.equal(gatewayClass.spec.controllerName, 'traefik.io/gateway-controller');
    const kinds = ingress!.objects.map((object) => object.kind);
    assert.ok(kinds.indexOf('Namespace') < kinds.indexOf('Gateway'), 'the namespace first');
  });

  it('the load balancer pool is .200-.250 of the cluster network', () => {
    const [loadbalancer] = addonManifests(['loadbalancer'], settings);
    const pool = byKind<{ spec: { addresses: string[] } }>(loadbalancer!.objects, 'IPAddressPool')[0]!;
    assert.deepEqual(pool.spec.addresses, ['172.28.4.200-172.28.4.250']);
  });

  it('metrics trusts certificates, never skips their verification', () => {
    const [metrics] = addonManifests(['metrics'], settings);
    const text = JSON.stringify(metrics!.objects);
    assert.doesNotMatch(text, /insecure/i);
    const apiService = byKind<{ spec: { caBundle: string } }>(metrics!.registrations, 'APIService')[0]!;
    assert.equal(Buffer.from(apiService.spec.caBundle, 'base64').toString(), 'CA');
  });

  it("reads MetalLB's definitions from its release manifest", async () => {
    const manifest = readFileSync(new URL('../fixtures/metallb-crds.yaml', import.meta.url), 'utf8');
    const definitions = await definitionsIn(manifest);
    assert.deepEqual(
      definitions.map((definition) => definition.metadata?.name),
      ['ipaddresspools.metallb.io'],
    );
    // Typed by client-node's loader, so the fields whose JSON names differ from their TypeScript names
    // survive the serialiser that sends them to the API.
    const sent = parse(dumpYaml(definitions[0])) as {
      spec: { versions: Array<{ schema: { openAPIV3Schema: { properties: { spec: Record<string, unknown> } } } }> };
    };
    const spec = sent.spec.versions[0]!.schema.openAPIV3Schema.properties.spec;
    assert.deepEqual(spec['x-kubernetes-validations'], [{ message: 'Value is immutable', rule: 'self == oldSelf' }]);
    assert.equal((spec.properties as { addresses: Record<string, unknown> }).addresses['x-kubernetes-list-type'], 'atomic');
  });
});
