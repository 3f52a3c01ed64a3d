import { runProcess } from '../process.js';
import { ok, warn, type Finding } from './finding.js';

export type IptablesBackend = 'nf_tables' | 'legacy';

/** The backend of the host's `iptables` (the one the engine calls for its networks), or undefined without one. */
export async function iptablesBackend(): Promise<IptablesBackend | undefined> {
  const answer = await runProcess('iptables', ['--version']).catch(() => '');
  if (/nf_tables/.test(answer)) return 'nf_tables';
  return /iptables v/.test(answer) ? 'legacy' : undefined;
}

export function iptablesFinding(backend: IptablesBackend | undefined): Finding {
  const machines = 'machines use nftables and fall back to legacy iptables by themselves on a kernel without nf_tables';
  if (backend === undefined)
    return warn(
      'iptables',
      'the host has no working `iptables`: the engine needs it for the networks and published ports of every cluster',
      'install it (`apt-get install iptables`)',
    );
  return ok('iptables', `the host's iptables uses ${backend === 'nf_tables' ? 'nftables (iptables-nft)' : 'legacy iptables'}; ${machines}`);
}
