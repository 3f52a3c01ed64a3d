import { ok, warn, type Finding } from './finding.js';

/** Judges the engine's cgroup version (from the engine's own info, so it holds for a remote engine too). */
export function cgroupFinding(engine: { cgroupVersion: string; cgroupDriver: string }): Finding {
  const layout = `cgroup v${engine.cgroupVersion} (${engine.cgroupDriver} driver)`;
  if (engine.cgroupVersion === '2') return ok('cgroup', `${layout}: each machine gets a private cgroup namespace of its own`);
  return warn(
    'cgroup',
    `${layout}: Kubernetes 1.35 and later refuse v1 unless told, so kiab tells them (failCgroupV1: false) and machines run systemd 257, the last that boots on v1; a later Kubernetes may drop v1 altogether`,
    'move the host to cgroup v2 when you can (kernel command line `systemd.unified_cgroup_hierarchy=1`, then reboot)',
  );
}
