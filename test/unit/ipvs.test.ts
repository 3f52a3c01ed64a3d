import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { ipvsFinding, ipvsSupport } from '../../src/host/ipvs.js';

async function proc(config: string | undefined, loaded: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiab-ipvs-'));
  await mkdir(join(dir, 'net'));
  if (loaded) await writeFile(join(dir, 'net', 'ip_vs'), '');
  if (config !== undefined) await writeFile(join(dir, 'config.gz'), gzipSync(config));
  return dir;
}

describe('IPVS for kube-proxy', () => {
  it('reads a kernel built without it and refuses ipvs for a cluster that asks, with the reason', async () => {
    const support = await ipvsSupport(await proc('CONFIG_NF_TABLES=y\n# CONFIG_IP_VS is not set\n', false));
    assert.deepEqual(support, { loaded: false, config: 'unset' });
    const asked = ipvsFinding(support, true);
    assert.equal(asked.status, 'fail');
    assert.match(asked.message, /built without IPVS \(CONFIG_IP_VS is not set\).*networking\.kubeProxyMode: ipvs is refused/);
    assert.match(asked.fix ?? '', /iptables \(the default\) or nftables/);
    assert.equal(ipvsFinding(support, false).status, 'warn');
  });

  it('names modprobe for a module not loaded, and is content when IPVS is there', async () => {
    const module = await ipvsSupport(await proc('CONFIG_IP_VS=m\n', false));
    assert.deepEqual(module, { loaded: false, config: 'm' });
    assert.match(ipvsFinding(module, true).fix ?? '', /modprobe ip_vs/);
    const loaded = await ipvsSupport(await proc(undefined, true));
    assert.deepEqual(loaded, { loaded: true, config: 'unknown' });
    assert.equal(ipvsFinding(loaded, true).status, 'ok');
  });
});
