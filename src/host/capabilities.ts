import { ok, warn, type Finding } from './finding.js';

/** Linux capabilities by bit number (linux/capability.h). */
const CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
] as const;

const SYS_RESOURCE = CAPABILITIES.indexOf('SYS_RESOURCE');
/**
 * What every engine's `--cap-add ALL` has asked for since Linux 3.16 (up to AUDIT_READ); the three newer
 * ones are left to engines that know them. A machine asks for all of these but SYS_RESOURCE.
 */
const ALL_OF_EVERY_ENGINE = CAPABILITIES.indexOf('AUDIT_READ');

function missing(bound: bigint): string[] {
  const names: string[] = [];
  for (let bit = 0; bit <= ALL_OF_EVERY_ENGINE; bit += 1) if (bit !== SYS_RESOURCE && !(bound & (1n << BigInt(bit)))) names.push(`CAP_${CAPABILITIES[bit]}`);
  return names;
}

/**
 * Judges the capability bounding set of the engine's daemons (undefined: not seen). kiab's machines get
 * every capability but SYS_RESOURCE, so an engine without SYS_RESOURCE (where `--privileged` fails) is fine;
 * one without another capability cannot start them.
 */
export function capabilitiesFinding(bound: bigint | undefined): Finding {
  const id = 'capabilities';
  if (bound === undefined)
    return warn(
      id,
      "not checked: no engine daemon (dockerd, containerd, podman) of the engine's user is visible in this host's /proc",
      'run `kiab doctor` where the engine runs, as root',
    );
  const lacking = missing(bound);
  if (lacking.length > 0)
    return warn(
      id,
      `the engine lacks ${lacking.join(', ')}: machines ask for every capability but SYS_RESOURCE, so the engine will refuse to start them ("unable to apply caps")`,
      'run the engine with its full capability set (not in a restricted container, no CapabilityBoundingSet= in its systemd unit)',
    );
  if (!(bound & (1n << BigInt(SYS_RESOURCE))))
    return ok(
      id,
      "the engine lacks CAP_SYS_RESOURCE (so `docker run --privileged` fails here); kiab's machines never ask for it: containerd's restrict_oom_score_adj is on and every unit's LimitNOFILE is capped at the machine's hard limit",
    );
  return ok(id, 'the engine has every capability machines ask for (all but CAP_SYS_RESOURCE, which they run without on every host)');
}
