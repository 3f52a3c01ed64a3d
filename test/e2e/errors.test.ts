import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ipvsSupport } from '../../src/host/ipvs.js';
import { kiab, labelledObjects, type Run, tempDir } from './helpers.js';

const CLUSTER = 'e2e-errors';
const IPVS_LOADED = (await ipvsSupport()).loaded;

function assertOneLineRefusal(result: Run, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, `exit code; stderr: ${result.stderr}`);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got: ${result.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

async function assertNothingCreated(cluster: string): Promise<void> {
  assert.deepEqual(await labelledObjects(cluster), { containers: [], networks: [], volumes: [] });
}

describe('bad input and faults are refused cleanly', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('kiab-errors-');
    await kiab(['delete', CLUSTER]);
  });
  after(async () => {
    await kiab(['delete', CLUSTER]);
  });

  it('an invalid NAME: exit 2, one line naming it, nothing created', async () => {
    assertOneLineRefusal(await kiab(['up', 'Bad_Name']), 2, /NAME: "?.*DNS-1123/);
    await assertNothingCreated('Bad_Name');
  });

  it('an unknown flag: exit 2, one line', async () => {
    assertOneLineRefusal(await kiab(['up', CLUSTER, '--wrokers', '2']), 2, /unknown option '--wrokers'/);
    await assertNothingCreated(CLUSTER);
  });

  it('a bad duration: exit 2, one line naming --wait', async () => {
    assertOneLineRefusal(await kiab(['up', CLUSTER, '--wait', 'soon']), 2, /^kiab: --wait: /);
    await assertNothingCreated(CLUSTER);
  });

  it('a bad count: exit 2, one line naming --workers', async () => {
    assertOneLineRefusal(await kiab(['up', CLUSTER, '--workers', 'two']), 2, /--workers/);
    await assertNothingCreated(CLUSTER);
  });

  it('an invalid kiab.yaml: exit 2, one line with file, line and field', async () => {
    const file = join(dir, 'kiab.yaml');
    await writeFile(file, `name: ${CLUSTER}\nservers: 1\nworkers: -1\n`);
    assertOneLineRefusal(await kiab(['up', '--config', file]), 2, new RegExp(`${file.replace(/[.]/g, '\\.')}:3:10: workers: `));
    await writeFile(file, `name: ${CLUSTER}\nregistry:\n  enabled: true\n  mirror: yes\n`);
    assertOneLineRefusal(await kiab(['up', '--config', file]), 2, /kiab\.yaml:4:3: registry: unknown field "mirror"/);
    await assertNothingCreated(CLUSTER);
  });

  it('an unreachable engine: exit 1, one line naming the endpoint and how to start it', async () => {
    const result = await kiab(['up', CLUSTER], { env: { ...process.env, DOCKER_HOST: 'unix:///run/kiab-no-such-engine.sock' } });
    assertOneLineRefusal(result, 1, /cannot reach the Docker engine at unix:\/\/\/run\/kiab-no-such-engine\.sock .*start it/);
    const verbose = await kiab(['up', CLUSTER, '--verbose'], { env: { ...process.env, DOCKER_HOST: 'unix:///run/kiab-no-such-engine.sock' } });
    assert.equal(verbose.code, 1);
    assert.match(verbose.stderr, /\n\s+at /, 'the cause chain with --verbose');
  });

  it(
    'kube-proxy in ipvs mode on a kernel without IPVS: exit 1, one line with the reason, nothing created',
    { skip: IPVS_LOADED && 'this kernel has IPVS' },
    async () => {
      const file = join(dir, 'ipvs.yaml');
      await writeFile(file, `name: ${CLUSTER}\nnetworking:\n  kubeProxyMode: ipvs\n`);
      assertOneLineRefusal(await kiab(['up', '--config', file]), 1, /kube-proxy's ipvs mode cannot run here, so networking\.kubeProxyMode: ipvs is refused/);
      await assertNothingCreated(CLUSTER);
      const doctor = await kiab(['doctor']);
      assert.match(doctor.stdout, /ipvs .*networking\.kubeProxyMode: ipvs is refused/);
    },
  );

  describe('a host port already taken', () => {
    let server: Server;
    let port: number;
    before(async () => {
      server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    after(() => server.close());

    it('is refused before anything is created', async () => {
      const file = join(dir, 'ports.yaml');
      await writeFile(file, `name: ${CLUSTER}\ndistribution: none\nports:\n  api: ${port}\n`);
      assertOneLineRefusal(await kiab(['up', '--config', file]), 1, new RegExp(`ports\\.api: host port ${port} is already in use`));
      await assertNothingCreated(CLUSTER);
    });
  });

  it('status of a missing cluster says so and exits 1', async () => {
    assertOneLineRefusal(await kiab(['status', 'e2e-never-made']), 1, /cluster e2e-never-made does not exist/);
  });
});
