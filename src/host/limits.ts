import { ok, warn, type Finding } from './finding.js';

/**
 * Below this many open files a control plane (etcd, kube-apiserver, kubelet, each capped at the machine's
 * hard limit) can run out of descriptors under ordinary load; 20000 is plenty for a local cluster.
 */
const NOFILE_ENOUGH = 16384;

/** Judges the hard NOFILE limit machines inherit from the engine (undefined: not seen). */
export function nofileFinding(hard: number | undefined): Finding {
  const id = 'nofile';
  const fix =
    'raise LimitNOFILE of the engine (`systemctl edit docker.service containerd.service`: [Service] LimitNOFILE=1048576), then restart it; or set default-ulimits in /etc/docker/daemon.json';
  if (hard === undefined) return warn(id, "not checked: the engine's open-file limit is not visible in this host's /proc", null);
  const shown = hard === Number.MAX_SAFE_INTEGER ? 'unlimited' : String(hard);
  if (hard < NOFILE_ENOUGH)
    return warn(id, `machines may open at most ${shown} files per process (the engine's hard limit): a control plane can run out below ${NOFILE_ENOUGH}`, fix);
  return ok(
    id,
    `machines may open ${shown} files per process (the engine's hard limit); kiab caps every unit's LimitNOFILE at it, as units asking for more fail to start (205/LIMITS)`,
  );
}
