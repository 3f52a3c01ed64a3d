// `kiab port add` on a bare 1+1 cluster: the time from the command's start until the new host port
// answers with the greeting of a listener on the worker (a TCP read through the door and the box), then
// `kiab port rm`. Always 10 runs: the figure is a median of 10 whatever KIAB_BENCH_RUNS says.
import { connect, createServer } from 'node:net';
import { must } from '../proc.js';
import { figure, type Figure } from '../stats.js';
import { log } from './common.js';

/** On a shared engine, KIAB_BENCH_PORTS_CLUSTER names the cluster after its owner. */
export const PORTS_CLUSTER = process.env.KIAB_BENCH_PORTS_CLUSTER ?? 'bench-ports';
const TARGET = 30991;
const RUNS = 10;

export interface PortsResult {
  /** `kiab port add` until a connection to the new port reads the worker's greeting. */
  addUntilAnswering: Figure;
  /** `kiab port rm` until it returns. */
  remove: Figure;
}

function freeHostPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves true once the far end sent something and closed. */
function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(data.startsWith('greeting')));
  });
}

export async function ports(): Promise<PortsResult> {
  log(`ports: up ${PORTS_CLUSTER} (1+1, bare) with a listener on the worker's port ${TARGET}`);
  await must('kiab', ['up', PORTS_CLUSTER, '--k8s', 'none', '--servers', '1', '--workers', '1']);
  const worker = `kiab-${PORTS_CLUSTER}-worker-0`;
  await must('kiab', [
    'exec',
    worker,
    '--',
    'systemd-run',
    '--unit=kiab-bench-greeter',
    'socat',
    `TCP-LISTEN:${TARGET},fork,reuseaddr`,
    'SYSTEM:echo greeting',
  ]);
  const add: number[] = [];
  const remove: number[] = [];
  for (let index = 0; index < RUNS; index += 1) {
    const port = await freeHostPort();
    const start = performance.now();
    await must('kiab', ['port', 'add', PORTS_CLUSTER, `${port}:${TARGET}`]);
    while (!(await greets(port))) {
      if (performance.now() - start > 30_000) throw new Error(`port ${port} did not answer within 30 s of port add`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    add.push(performance.now() - start);
    const removing = performance.now();
    await must('kiab', ['port', 'rm', PORTS_CLUSTER, String(port)]);
    remove.push(performance.now() - removing);
  }
  await must('kiab', ['delete', PORTS_CLUSTER]);
  return { addUntilAnswering: figure(add), remove: figure(remove) };
}
