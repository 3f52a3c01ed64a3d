import assert from 'node:assert/strict';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { doctor, ensureHostReady } from '../../src/cluster/doctor.js';
import { distributionFor } from '../../src/distribution/index.js';
import { KiabError } from '../../src/errors.js';
import { capabilitiesFinding } from '../../src/host/capabilities.js';
import { cgroupFinding } from '../../src/host/cgroup.js';
import { diskFinding } from '../../src/host/disk.js';
import { engineFinding } from '../../src/host/engine.js';
import { engineProcesses } from '../../src/host/engine-process.js';
import { goFinding } from '../../src/host/go.js';
import { inotifyFinding } from '../../src/host/inotify.js';
import { ipv6Enabled, ipv6Finding } from '../../src/host/ipv6.js';
import { kernelFeatures, kernelFindings, kmsgFinding } from '../../src/host/kernel.js';
import { nofileFinding } from '../../src/host/limits.js';
import { engine, isolateFolders } from '../fakes/cluster.js';

before(isolateFolders);

const FULL = (1n << 41n) - 1n;
const bit = (n: number): bigint => 1n << BigInt(n);
const SYS_RESOURCE = 24;
const SYS_ADMIN = 21;

interface FakeProcess {
  name: string;
  uid: number;
  capBnd: bigint;
  nofile?: number;
  /** Another PID namespace, as a machine's own containerd has. */
  elsewhere?: boolean;
}

/** A /proc with `self` in one PID namespace and the given processes. */
async function fakeProc(processes: FakeProcess[]): Promise<string> {
  const proc = await mkdtemp(join(tmpdir(), 'kiab-proc-'));
  await mkdir(join(proc, 'self', 'ns'), { recursive: true });
  await symlink('pid:[4026531836]', join(proc, 'self', 'ns', 'pid'));
  for (const [index, process] of processes.entries()) {
    const dir = join(proc, String(200 + index));
    await mkdir(join(dir, 'ns'), { recursive: true });
    await symlink(process.elsewhere ? 'pid:[4026532999]' : 'pid:[4026531836]', join(dir, 'ns', 'pid'));
    const uid = String(process.uid);
    await writeFile(
      join(dir, 'status'),
      `Name:\t${process.name}\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nCapBnd:\t${process.capBnd.toString(16).padStart(16, '0')}\n`,
    );
    if (process.nofile !== undefined)
      await writeFile(
        join(dir, 'limits'),
        `Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 ${process.nofile}                files\n`,
      );
  }
  return proc;
}

describe('doctor: the engine daemons in /proc', () => {
  it("reads the capability bound and open-file limit of the engine user's daemons in this PID namespace only", async () => {
    const proc = await fakeProc([
      { name: 'dockerd', uid: 0, capBnd: FULL & ~bit(SYS_RESOURCE), nofile: 20000 },
      { name: 'containerd', uid: 0, capBnd: FULL & ~bit(SYS_RESOURCE), nofile: 1048576 },
      { name: 'containerd', uid: 0, capBnd: FULL & ~bit(SYS_RESOURCE) & ~bit(SYS_ADMIN), elsewhere: true },
      { name: 'containerd', uid: 1000, capBnd: 0n },
      { name: 'bash', uid: 0, capBnd: 0n },
    ]);
    const found = await engineProcesses(0, proc);
    assert.deepEqual(
      found.map((daemon) => [daemon.name, daemon.capabilityBound === (FULL & ~bit(SYS_RESOURCE)), daemon.nofileHard]),
      [
        ['dockerd', true, 20000],
        ['containerd', true, 1048576],
      ],
    );
  });

  it('finds nothing where /proc cannot be read', async () => {
    assert.deepEqual(await engineProcesses(0, join(tmpdir(), 'kiab-no-such-proc')), []);
  });
});

describe('doctor: what each finding says', () => {
  it('capabilities: an engine without SYS_RESOURCE is fine, one without another capability is not', () => {
    assert.equal(capabilitiesFinding(FULL).status, 'ok');
    const lacking = capabilitiesFinding(FULL & ~bit(SYS_RESOURCE));
    assert.equal(lacking.status, 'ok');
    assert.match(lacking.message, /lacks CAP_SYS_RESOURCE.*never ask for it/);
    const restricted = capabilitiesFinding(FULL & ~bit(SYS_RESOURCE) & ~bit(SYS_ADMIN));
    assert.equal(restricted.status, 'warn');
    assert.match(restricted.message, /lacks CAP_SYS_ADMIN:/);
    assert.doesNotMatch(restricted.message, /CAP_SYS_RESOURCE/, 'the one machines never ask for is not named as missing');
    assert.equal(capabilitiesFinding(undefined).status, 'warn');
  });

  it('inotify: how many more clusters fit, or the sysctl and a value when none does', () => {
    const need = { instances: 43, watches: 600 };
    const roomy = inotifyFinding({ maxInstances: 512, maxWatches: 524288, instances: 100, watches: 1000 }, need, '1 server + 1 worker of kubeadm');
    assert.equal(roomy.status, 'ok');
    assert.match(roomy.message, /^room for 9 more clusters of 1 server \+ 1 worker of kubeadm \(412 of 512 instances/);
    const full = inotifyFinding({ maxInstances: 128, maxWatches: 524288, instances: 100, watches: 1000 }, need, '1 server + 1 worker of kubeadm');
    assert.equal(full.status, 'fail');
    assert.match(full.message, /fs\.inotify\.max_user_instances is 128 with 100 in use/);
    assert.match(full.fix ?? '', /sysctl -w fs\.inotify\.max_user_instances=\d+/);
    assert.equal(inotifyFinding(undefined, need, 'x').status, 'warn', 'not seen is not refused');
  });

  it('disk: fails below 1 GiB, warns below 10 GiB', () => {
    const gib = 2 ** 30;
    assert.deepEqual(
      [0.5, 4, 40].map((free) => diskFinding('/var/lib/docker', free * gib).status),
      ['fail', 'warn', 'ok'],
    );
    assert.match(diskFinding('/var/lib/docker', 0.5 * gib).fix ?? '', /docker system prune/);
    assert.equal(diskFinding('/var/lib/docker', undefined).status, 'warn');
  });

  it('engine: refuses one too old for private cgroup namespaces, and says how to start one that is down', () => {
    assert.equal(engineFinding('unix:///x', { version: '20.10.24', apiVersion: '1.41' }).status, 'ok');
    assert.equal(engineFinding('unix:///x', { version: '28.1.0', apiVersion: '1.49' }).status, 'ok');
    assert.equal(engineFinding('unix:///x', { version: '19.03.1', apiVersion: '1.40' }).status, 'fail');
    const down = engineFinding('unix:///x', { error: new KiabError('cannot reach the Docker engine', { hint: 'start it' }) });
    assert.deepEqual([down.status, down.message, down.fix], ['fail', 'cannot reach the Docker engine', 'start it']);
  });

  it('kernel: /dev/kmsg blocks, missing modules warn with the modprobe to run', async () => {
    assert.equal(kmsgFinding(true).status, 'ok');
    assert.match(kmsgFinding(false).fix ?? '', /mknod -m 600 \/dev\/kmsg c 1 11/);
    const proc = await mkdtemp(join(tmpdir(), 'kiab-proc-'));
    await writeFile(join(proc, 'filesystems'), 'nodev\tsysfs\nnodev\toverlay\n\text4\n');
    const features = await kernelFeatures(proc);
    assert.deepEqual(features, { bridgeNetfilter: false, overlay: true });
    const [bridge, overlay] = kernelFindings(features);
    assert.deepEqual([bridge?.id, bridge?.status, overlay?.status], ['br_netfilter', 'warn', 'ok']);
    assert.match(bridge?.fix ?? '', /modprobe br_netfilter/);
  });

  it('nofile, cgroup and go say what kiab does about them', () => {
    assert.equal(nofileFinding(20000).status, 'ok');
    assert.equal(nofileFinding(4096).status, 'warn');
    assert.equal(cgroupFinding({ cgroupVersion: '2', cgroupDriver: 'systemd' }).status, 'ok');
    assert.match(cgroupFinding({ cgroupVersion: '1', cgroupDriver: 'cgroupfs' }).message, /failCgroupV1: false/);
    assert.equal(goFinding('go1.26.8', false).status, 'ok');
    assert.equal(goFinding(undefined, true).status, 'ok', 'Go is not needed while the assets are cached');
    assert.equal(goFinding(undefined, false).status, 'warn');
  });
});

describe('doctor: the report', () => {
  it('reports every check in order; an engine on another host is not refused on a guess', async () => {
    const report = await doctor(engine());
    assert.deepEqual(
      report.checks.map((check) => check.id),
      ['engine', 'cgroup', 'capabilities', 'kmsg', 'nofile', 'inotify', 'disk', 'br_netfilter', 'overlay', 'iptables', 'ipvs', 'ipv6', 'assets', 'go'],
    );
    assert.equal(report.checks.find((check) => check.id === 'kmsg')?.status, 'warn');
    assert.match(report.checks.find((check) => check.id === 'assets')?.message ?? '', /^no kubeadm v1\.37\.2 assets in .*downloads the release/);
    assert.equal(report.ready, true);
    await ensureHostReady(engine(), distributionFor('kubeadm'), [{ role: 'server' }]);
  });

  it('is not ready when the engine does not answer', async () => {
    const provider = engine();
    provider.failNext('ping', undefined, new KiabError('cannot reach the Docker engine at fake://engine', { hint: 'start it' }));
    const report = await doctor(provider);
    assert.equal(report.ready, false);
    assert.deepEqual(report.checks[0], { id: 'engine', status: 'fail', message: 'cannot reach the Docker engine at fake://engine', fix: 'start it' });
    assert.equal(report.checks.find((check) => check.id === 'cgroup')?.status, 'warn');
  });
});

describe('doctor: IPv6 in the kernel', () => {
  it('reads the kernel switch, and says which clusters can run and the fix when IPv6 is off or missing', async () => {
    const proc = await mkdtemp(join(tmpdir(), 'kiab-proc-'));
    assert.equal(await ipv6Enabled(proc), undefined);
    await mkdir(join(proc, 'sys/net/ipv6/conf/all'), { recursive: true });
    await writeFile(join(proc, 'sys/net/ipv6/conf/all/disable_ipv6'), '1\n');
    assert.equal(await ipv6Enabled(proc), false);
    const off = ipv6Finding(false);
    assert.equal(off.status, 'warn');
    assert.match(off.message, /net\.ipv6\.conf\.all\.disable_ipv6 = 1/);
    assert.match(off.fix ?? '', /sysctl -w net\.ipv6\.conf\.all\.disable_ipv6=0/);
    await writeFile(join(proc, 'sys/net/ipv6/conf/all/disable_ipv6'), '0\n');
    assert.equal(await ipv6Enabled(proc), true);
    assert.equal(ipv6Finding(true).status, 'ok');
    assert.equal(ipv6Finding(undefined).status, 'warn');
  });
});
