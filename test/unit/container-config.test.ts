import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerCreateOptions } from '../../src/provider/docker/container-config.js';
import type { ContainerSpec } from '../../src/provider/types.js';

const volumeLabels = { 'dev.kiab.cluster': 'dev', 'dev.kiab.role': 'volume' };

function specOf(kind: ContainerSpec['kind'], overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name: `kiab-dev-${kind}`,
    hostname: `kiab-dev-${kind}`,
    image: `kiab/${kind}:1`,
    kind,
    labels: { 'dev.kiab.cluster': 'dev' },
    network: { name: 'kiab-dev', ip: '172.28.0.10' },
    volumes: [{ name: 'kiab-dev-data', path: '/var/lib/data', labels: volumeLabels }],
    publish: [
      { containerPort: 6443, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 41001 },
      { containerPort: 30000, protocol: 'udp', hostIp: '127.0.0.1', hostPort: 41002 },
    ],
    ...overrides,
  };
}

/** The engine options for a spec, with the fields the dockerode types leave out made readable. */
function optionsFor(spec: ContainerSpec) {
  const options = containerCreateOptions(spec);
  const host = options.HostConfig as NonNullable<typeof options.HostConfig> & { CgroupnsMode?: string };
  return { options, host };
}

const machine = optionsFor(specOf('machine', { env: { KIAB_ROLE: 'server' } }));
const router = optionsFor(specOf('router', { network: { name: 'kiab-dev', ip: '172.28.0.2', aliases: ['box'] } }));

describe('docker create options for a machine', () => {
  const { options, host } = machine;

  it('grants every capability but SYS_RESOURCE, without --privileged', () => {
    assert.deepEqual(host.CapAdd, ['ALL']);
    assert.deepEqual(host.CapDrop, ['SYS_RESOURCE']);
    assert.equal(host.Privileged, undefined);
  });

  it('runs unconfined with a private cgroup namespace, every device allowed, /dev/kmsg and tmpfs /run and /tmp', () => {
    assert.ok(host.SecurityOpt?.includes('seccomp=unconfined'));
    assert.ok(host.SecurityOpt?.includes('apparmor=unconfined'));
    assert.equal(host.CgroupnsMode, 'private');
    assert.deepEqual(host.Devices, [{ PathOnHost: '/dev/kmsg', PathInContainer: '/dev/kmsg', CgroupPermissions: 'rwm' }]);
    // As a privileged container's: runc inside may then grant a privileged pod every device (cgroup v1).
    assert.deepEqual(host.DeviceCgroupRules, ['a *:* rwm']);
    assert.deepEqual(Object.keys(host.Tmpfs ?? {}).sort(), ['/run', '/tmp']);
  });

  it('gets a TTY and container=docker for systemd, plus the spec environment', () => {
    assert.equal(options.Tty, true);
    assert.deepEqual(options.Env, ['container=docker', 'KIAB_ROLE=server']);
  });

  it("keeps the engine's CPU weight unless the spec sets one", () => {
    assert.equal(host.CpuShares, undefined);
    assert.equal(optionsFor(specOf('machine', { cpuShares: 256 })).host.CpuShares, 256);
  });
});

describe('docker create options for the box', () => {
  const { options, host } = router;

  it('is an ordinary process with network capabilities only', () => {
    assert.deepEqual(host.CapAdd, ['NET_ADMIN', 'NET_RAW']);
    assert.equal(host.CapDrop, undefined);
    assert.equal(host.Privileged, undefined);
    assert.equal(host.Devices, undefined);
    assert.equal(host.CgroupnsMode, undefined);
    assert.deepEqual(host.Sysctls, { 'net.ipv4.ip_forward': '1' });
  });

  it('has no TTY and no container=docker', () => {
    assert.equal(options.Tty, false);
    assert.deepEqual(options.Env, []);
  });
});

describe('docker create options common to machines and the box', () => {
  const cases = [
    { kind: 'machine', ...machine, ip: '172.28.0.10', aliases: [] },
    { kind: 'router', ...router, ip: '172.28.0.2', aliases: ['box'] },
  ];

  for (const { kind, options, host, ip, aliases } of cases) {
    it(`${kind}: publishes on the given host address only, per port and protocol`, () => {
      assert.deepEqual(options.ExposedPorts, { '6443/tcp': {}, '30000/udp': {} });
      assert.deepEqual(host.PortBindings, {
        '6443/tcp': [{ HostIp: '127.0.0.1', HostPort: '41001' }],
        '30000/udp': [{ HostIp: '127.0.0.1', HostPort: '41002' }],
      });
    });

    it(`${kind}: restarts unless stopped and mounts labelled named volumes`, () => {
      assert.deepEqual(host.RestartPolicy, { Name: 'unless-stopped' });
      assert.deepEqual(host.Mounts, [{ Type: 'volume', Source: 'kiab-dev-data', Target: '/var/lib/data', VolumeOptions: { Labels: volumeLabels } }]);
    });

    it(`${kind}: joins the cluster network at its fixed address`, () => {
      assert.equal(host.NetworkMode, 'kiab-dev');
      assert.deepEqual(options.NetworkingConfig?.EndpointsConfig, { 'kiab-dev': { IPAMConfig: { IPv4Address: ip }, Aliases: aliases } });
      assert.equal(options.name, `kiab-dev-${kind}`);
      assert.deepEqual(options.Labels, { 'dev.kiab.cluster': 'dev' });
    });
  }
});
