import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { parseDuration } from '../../src/spec/duration.js';
import { parseSpec, parseSpecSource } from '../../src/spec/load.js';

function refusal(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
    assert.equal(error.exitCode, 2);
    assert.ok(!error.message.includes('\n'), 'the message is one line');
    return error;
  }
  assert.fail('the spec was accepted');
}

describe('cluster spec', () => {
  it('fills defaults: one server, one worker, kubeadm, registry on', () => {
    const spec = parseSpec({});
    assert.equal(spec.name, 'kiab');
    assert.equal(spec.servers, 1);
    assert.equal(spec.workers, 1);
    assert.equal(spec.distribution, 'kubeadm');
    assert.equal(spec.registry.enabled, true);
    assert.deepEqual(spec.ports, {});
  });

  it('lets flags win over the file', () => {
    const spec = parseSpec({ fileText: 'name: dev\nworkers: 3\n', flags: { workers: 1 } });
    assert.equal(spec.name, 'dev');
    assert.equal(spec.workers, 1);
  });

  it('refuses a name that is not a DNS-1123 label, naming the argument', () => {
    const error = refusal(() => parseSpec({ flags: { name: 'Dev_1' } }));
    assert.match(error.message, /^NAME: .*DNS-1123/);
  });

  it('refuses a bad value in kiab.yaml with file, line, column and field path', () => {
    const error = refusal(() => parseSpec({ file: 'my.yaml', fileText: 'name: dev\nports:\n  api: 99999\n' }));
    assert.match(error.message, /^my\.yaml:3:8: ports\.api: /);
  });

  it('refuses an unknown field with its line', () => {
    const error = refusal(() => parseSpec({ file: 'kiab.yaml', fileText: 'name: dev\nwrokers: 2\n' }));
    assert.match(error.message, /^kiab\.yaml:2:1: \(root\): unknown field "wrokers"/);
  });

  it('refuses broken YAML with its position', () => {
    const error = refusal(() => parseSpec({ file: 'kiab.yaml', fileText: 'name: [dev\n' }));
    assert.match(error.message, /^kiab\.yaml:\d+:\d+: invalid YAML/);
  });

  it('names the flag when a flag value is out of range', () => {
    const error = refusal(() => parseSpec({ flags: { servers: 0 } }));
    assert.match(error.message, /^--servers: /);
  });

  it('refuses a YAML alias bomb in one line instead of expanding it', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from({ length: 8 }, (_, level) => `${'bcdefghi'[level]}: &${'bcdefghi'[level]} [${Array(10).fill(`*${'abcdefghi'[level]}`).join(', ')}]`),
    ].join('\n');
    const error = refusal(() => parseSpec({ file: 'kiab.yaml', fileText: `${bomb}\n` }));
    assert.match(error.message, /^kiab\.yaml: invalid YAML: .*alias/i);
  });

  it('tells which fields the user set, the rest being defaults', () => {
    const { given } = parseSpecSource({ fileText: 'name: dev\nports:\n  api: 6443\n', flags: { workers: 2 } });
    assert.deepEqual([...given].sort(), ['name', 'ports.api', 'workers']);
  });

  it('accepts only plain release versions, so no version can name a path outside the cache', () => {
    for (const version of ['v1.34.4', '1.34.4', 'v1.36.4+k3s1']) assert.equal(parseSpec({ flags: { kubernetesVersion: version } }).kubernetesVersion, version);
    for (const version of ['v1.34.4/../../x', 'v1.34.4-rc.1', 'latest'])
      assert.match(refusal(() => parseSpec({ flags: { kubernetesVersion: version } })).message, /^--k8s-version: /);
  });

  it('takes the kube-proxy mode for kubeadm (iptables by default) and refuses it, by field, elsewhere', () => {
    assert.equal(parseSpec({}).networking.kubeProxyMode, 'iptables');
    assert.equal(parseSpec({ fileText: 'networking:\n  kubeProxyMode: nftables\n' }).networking.kubeProxyMode, 'nftables');
    const unknown = refusal(() => parseSpec({ file: 'kiab.yaml', fileText: 'networking:\n  kubeProxyMode: userspace\n' }));
    assert.match(
      unknown.message,
      /^kiab\.yaml:2:18: networking\.kubeProxyMode: "userspace" is not a kube-proxy mode; choose from iptables, nftables, ipvs, none$/,
    );
    const k3s = refusal(() => parseSpec({ file: 'kiab.yaml', fileText: 'distribution: k3s\nnetworking:\n  kubeProxyMode: none\n' }));
    assert.match(k3s.message, /networking\.kubeProxyMode: only kubeadm clusters choose the kube-proxy mode \(this one is k3s\)/);
  });

  it('takes the IP family for kubeadm (ipv4 by default) and refuses it, by field, elsewhere and with an IPv4 range when IPv6 only', () => {
    assert.equal(parseSpec({}).networking.ipFamily, 'ipv4');
    assert.equal(parseSpec({ fileText: 'networking:\n  ipFamily: dual\n  podSubnet: 10.100.0.0/16\n' }).networking.ipFamily, 'dual');
    const unknown = refusal(() => parseSpec({ file: 'kiab.yaml', fileText: 'networking:\n  ipFamily: both\n' }));
    assert.match(unknown.message, /^kiab\.yaml:2:13: networking\.ipFamily: "both" is not an IP family; choose from ipv4, ipv6, dual$/);
    const k3s = refusal(() => parseSpec({ file: 'kiab.yaml', fileText: 'distribution: k3s\nnetworking:\n  ipFamily: ipv6\n' }));
    assert.match(k3s.message, /networking\.ipFamily: only kubeadm clusters run IPv6 \(this one is k3s\)/);
    const ranged = refusal(() => parseSpec({ file: 'kiab.yaml', fileText: 'networking:\n  ipFamily: ipv6\n  serviceSubnet: 10.200.0.0/16\n' }));
    assert.match(ranged.message, /networking\.serviceSubnet: is an IPv4 range, and this cluster is IPv6 only/);
  });

  it('refuses a wait beyond the maximum, naming the flag', () => {
    assert.match(refusal(() => parseSpec({ flags: { wait: '5h' } })).message, /^--wait: must be at most 2h$/);
    assert.equal(parseSpec({ flags: { wait: '2h' } }).wait, '2h');
  });

  it('refuses a wait that is not a duration', () => {
    const error = refusal(() => parseSpec({ fileText: 'wait: soon\n' }));
    assert.match(error.message, /wait: must be a duration/);
  });
});

describe('durations', () => {
  it('parses Go-style durations', () => {
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('2'), 2000);
  });
  it('rejects anything else', () => {
    for (const text of ['', '5x', 'm5', '1h 30m', '-5s']) assert.equal(parseDuration(text), undefined, text);
  });
});
